"""iaf_psc_exp and iaf_psc_delta updates agree bit for bit with their twins."""
import numpy as np
import pytest

from cython_kernels import iaf_psc_exp, iaf_psc_delta, poisson
from cython_kernels.inputs import InputPlan
import kernel_twins as tw

SEED = 0xC0FFEE
RING_LEN = 7
N_LOCAL = 6
LOCAL_GIDS = np.array([3, 8, 13, 18, 23, 28], dtype=np.int64)   # rank 1 of 5, round-robin
SEG_BEGIN = np.array([0, 4], dtype=np.int64)
SEG_END = np.array([4, 6], dtype=np.int64)


def make_inputs(weights):
    """Two Poisson inputs on segment 0 (one excitatory, one inhibitory), one on segment 1,
    two DC inputs (one switching on and off inside the run)."""
    lam = np.array([1.6, 0.9, 60.0])            # 60: table cut at 64, tail path used
    tables = [poisson.cdf_table(x) for x in lam]
    cdf = np.zeros((3, 64))
    for q, t in enumerate(tables):
        cdf[q, :len(t)] = t
    return dict(
        poisson_seg=np.array([0, 0, 1], np.int64),
        poisson_item=np.array([0, 1, 2], np.int64),
        poisson_weight=np.asarray(weights, np.float64),
        poisson_delay_steps=np.array([1, 3, 2], np.int64),
        poisson_first_step=np.array([0, 5, 0], np.int64),
        poisson_stop_step=np.array([10**9, 30, 10**9], np.int64),
        poisson_cdf=cdf,
        poisson_table_len=np.array([len(t) for t in tables], np.int64),
        poisson_lambda=lam,
        dc_seg=np.array([0, 1, 1], np.int64),
        dc_amplitude=np.array([250.0, 100.0, 420.0]),
        dc_first_step=np.array([4, 0, 12], np.int64),
        dc_stop_step=np.array([40, 10**9, 25], np.int64),
    )


def make_plan(inputs, num_segments=2, max_steps=1):
    """The InputPlan of a make_inputs() dict (scratch grows with the first longer call)."""
    return InputPlan(num_segments, max_steps, **inputs)


def ring_with_input(rng, scale):
    ring = np.zeros((RING_LEN, N_LOCAL, 2))
    ring[:, :, 0] = rng.random((RING_LEN, N_LOCAL)) * scale
    ring[:, :, 1] = -rng.random((RING_LEN, N_LOCAL)) * scale
    return ring


def run_epochs(kernel, twin, seg_params, state, ring, inputs, n_epochs, n_steps, refill):
    """Run kernel and twin side by side for several epochs; compare everything bitwise."""
    state_t = {k: v.copy() for k, v in state.items()}
    ring_t = ring.copy()
    rng = np.random.default_rng(3)
    keys_all = []
    plan = make_plan(inputs)
    for epoch in range(n_epochs):
        first = 2 + epoch * n_steps
        keys = np.zeros(N_LOCAL * n_steps, np.uint64)
        n = kernel(SEG_BEGIN, SEG_END, seg_params, *state.values(), ring, LOCAL_GIDS,
                   plan, first, n_steps, SEED, keys)
        want = twin(SEG_BEGIN, SEG_END, seg_params, state_t, ring_t, LOCAL_GIDS, inputs,
                    first, n_steps, SEED)
        assert list(keys[:n]) == want
        keys_all += want
        for k in state:
            np.testing.assert_array_equal(state[k], state_t[k], err_msg=k)
        np.testing.assert_array_equal(ring, ring_t)
        # fresh input into the slots just read (as delivery would do)
        extra = ring_with_input(rng, refill)
        ring += extra
        ring_t += extra
    return keys_all


