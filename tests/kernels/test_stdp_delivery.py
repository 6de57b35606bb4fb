"""deliver_stdp against a per-synapse Python reference of NEST's stdp_synapse and
stdp_pl_synapse_hom: multapses, several delays, several post spikes in one window,
wrapped history rings, a parrot's repeated spike (n events, as NEST unrolls a multiplicity),
post histories with several spikes in one step, sources outside the projection."""
import math

import numpy as np
import pytest

from cython_kernels.stdp import DeliveryCache, deliver_stdp

DT, TAU_PLUS, LAM, ALPHA, MU_PLUS, MU_MINUS, WMAX = 0.1, 15.0, 0.1, 0.0513, 0.4, 1.0, 300.0
N_SOURCES, N_LOCAL, SOURCE_OFFSET, CAP, RING_LEN, FIRST_STEP = 40, 12, 5, 16, 40, 1000


def facilitate(w, kplus, power_law):
    if power_law:
        return w + (LAM * math.pow(w, MU_PLUS) * kplus)
    norm_w = (w / WMAX) + (LAM * math.pow(1.0 - (w / WMAX), MU_PLUS) * kplus)
    return norm_w * WMAX if norm_w < 1.0 else WMAX


def depress(w, kminus, power_law):
    if power_law:
        new_w = w - (LAM * ALPHA * w * kminus)
        return new_w if new_w > 0.0 else 0.0
    norm_w = (w / WMAX) - (ALPHA * LAM * math.pow(w / WMAX, MU_MINUS) * kminus)
    return norm_w * WMAX if norm_w > 0.0 else 0.0


def reference(keys, net, power_law):
    """The semantics of the module docstring, one synapse at a time."""
    w_all, kplus, t_last, ring = (net[k].copy() for k in ("weights", "kplus", "t_last", "ring"))
    hs, hk, head, count, tau_minus = (net[k] for k in ("hs", "hk", "head", "count", "tau_minus"))
    for key in keys:
        gid, lag = int(key) & 0xffffffff, int(key) >> 32
        s = gid - SOURCE_OFFSET
        if not 0 <= s < kplus.shape[0]:
            continue
        t, kp, tl = FIRST_STEP + lag + 1, kplus[s], int(t_last[s])
        # every key is one event, also a repeated one (multiplicity: NEST unrolls it)
        for syn in range(net["row_ptr"][gid], net["row_ptr"][gid + 1]):
            tgt, d, w = int(net["targets"][syn]), int(net["delays"][syn]), w_all[syn]
            entries = [(int(hs[tgt, (head[tgt] + j) % CAP]), hk[tgt, (head[tgt] + j) % CAP])
                       for j in range(count[tgt])]
            for step, _ in entries:
                if tl - d < step <= t - d:
                    w = facilitate(w, kp * math.exp((tl - (step + d)) * DT / TAU_PLUS),
                                   power_law)
            before = [e for e in entries if e[0] < t - d]
            kminus = (before[-1][1] * math.exp((before[-1][0] - (t - d)) * DT
                                               / tau_minus[tgt]) if before else 0.0)
            w = depress(w, kminus, power_law)
            w_all[syn] = w
            ring[(FIRST_STEP + lag + d) % RING_LEN, tgt, 1 if w < 0 else 0] += w
        kplus[s] = kp * math.exp((tl - t) * DT / TAU_PLUS) + 1.0
        t_last[s] = t
    return w_all, kplus, t_last, ring


def random_network(seed):
    rng = np.random.default_rng(seed)
    n_gids = SOURCE_OFFSET + N_SOURCES + 3
    lengths = rng.integers(0, 30, n_gids)
    row_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    n = int(row_ptr[-1])
    # few targets: many multapses; delays 1..4 steps
    net = {"row_ptr": row_ptr,
           "targets": np.sort(rng.integers(0, N_LOCAL, n)).astype(np.uint32),
           "delays": rng.integers(1, 5, n).astype(np.uint16),
           "weights": rng.uniform(1.0, 100.0, n),
           "kplus": rng.uniform(0.0, 3.0, N_SOURCES),
           "t_last": rng.integers(FIRST_STEP - 120, FIRST_STEP - 2, N_SOURCES).astype(np.int64),
           "ring": np.zeros((RING_LEN, N_LOCAL, 2)),
           "tau_minus": rng.uniform(10.0, 40.0, N_LOCAL)}
    # post histories: non-decreasing stamps (a step repeats when the target spiked several
    # times in it), dense around the windows, wrapped rings
    hs = np.zeros((N_LOCAL, CAP), np.int64)
    hk = np.zeros((N_LOCAL, CAP))
    head = rng.integers(0, CAP, N_LOCAL).astype(np.int64)
    count = rng.integers(0, CAP + 1, N_LOCAL).astype(np.int64)
    for i in range(N_LOCAL):
        stamps = np.sort(rng.choice(np.arange(FIRST_STEP - 140, FIRST_STEP + 1), count[i]))
        for j, stamp in enumerate(stamps):
            hs[i, (head[i] + j) % CAP] = stamp
            hk[i, (head[i] + j) % CAP] = rng.uniform(0.5, 4.0)
    net.update(hs=hs, hk=hk, head=head, count=count)
    return net, rng


