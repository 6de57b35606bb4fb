"""The per-neuron current argument ``i_ext`` of every neuron kernel (noise_generator input):
kernels agree with their twins when it carries currents, an empty i_ext changes nothing,
and wrong shapes are refused.

i_ext[j, i] (pA) is added where the DC (i_0) enters the update of step first_step + j:
I_e + (i_0 + i_ext) for the iaf models, the ODE's I_stim for the conductance models and
aeif_cond_exp, S_.I_ for izhikevich; parrot_neuron ignores it.
"""
import numpy as np
import pytest

from cython_kernels import (aeif_cond_exp, iaf_cond_alpha, iaf_cond_exp, iaf_psc_alpha,
                            iaf_psc_delta, iaf_psc_exp, izhikevich, parrot_neuron)
import kernel_twins as tw
import model_twins as mt
from test_neurons import (LOCAL_GIDS, N_LOCAL, SEED, SEG_BEGIN, SEG_END, exp_params,
                          make_inputs, make_plan, ring_with_input)
from test_new_models import COND, seg_rows


def _delta_rows():
    rows = []
    for tau_m, C_m, I_e, refr, refr_input, v_min in [(20.0, 250.0, 300.0, 20, 1, -np.inf),
                                                     (10.0, 250.0, 0.0, 5, 0, -5.0)]:
        P33, P30 = iaf_psc_delta.propagators(0.1, tau_m, C_m)
        rows.append([P33, P30, I_e, 20.0, 10.0, v_min, refr, refr_input, tau_m, 0.1])
    return np.array(rows)


def _alpha_rows():
    base = {"C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0,
            "V_th": -55.0}
    return seg_rows("iaf_psc_alpha", [
        dict(base, tau_syn_ex=0.5, tau_syn_in=2.0, I_e=200.0, V_min=-np.inf),
        dict(base, tau_syn_ex=10.0, tau_syn_in=10.0, I_e=0.0, V_min=-75.0)])


def _izh_rows():
    p = {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "V_th": 30.0,
         "consistent_integration": True}
    return seg_rows("izhikevich", [dict(p, I_e=5.0, V_min=-np.inf),
                                   dict(p, I_e=0.0, V_min=-80.0)])


def _aeif_rows():
    base = {"C_m": 281.0, "g_L": 30.0, "E_L": -70.6, "E_ex": 0.0, "E_in": -85.0,
            "V_th": -50.4, "V_peak": 0.0, "V_reset": -60.0, "tau_w": 144.0, "a": 4.0,
            "b": 80.5, "tau_syn_ex": 0.2, "tau_syn_in": 2.0, "gsl_error_tol": 1e-6}
    return seg_rows("aeif_cond_exp", [dict(base, I_e=500.0, t_ref=0.0, Delta_T=2.0),
                                      dict(base, I_e=400.0, t_ref=1.0, Delta_T=0.0)])


def _state(names, r):
    refractory = np.array([0, 3, 0, 0, 1, 0], np.int32)
    out = {}
    for name in names:
        if name == "refractory":
            out[name] = refractory.copy()
        elif name in ("i_0", "ode_h", "refr_spikes_buffer"):
            out[name] = np.zeros(N_LOCAL)
        elif name == "V_m":
            out[name] = r.uniform(0, 12, N_LOCAL)
        else:
            out[name] = r.uniform(0, 3, N_LOCAL)
    return out


def _izh_state(r):
    return dict(V_m=r.uniform(-70, -50, N_LOCAL), U_m=r.uniform(-15, -10, N_LOCAL),
                i_0=np.zeros(N_LOCAL))


