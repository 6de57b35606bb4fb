"""NumPy / pure-Python twins of the compiled kernels, used only as test oracles.

Each twin follows its kernel's documented algorithm operation by operation (same order of
floating-point operations), so the kernels must agree with them bit for bit.
"""
import math

import numpy as np

M32 = 0xFFFFFFFF
PHILOX_M0, PHILOX_M1 = 0xD2511F53, 0xCD9E8D57
PHILOX_W0, PHILOX_W1 = 0x9E3779B9, 0xBB67AE85
SOURCE, WEIGHT, DELAY, INIT, POISSON, BERNOULLI = 1, 2, 3, 4, 5, 6


# ----------------------------------------------------------------------------- Philox
def philox4x32_np(c0, c1, c2, c3, k0, k1):
    """Vectorised Philox4x32-10 on uint64 arrays holding 32-bit words."""
    c0, c1, c2, c3, k0, k1 = (np.asarray(x, dtype=np.uint64) & np.uint64(M32)
                              for x in (c0, c1, c2, c3, k0, k1))
    m32 = np.uint64(M32)
    for r in range(10):
        if r:
            k0 = (k0 + np.uint64(PHILOX_W0)) & m32
            k1 = (k1 + np.uint64(PHILOX_W1)) & m32
        p0 = c0 * np.uint64(PHILOX_M0)
        p1 = c2 * np.uint64(PHILOX_M1)
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ k0, p1 & m32,
                          (p0 >> np.uint64(32)) ^ c3 ^ k1, p0 & m32)
    return c0, c1, c2, c3


def philox4x32_py(c0, c1, c2, c3, k0, k1):
    """Scalar Philox4x32-10 on Python ints (for the per-draw twins)."""
    for r in range(10):
        if r:
            k0 = (k0 + PHILOX_W0) & M32
            k1 = (k1 + PHILOX_W1) & M32
        p0 = c0 * PHILOX_M0
        p1 = c2 * PHILOX_M1
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & M32, (p0 >> 32) ^ c3 ^ k1, p0 & M32
    return c0, c1, c2, c3


def stream_words(seed, kind, item, c2, c0, c1):
    return philox4x32_py(c0 & M32, c1 & M32, c2 & M32, (kind << 24) | item,
                         seed & M32, seed >> 32)


def word_a(w):
    return w[0] | (w[1] << 32)


def word_b(w):
    return w[2] | (w[3] << 32)


def unit(x):
    return float(x >> 11) * (1.0 / 9007199254740992.0)


def uniform01(seed, kind, item, c2, c0, c1):
    return unit(word_a(stream_words(seed, kind, item, c2, c0, c1)))