def exp_params():
    rows = []
    for tau_m, tau_ex, tau_in, C_m, I_e, refr in [(10.0, 0.5, 0.5, 250.0, 376.0, 20),
                                                  (10.0, 10.0, 2.0, 250.0, 0.0, 0)]:
        P11ex, P21ex, P22, P20 = iaf_psc_exp.propagators(0.1, tau_m, tau_ex, C_m)
        P11in, P21in, _, _ = iaf_psc_exp.propagators(0.1, tau_m, tau_in, C_m)
        rows.append([P22, P21ex, P21in, P20, P11ex, P11in, I_e, 15.0, 0.0, refr])
    return np.array(rows)


@pytest.mark.parametrize("n_steps", [1, 5])
def test_iaf_psc_exp_matches_twin(n_steps):
    r = np.random.default_rng(0)
    state = dict(V_m=r.uniform(0, 15, N_LOCAL), i_syn_ex=r.uniform(0, 300, N_LOCAL),
                 i_syn_in=r.uniform(-300, 0, N_LOCAL), i_0=np.zeros(N_LOCAL),
                 refractory=np.array([0, 3, 0, 0, 1, 0], np.int32))
    ring = ring_with_input(r, 200.0)
    inputs = make_inputs([87.8, -351.2, 20.0])
    keys = run_epochs(iaf_psc_exp.update, tw.iaf_psc_exp_twin, exp_params(), state, ring,
                      inputs, n_epochs=60 // n_steps, n_steps=n_steps, refill=150.0)
    assert len(keys) > 5                            # the test exercises spikes and refractoriness


def test_iaf_psc_exp_silent_neuron_decays_exactly():
    """Without input V relaxes as V * P22 per step, like NEST."""
    params = exp_params()[:1].copy()
    params[0, 6] = 0.0
    one = dict(V_m=np.array([10.0]), i_syn_ex=np.zeros(1), i_syn_in=np.zeros(1),
               i_0=np.zeros(1), refractory=np.zeros(1, np.int32))
    empty = {k: v[:0] for k, v in make_inputs([0.0, 0.0, 0.0]).items()}
    keys = np.zeros(10, np.uint64)
    n = iaf_psc_exp.update(np.array([0]), np.array([1]), params, *one.values(),
                           np.zeros((3, 1, 2)), np.array([0]), make_plan(empty, 1), 0, 10, 1,
                           keys)
    v = 10.0
    for _ in range(10):
        v = v * params[0, 0] + 0.0 * params[0, 1] + 0.0 * params[0, 2] + (0.0 + 0.0) * params[0, 3]
    assert n == 0 and one["V_m"][0] == v


@pytest.mark.parametrize("n_steps", [1, 4])
def test_iaf_psc_delta_matches_twin(n_steps):
    r = np.random.default_rng(1)
    h = 0.1
    rows = []
    for tau_m, C_m, I_e, refr, refr_input, v_min in [(20.0, 250.0, 300.0, 20, 1, -np.inf),
                                                     (10.0, 250.0, 0.0, 5, 0, -5.0)]:
        P33, P30 = iaf_psc_delta.propagators(h, tau_m, C_m)
        rows.append([P33, P30, I_e, 20.0, 10.0, v_min, refr, refr_input, tau_m, h])
    state = dict(V_m=r.uniform(0, 20, N_LOCAL), i_0=np.zeros(N_LOCAL),
                 refractory=np.array([0, 4, 0, 2, 0, 3], np.int32),
                 refr_spikes_buffer=np.zeros(N_LOCAL))
    ring = ring_with_input(r, 2.0)
    inputs = make_inputs([0.6, -0.9, 0.08])
    keys = run_epochs(iaf_psc_delta.update, tw.iaf_psc_delta_twin, np.array(rows), state, ring,
                      inputs, n_epochs=80 // n_steps, n_steps=n_steps, refill=1.5)
    assert len(keys) > 5


def test_propagator_32_singular_branch():
    h, C = 0.1, 250.0
    import math
    # equal time constants: NEST uses h/C exp(-h/tau)
    assert iaf_psc_exp.propagator_32(10.0, 10.0, C, h) == h / C * math.exp(-h / 10.0)
    # close time constants stay finite and close to the singular value
    p = iaf_psc_exp.propagator_32(10.0 + 1e-9, 10.0, C, h)
    assert math.isfinite(p) and abs(p - h / C * math.exp(-h / 10.0)) < 1e-9
    # regular case equals the closed form
    tau_s, tau_m = 2.0, 10.0
    closed = tau_s * tau_m / (tau_m - tau_s) / C * math.exp(-h / tau_s) * math.expm1(-h / tau_m + h / tau_s)
    assert iaf_psc_exp.propagator_32(tau_s, tau_m, C, h) == pytest.approx(closed, rel=1e-15)


def test_update_argument_errors():
    params = exp_params()
    st = [np.zeros(N_LOCAL), np.zeros(N_LOCAL), np.zeros(N_LOCAL), np.zeros(N_LOCAL),
          np.zeros(N_LOCAL, np.int32)]
    inputs = make_inputs([1.0, -1.0, 1.0])
    plan = make_plan(inputs)
    keys = np.zeros(N_LOCAL * 5, np.uint64)
    with pytest.raises(ValueError, match="ring"):
        iaf_psc_exp.update(SEG_BEGIN, SEG_END, params, *st, np.zeros((RING_LEN, N_LOCAL + 1, 2)),
                           LOCAL_GIDS, plan, 0, 5, 1, keys)
    with pytest.raises(ValueError, match="segment of the plan"):
        iaf_psc_exp.update(SEG_BEGIN, SEG_END, params, *st, np.zeros((RING_LEN, N_LOCAL, 2)),
                           LOCAL_GIDS, make_plan(inputs, 3), 0, 5, 1, keys)
    with pytest.raises(ValueError, match="gid"):
        iaf_psc_exp.update(SEG_BEGIN, SEG_END, params, *st, np.zeros((RING_LEN, N_LOCAL, 2)),
                           LOCAL_GIDS + 2**32, plan, 0, 5, 1, keys)
    with pytest.raises(ValueError, match="Poisson entry 2: segment 2"):
        make_plan(dict(inputs, poisson_seg=np.array([0, 0, 2], np.int64)))
    with pytest.raises(ValueError, match="DC entry 0: segment -1"):
        make_plan(dict(inputs, dc_seg=np.array([-1, 1, 1], np.int64)))
    with pytest.raises(ValueError, match="poisson_"):
        make_plan(dict(inputs, poisson_lambda=np.array([1.0])))


def _exp_network(n, lam=1.6):
    r = np.random.default_rng(7)
    state = dict(V_m=r.uniform(0, 15, n), i_syn_ex=np.zeros(n), i_syn_in=np.zeros(n),
                 i_0=np.zeros(n), refractory=np.zeros(n, np.int32))
    table = poisson.cdf_table(lam)
    cdf = np.zeros((2, 64))
    cdf[:, :len(table)] = table
    inputs = dict(
        poisson_seg=np.array([0, 1], np.int64), poisson_item=np.array([4, 4], np.int64),
        poisson_weight=np.array([87.8, 87.8]), poisson_delay_steps=np.array([1, 1], np.int64),
        poisson_first_step=np.array([3, 3], np.int64),
        poisson_stop_step=np.array([np.iinfo(np.int64).max] * 2, np.int64),
        poisson_cdf=cdf, poisson_table_len=np.array([len(table)] * 2, np.int64),
        poisson_lambda=np.array([lam, lam]),
        dc_seg=np.array([1], np.int64), dc_amplitude=np.array([300.0]),
        dc_first_step=np.array([10], np.int64), dc_stop_step=np.array([200], np.int64))
    return state, inputs


def test_iaf_psc_exp_many_blocks_match_twin():
    """More neurons than one block (64), so blocking must not change anything."""
    n = 150
    seg_begin, seg_end = np.array([0, 70], np.int64), np.array([70, n], np.int64)
    state, inputs = _exp_network(n)
    state_t = {k: v.copy() for k, v in state.items()}
    ring = np.zeros((4, n, 2))
    ring[:, :, 0] = 30.0
    ring_t = ring.copy()
    gids = np.arange(n, dtype=np.int64) * 2 + 1
    keys = np.zeros(n * 12, np.uint64)
    m = iaf_psc_exp.update(seg_begin, seg_end, exp_params(), *state.values(), ring, gids,
                           make_plan(inputs), 0, 12, SEED, keys)
    want = tw.iaf_psc_exp_twin(seg_begin, seg_end, exp_params(), state_t, ring_t, gids,
                               inputs, 0, 12, SEED)
    assert list(keys[:m]) == want
    for k in state:
        np.testing.assert_array_equal(state[k], state_t[k])


@pytest.mark.parametrize("kernel", ["exp", "delta"])
def test_one_long_epoch_equals_many_short_ones(kernel):
    """n_steps = 2000 (smaller blocks) gives the same state and spikes as 2000 single steps."""
    n, steps = 40, 2000
    seg_begin, seg_end = np.array([0, 25], np.int64), np.array([25, n], np.int64)
    state, inputs = _exp_network(n)
    if kernel == "exp":
        params, update = exp_params(), iaf_psc_exp.update
    else:
        params, update = np.array([[*iaf_psc_delta.propagators(0.1, 20.0, 250.0), 300.0, 20.0,
                                    10.0, -np.inf, 20, 1, 20.0, 0.1]] * 2), iaf_psc_delta.update
        inputs["poisson_weight"][:] = [0.9, -0.4]
        state = dict(V_m=state["V_m"], i_0=state["i_0"], refractory=state["refractory"],
                     refr_spikes_buffer=np.zeros(n))
    state2 = {k: v.copy() for k, v in state.items()}
    gids = np.arange(n, dtype=np.int64)
    ring = np.zeros((1, n, 2))
    keys = np.zeros(n * steps, np.uint64)
    plan = make_plan(inputs)              # one plan for both runs: it carries no state
    m = update(seg_begin, seg_end, params, *state.values(), ring, gids, plan,
               5, steps, SEED, keys)
    long_keys = sorted((int(k) >> 32, int(k) & 0xffffffff) for k in keys[:m])
    short_keys = []
    one = np.zeros(n, np.uint64)
    for s in range(5, 5 + steps):
        c = update(seg_begin, seg_end, params, *state2.values(), ring, gids, plan,
                   s, 1, SEED, one)
        short_keys += [(s - 5, int(k) & 0xffffffff) for k in one[:c]]
    assert long_keys == sorted(short_keys) and m > 50
    for k in state:
        np.testing.assert_array_equal(state[k], state2[k])


def test_plan_scratch_grows_only_for_a_longer_epoch():
    """The plan's scratch is sized once; a call needs new memory only when it asks for more
    steps than any call before (max_steps), and the results do not depend on it."""
    n = 40
    state, inputs = _exp_network(n)
    state2 = {k: v.copy() for k, v in state.items()}
    seg_begin, seg_end = np.array([0, 25], np.int64), np.array([25, n], np.int64)
    gids = np.arange(n, dtype=np.int64)
    ring, ring2 = np.zeros((1, n, 2)), np.zeros((1, n, 2))
    small, large = make_plan(inputs), make_plan(inputs, max_steps=300)
    keys, keys2 = np.zeros(n * 300, np.uint64), np.zeros(n * 300, np.uint64)
    for first, steps, held in [(0, 1, 1), (1, 300, 300), (301, 7, 300), (308, 300, 300)]:
        m = iaf_psc_exp.update(seg_begin, seg_end, exp_params(), *state.values(), ring, gids,
                               small, first, steps, SEED, keys)
        m2 = iaf_psc_exp.update(seg_begin, seg_end, exp_params(), *state2.values(), ring2,
                                gids, large, first, steps, SEED, keys2)
        assert small.max_steps == held and large.max_steps == 300
        assert m == m2 and np.array_equal(keys[:m], keys2[:m])
    for k in state:
        np.testing.assert_array_equal(state[k], state2[k])