# model: (kernel, state names, seg_params, twin, input weights, i_ext scale pA, rtol)
MODELS = {
    "iaf_psc_exp": (iaf_psc_exp.update, ("V_m", "i_syn_ex", "i_syn_in", "i_0", "refractory"),
                    exp_params, tw.iaf_psc_exp_twin, [87.8, -351.2, 20.0], 300.0, 0.0),
    "iaf_psc_delta": (iaf_psc_delta.update, ("V_m", "i_0", "refractory", "refr_spikes_buffer"),
                      _delta_rows, tw.iaf_psc_delta_twin, [0.6, -0.9, 0.08], 300.0, 0.0),
    "iaf_psc_alpha": (iaf_psc_alpha.update, ("V_m", "i_syn_ex", "di_syn_ex", "i_syn_in",
                                             "di_syn_in", "i_0", "refractory"),
                      _alpha_rows, mt.iaf_psc_alpha_step, [87.8, -351.2, 20.0], 300.0, 0.0),
    "izhikevich": (izhikevich.update, None, _izh_rows, mt.izhikevich_step, [0.6, -0.9, 0.08],
                   8.0, 0.0),
    "iaf_cond_exp": (iaf_cond_exp.update, ("V_m", "g_ex", "g_in", "i_0", "refractory", "ode_h"),
                     lambda: seg_rows("iaf_cond_exp", [dict(COND, I_e=200.0),
                                                       dict(COND, I_e=0.0, t_ref=0.5)]),
                     mt.cond_step(False), [3.0, -2.0, 1.0], 300.0, 1e-9),
    "iaf_cond_alpha": (iaf_cond_alpha.update, ("V_m", "g_ex", "dg_ex", "g_in", "dg_in", "i_0",
                                               "refractory", "ode_h"),
                       lambda: seg_rows("iaf_cond_alpha", [dict(COND, I_e=200.0),
                                                           dict(COND, I_e=0.0, t_ref=0.5)]),
                       mt.cond_step(True), [3.0, -2.0, 1.0], 300.0, 1e-9),
    "aeif_cond_exp": (aeif_cond_exp.update, ("V_m", "g_ex", "g_in", "w", "i_0", "refractory",
                                             "ode_h"),
                      _aeif_rows, mt.aeif_step, [3.0, -2.0, 1.0], 400.0, 1e-9),
}


def _run(model, state, ring, inputs, first, n_steps, i_ext):
    kernel, _, rows, *_ = MODELS[model]
    keys = np.zeros(N_LOCAL * n_steps, np.uint64)
    n = kernel(SEG_BEGIN, SEG_END, rows(), *state.values(), ring, LOCAL_GIDS, make_plan(inputs),
               first, n_steps, SEED, keys, i_ext)
    return list(keys[:n])