def uniform_array_np(seed, kind, item, gids, c0):
    gids = np.asarray(gids, dtype=np.uint64)
    z = np.zeros_like(gids)
    w0, w1, _, _ = philox4x32_np(z + np.uint64(c0), z, gids, z + np.uint64((kind << 24) | item),
                                 z + np.uint64(seed & M32), z + np.uint64(seed >> 32))
    a = w0 | (w1 << np.uint64(32))
    return (a >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def uniform_index(word, n):
    return (word * n) >> 64


def normal(seed, kind, item, c2, c0, c1):
    w = stream_words(seed, kind, item, c2, c0, c1)
    u1 = 1.0 - unit(word_a(w))
    u2 = unit(word_b(w))
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def draw_distribution(seed, kind, item, c2, c0, code, params):
    a, b, lo, hi = params
    if code == 0:
        return a
    for attempt in range(10000):
        if code == 1:
            x = a + b * normal(seed, kind, item, c2, c0, attempt)
        elif code == 2:
            x = a + (b - a) * uniform01(seed, kind, item, c2, c0, attempt)
        else:
            x = math.exp(a + b * normal(seed, kind, item, c2, c0, attempt))
        if lo <= x <= hi:
            return x
    raise ValueError("redraw failed")


def draw_normal_pair(seed, kind, item, c2, c0, params_x, params_y):
    """Marsaglia's polar method with joint redraw, as rng.draw_normal_pair."""
    for attempt in range(10000):
        words = stream_words(seed, kind, item, c2, c0, attempt)
        u = 2.0 * unit(word_a(words)) - 1.0
        v = 2.0 * unit(word_b(words)) - 1.0
        radius2 = u * u + v * v
        if radius2 >= 1.0 or radius2 == 0.0:
            continue
        factor = math.sqrt(-2.0 * math.log(radius2) / radius2)
        x = params_x[0] + params_x[1] * (u * factor)
        y = params_y[0] + params_y[1] * (v * factor)
        if params_x[2] <= x <= params_x[3] and params_y[2] <= y <= params_y[3]:
            return x, y
    raise ValueError("redraw failed")


# ----------------------------------------------------------------------------- Poisson
def poisson_sequential(u, lam):
    """Plain sequential inversion (the reference the CDF table must reproduce)."""
    k = 0
    p = math.exp(-lam)
    c = p
    while u >= c and p > 0.0:
        k += 1
        p = p * (lam / k)
        c = c + p
    return k


def poisson_count(seed, item, gid, e, lam):
    u = uniform01(seed, POISSON, item, gid, e & M32, e >> 32)
    return poisson_sequential(u, lam)


# ----------------------------------------------------------------------------- connect
def connect_twin(rule, seed, proj, source_offset, source_size, target_gids, counts,
                 probability, allow_autapses, allow_multapses, weight_code, weight_params,
                 delay_code, delay_params, dt, target_offset=0):
    """Synapses of each target as {target gid: [(source gid, weight, delay_steps), ...]}
    in k order."""
    out = {}
    for t, gid in enumerate(target_gids):
        gid = int(gid)
        self_idx = -1
        if not allow_autapses and source_offset <= gid < source_offset + source_size:
            self_idx = gid - source_offset
        n_avail = source_size - (self_idx >= 0)

        def skip_self(r):
            return r + 1 if (self_idx >= 0 and r >= self_idx) else r

        sources = []
        if rule == 0:
            m = int(counts[t])
            if allow_multapses:
                for k in range(m):
                    r = uniform_index(word_a(stream_words(seed, SOURCE, proj, gid, k, 0)), n_avail)
                    sources.append(skip_self(r))
            else:
                chosen = set()
                for j in range(n_avail - m, n_avail):
                    k = j - (n_avail - m)
                    r = uniform_index(word_a(stream_words(seed, SOURCE, proj, gid, k, 1)), j + 1)
                    if r in chosen:
                        r = j
                    chosen.add(r)
                    sources.append(skip_self(r))
        elif rule == 1:
            if probability >= 1.0:
                sources = [skip_self(r) for r in range(n_avail)]
            elif probability > 0.0:
                log_q = math.log1p(-probability)
                pos, d = 0, 0
                while True:
                    u = 1.0 - uniform01(seed, BERNOULLI, proj, gid, d, 0)
                    d += 1
                    skip = math.floor(math.log(u) / log_q)
                    if skip >= n_avail - pos:
                        break
                    pos += skip
                    sources.append(skip_self(pos))
                    pos += 1
                    if pos >= n_avail:
                        break
        elif rule == 2:
            r = gid - target_offset
            if not (self_idx >= 0 and r == self_idx):
                sources.append(r)
        else:
            sources = [skip_self(r) for r in range(n_avail)]
        syns = []
        for k, r in enumerate(sources):
            if weight_code == 1 and delay_code == 1:
                w, d_ms = draw_normal_pair(seed, WEIGHT, proj, gid, k, weight_params,
                                           delay_params)
            else:
                w = draw_distribution(seed, WEIGHT, proj, gid, k, weight_code, weight_params)
                d_ms = draw_distribution(seed, DELAY, proj, gid, k, delay_code, delay_params)
            syns.append((source_offset + r, w, int(math.floor(d_ms * (1.0 / dt) + 0.5))))
        out[gid] = syns
    return out


# ----------------------------------------------------------------------------- neurons
def _inputs_at(s, gid, seg, inputs, seed):
    """Poisson (ex, in) contributions in entry order, as the kernels add them."""
    terms = []
    for q in range(len(inputs["poisson_seg"])):
        if inputs["poisson_seg"][q] != seg:
            continue
        e = s - int(inputs["poisson_delay_steps"][q])
        if inputs["poisson_first_step"][q] <= e < inputs["poisson_stop_step"][q]:
            count = poisson_count(seed, int(inputs["poisson_item"][q]), gid, e,
                                  float(inputs["poisson_lambda"][q]))
            terms.append(float(count) * float(inputs["poisson_weight"][q]))
    return terms


def _dc_at(s, seg, inputs):
    i0 = 0.0
    for q in range(len(inputs["dc_seg"])):
        if inputs["dc_seg"][q] == seg and inputs["dc_first_step"][q] <= s < inputs["dc_stop_step"][q]:
            i0 = i0 + float(inputs["dc_amplitude"][q])
    return i0


def _stim(i0, i_ext, j, i):
    """The current generators' input of step first + j: i_0 (DC), plus i_ext[j, i] when
    the kernel gets per-neuron currents (noise_generator), added in that order."""
    return i0 if i_ext is None or len(i_ext) == 0 else i0 + float(i_ext[j, i])


def iaf_psc_exp_twin(seg_begin, seg_end, seg_params, state, ring, local_gids, inputs,
                     first_step, n_steps, seed, i_ext=None):
    """state: dict of arrays V_m, i_syn_ex, i_syn_in, i_0, refractory (modified in place);
    ring modified in place; i_ext: [n_steps, n_local] pA or None. Returns sorted list of
    spike keys."""
    keys = []
    ring_len = ring.shape[0]
    for seg in range(len(seg_begin)):
        P22, P21ex, P21in, P20, P11ex, P11in, I_e, theta, V_reset, refr = seg_params[seg]
        for i in range(seg_begin[seg], seg_end[seg]):
            V, ie, ii = state["V_m"][i], state["i_syn_ex"][i], state["i_syn_in"][i]
            i0, r, gid = state["i_0"][i], int(state["refractory"][i]), int(local_gids[i])
            for j in range(n_steps):
                s = first_step + j
                slot = s % ring_len
                if r == 0:
                    V = V * P22 + ie * P21ex + ii * P21in + (I_e + _stim(i0, i_ext, j, i)) * P20
                else:
                    r -= 1
                ie = ie * P11ex
                ii = ii * P11in
                in_ex, in_in = ring[slot, i, 0], ring[slot, i, 1]
                for q in range(len(inputs["poisson_seg"])):
                    if inputs["poisson_seg"][q] != seg:
                        continue
                    e = s - int(inputs["poisson_delay_steps"][q])
                    if inputs["poisson_first_step"][q] <= e < inputs["poisson_stop_step"][q]:
                        w = float(inputs["poisson_weight"][q])
                        c = float(poisson_count(seed, int(inputs["poisson_item"][q]), gid, e,
                                                float(inputs["poisson_lambda"][q])))
                        if w >= 0.0:
                            in_ex = in_ex + c * w
                        else:
                            in_in = in_in + c * w
                ie = ie + in_ex
                ii = ii + in_in
                ring[slot, i, :] = 0.0
                if V >= theta:
                    r = int(refr)
                    V = V_reset
                    keys.append((j << 32) | gid)
                i0 = _dc_at(s, seg, inputs)
            state["V_m"][i], state["i_syn_ex"][i], state["i_syn_in"][i] = V, ie, ii
            state["i_0"][i], state["refractory"][i] = i0, r
    return keys


def iaf_psc_delta_twin(seg_begin, seg_end, seg_params, state, ring, local_gids, inputs,
                       first_step, n_steps, seed, i_ext=None):
    """state: dict V_m, i_0, refractory, refr_spikes_buffer (modified in place)."""
    keys = []
    ring_len = ring.shape[0]
    for seg in range(len(seg_begin)):
        P33, P30, I_e, theta, V_reset, V_min, refr, refr_input, tau_m, h = seg_params[seg]
        for i in range(seg_begin[seg], seg_end[seg]):
            V, i0, r = state["V_m"][i], state["i_0"][i], int(state["refractory"][i])
            buf, gid = state["refr_spikes_buffer"][i], int(local_gids[i])
            for j in range(n_steps):
                s = first_step + j
                slot = s % ring_len
                inp = ring[slot, i, 0] + ring[slot, i, 1]
                for term in _inputs_at(s, gid, seg, inputs, seed):
                    inp = inp + term
                ring[slot, i, :] = 0.0
                if r == 0:
                    V = P30 * (_stim(i0, i_ext, j, i) + I_e) + P33 * V + inp
                    if refr_input and buf != 0.0:
                        V = V + buf
                        buf = 0.0
                    V = V_min if V < V_min else V
                else:
                    if refr_input:
                        buf = buf + inp * math.exp(-float(r) * h / tau_m)
                    r -= 1
                if V >= theta:
                    r = int(refr)
                    V = V_reset
                    keys.append((j << 32) | gid)
                i0 = _dc_at(s, seg, inputs)
            state["V_m"][i], state["i_0"][i], state["refractory"][i] = V, i0, r
            state["refr_spikes_buffer"][i] = buf
    return keys


# ----------------------------------------------------------------------------- delivery
def deliver_twin(spike_keys, epoch_first_step, row_ptr, targets, weights, delay_steps, ring):
    ring_len = ring.shape[0]
    for key in spike_keys:
        key = int(key)
        gid, lag = key & M32, key >> 32
        for syn in range(row_ptr[gid], row_ptr[gid + 1]):
            w = weights[syn]
            slot = (epoch_first_step + lag + int(delay_steps[syn])) % ring_len
            ring[slot, targets[syn], 1 if w < 0 else 0] += w