def spike_keys(rng):
    gids = rng.integers(0, SOURCE_OFFSET + N_SOURCES + 3, 60).astype(np.uint64)
    lags = rng.integers(0, 4, 60).astype(np.uint64)
    keys = np.sort((lags << np.uint64(32)) | gids)
    # the same source two and three times in one step (multiplicity)
    return np.insert(keys, [10, 20, 20], keys[[10, 20, 20]])


def run_kernel(keys, net, power_law, cache):
    w, kplus, t_last, ring = (net[k].copy() for k in ("weights", "kplus", "t_last", "ring"))
    deliver_stdp(keys, keys.shape[0], FIRST_STEP, net["row_ptr"], net["targets"], w,
                 net["delays"], SOURCE_OFFSET, kplus, t_last, net["hs"], net["hk"],
                 net["head"], net["count"], net["tau_minus"], DT, TAU_PLUS, LAM, ALPHA,
                 MU_PLUS, MU_MINUS, WMAX, ring, cache, power_law)
    return w, kplus, t_last, ring


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pair_rule_equals_reference_bit_for_bit(seed):
    net, rng = random_network(seed)
    keys = spike_keys(rng)
    got = run_kernel(keys, net, 0, DeliveryCache(N_LOCAL))
    for actual, expected in zip(got, reference(keys, net, 0)):
        np.testing.assert_array_equal(actual, expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_power_law_rounds_equal_reference(seed):
    net, rng = random_network(seed)
    keys = spike_keys(rng)
    cache = DeliveryCache(N_LOCAL)
    w, kplus, t_last, ring = run_kernel(keys, net, 1, cache)
    ref_w, ref_kplus, ref_t_last, ref_ring = reference(keys, net, 1)
    assert not np.array_equal(ref_w, net["weights"])          # the rule did something
    np.testing.assert_allclose(w, ref_w, rtol=1e-14)          # batched pow: a few ulp
    np.testing.assert_allclose(ring, ref_ring, rtol=1e-13)
    np.testing.assert_array_equal(kplus, ref_kplus)
    np.testing.assert_array_equal(t_last, ref_t_last)
    # the memo is reused by the next call without stale entries
    again = run_kernel(keys, net, 1, cache)
    np.testing.assert_array_equal(again[0], w)


def test_windows_hold_several_post_spikes():
    """The rounds are exercised: some synapse facilitates more than once per spike."""
    net, rng = random_network(1)
    keys = spike_keys(rng)
    most = 0
    for key in keys:
        gid, lag = int(key) & 0xffffffff, int(key) >> 32
        s = gid - SOURCE_OFFSET
        if not 0 <= s < N_SOURCES:
            continue
        t, tl = FIRST_STEP + lag + 1, int(net["t_last"][s])
        for syn in range(net["row_ptr"][gid], net["row_ptr"][gid + 1]):
            tgt, d = int(net["targets"][syn]), int(net["delays"][syn])
            stamps = net["hs"][tgt, (net["head"][tgt] + np.arange(net["count"][tgt])) % CAP]
            most = max(most, int(np.sum((stamps > tl - d) & (stamps <= t - d))))
    assert most >= 3


def test_refuses_mismatched_arrays():
    net, rng = random_network(1)
    keys = spike_keys(rng)
    with pytest.raises(ValueError, match="n_local"):
        run_kernel(keys, net, 1, DeliveryCache(N_LOCAL - 1))
    net["hs"], net["hk"] = net["hs"][:, :12].copy(), net["hk"][:, :12].copy()
    with pytest.raises(ValueError, match="power of two"):
        run_kernel(keys, net, 1, DeliveryCache(N_LOCAL))