@pytest.mark.parametrize("n_steps", [1, 5])
@pytest.mark.parametrize("model", sorted(MODELS))
def test_kernel_with_i_ext_matches_twin(model, n_steps):
    kernel, names, rows, twin, weights, scale, rtol = MODELS[model]
    r = np.random.default_rng(11)
    state = _izh_state(r) if names is None else _state(names, r)
    state_t = {k: v.copy() for k, v in state.items()}
    ring = ring_with_input(r, weights[0] * 0.5)
    ring_t = ring.copy()
    inputs = make_inputs(weights)
    spikes = 0
    for epoch in range(40 // n_steps):
        first = 2 + epoch * n_steps
        i_ext = r.normal(scale * 0.5, scale, (n_steps, N_LOCAL))
        got = _run(model, state, ring, inputs, first, n_steps, i_ext)
        if twin in (tw.iaf_psc_exp_twin, tw.iaf_psc_delta_twin):
            want = twin(SEG_BEGIN, SEG_END, rows(), state_t, ring_t, LOCAL_GIDS, inputs, first,
                        n_steps, SEED, i_ext)
        else:
            want = mt.run_twin(twin, list(state), SEG_BEGIN, SEG_END, rows(), state_t, ring_t,
                               LOCAL_GIDS, inputs, first, n_steps, SEED, i_ext)
        assert got == want
        spikes += len(got)
        for k in state:
            if rtol == 0.0 or state[k].dtype != np.float64:
                np.testing.assert_array_equal(state[k], state_t[k], err_msg=k)
            else:
                np.testing.assert_allclose(state[k], state_t[k], rtol=rtol, atol=1e-12,
                                           err_msg=k)
                state_t[k][:] = state[k]
        np.testing.assert_array_equal(ring, ring_t)
    assert spikes > 0


@pytest.mark.parametrize("model", sorted(MODELS))
def test_i_ext_changes_the_trajectory_and_empty_changes_nothing(model):
    """No i_ext, None, 0 rows and all zeros give the same bits; a current changes V_m."""
    _, names, *_ = MODELS[model]
    inputs = make_inputs(MODELS[model][4])
    results = []
    for i_ext in ("omitted", None, np.zeros((0, N_LOCAL)), np.zeros((10, N_LOCAL)),
                  np.full((10, N_LOCAL), 50.0)):
        r = np.random.default_rng(5)
        state = _izh_state(r) if names is None else _state(names, r)
        ring = ring_with_input(r, 1.0)
        kernel, _, rows, *_ = MODELS[model]
        keys = np.zeros(N_LOCAL * 10, np.uint64)
        extra = () if isinstance(i_ext, str) else (i_ext,)
        n = kernel(SEG_BEGIN, SEG_END, rows(), *state.values(), ring, LOCAL_GIDS,
                   make_plan(inputs), 3, 10, SEED, keys, *extra)
        results.append((list(keys[:n]), state))
    for keys, state in results[1:4]:
        assert keys == results[0][0]
        for k in state:
            np.testing.assert_array_equal(state[k], results[0][1][k], err_msg=k)
    assert not np.array_equal(results[4][1]["V_m"], results[0][1]["V_m"])


def test_parrot_neuron_ignores_i_ext():
    ring = np.zeros((7, N_LOCAL, 2))
    ring[3, :, 0] = 2.0
    inputs = {k: v[:0] for k, v in make_inputs([1.0, 1.0, 1.0]).items()}
    out = []
    for i_ext in (None, np.full((7, N_LOCAL), 1e4)):
        keys = np.zeros(N_LOCAL * 7 * 3, np.uint64)
        n = parrot_neuron.update(SEG_BEGIN, SEG_END, np.zeros((2, 0)), ring.copy(), LOCAL_GIDS,
                                 make_plan(inputs), 0, 7, SEED, keys, i_ext)
        out.append(list(keys[:n]))
    assert out[0] == out[1] and len(out[0]) == 2 * N_LOCAL


@pytest.mark.parametrize("shape", [(4, N_LOCAL), (5, N_LOCAL + 1), (6, N_LOCAL)])
def test_i_ext_of_wrong_shape_is_refused(shape):
    state = _state(MODELS["iaf_psc_exp"][1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="i_ext must have shape"):
        _run("iaf_psc_exp", state, np.zeros((7, N_LOCAL, 2)), make_inputs([1.0, -1.0, 1.0]),
             0, 5, np.zeros(shape))


def test_noise_currents_match_the_keyed_normals():
    """external.noise_currents: step s uses generator step t = s - delay - 1 (active for
    t_first <= t <= t_last), value mean + std * normal(seed, 9, item, gid, (t - t_first) //
    interval, 0), added to what `out` holds; split epochs give the same rows."""
    from cython_kernels import external
    gids = np.array([3, 8, 13], np.int64)
    local = np.array([0, 2, 4], np.int64)
    t_first, t_last, delay, interval, mean, std = 4, 30, 2, 3, 5.0, 2.0
    out = np.ones((40, N_LOCAL))
    external.noise_currents(SEED, 7, gids, local, 0, 40, t_first, t_last, delay, interval,
                            mean, std, out)
    want = np.ones((40, N_LOCAL))
    for s in range(40):
        t = s - delay - 1
        if t_first <= t <= t_last:
            for gid, i in zip(gids, local):
                want[s, i] += mean + std * tw.normal(SEED, 9, 7, int(gid), (t - t_first) // interval, 0)
    np.testing.assert_array_equal(out, want)
    split = np.ones((40, N_LOCAL))
    for first in range(0, 40, 7):
        rows = np.ones((7, N_LOCAL))
        n = min(7, 40 - first)
        external.noise_currents(SEED, 7, gids, local, first, n, t_first, t_last, delay, interval,
                                mean, std, rows)
        split[first:first + n] = rows[:n]
    np.testing.assert_array_equal(split, want)
