"""Kernels of iaf_psc_alpha, izhikevich, parrot_neuron (bit for bit) and iaf_cond_exp,
iaf_cond_alpha, aeif_cond_exp (RKF45: to rounding) against their Python twins, with ring,
Poisson and DC input over several epochs."""

import numpy as np
import pytest

from cython_kernels import (aeif_cond_exp, iaf_cond_alpha, iaf_cond_exp, iaf_psc_alpha,
                            izhikevich, parrot_neuron)
from brainsim.network.neurons import KERNEL_MODELS
import model_twins as mt
from test_neurons import LOCAL_GIDS, N_LOCAL, SEED, SEG_BEGIN, SEG_END, make_inputs, \
    make_plan, ring_with_input

DT = 0.1


def seg_rows(model, params_list):
    return np.ascontiguousarray([KERNEL_MODELS[model].segment_params(p, DT)
                                 for p in params_list], dtype=np.float64)


def run(kernel, step_fn, names, seg_params, state, ring, inputs, n_epochs, n_steps, refill,
        rtol=0.0):
    """Kernel and twin side by side; state compared exactly (rtol 0) or to rtol."""
    state_t = {k: v.copy() for k, v in state.items()}
    ring_t = ring.copy()
    rng = np.random.default_rng(3)
    total = 0
    plan = make_plan(inputs)
    for epoch in range(n_epochs):
        first = 2 + epoch * n_steps
        keys = np.zeros(N_LOCAL * n_steps, np.uint64)
        n = kernel(SEG_BEGIN, SEG_END, seg_params, *state.values(), ring, LOCAL_GIDS,
                   plan, first, n_steps, SEED, keys)
        want = mt.run_twin(step_fn, names, SEG_BEGIN, SEG_END, seg_params, state_t, ring_t,
                           LOCAL_GIDS, inputs, first, n_steps, SEED)
        assert list(keys[:n]) == want
        total += n
        for k in state:
            if rtol == 0.0 or state[k].dtype != np.float64:
                np.testing.assert_array_equal(state[k], state_t[k], err_msg=k)
            else:
                np.testing.assert_allclose(state[k], state_t[k], rtol=rtol, atol=1e-12,
                                           err_msg=k)
                state_t[k][:] = state[k]       # keep rounding differences from growing
        np.testing.assert_array_equal(ring, ring_t)
        extra = ring_with_input(rng, refill)
        ring += extra
        ring_t += extra
    return total


@pytest.mark.parametrize("n_steps", [1, 5])
def test_iaf_psc_alpha_matches_twin(n_steps):
    r = np.random.default_rng(0)
    base = {"C_m": 250.0, "tau_m": 10.0, "t_ref": 2.0, "E_L": -70.0, "V_reset": -70.0,
            "V_th": -55.0}
    rows = seg_rows("iaf_psc_alpha", [
        dict(base, tau_syn_ex=0.5, tau_syn_in=2.0, I_e=376.0, V_min=-np.inf),
        dict(base, tau_syn_ex=10.0, tau_syn_in=10.0, I_e=0.0, V_min=-75.0)])
    state = dict(V_m=r.uniform(0, 15, N_LOCAL), i_syn_ex=r.uniform(0, 300, N_LOCAL),
                 di_syn_ex=r.uniform(0, 100, N_LOCAL), i_syn_in=r.uniform(-300, 0, N_LOCAL),
                 di_syn_in=r.uniform(-100, 0, N_LOCAL), i_0=np.zeros(N_LOCAL),
                 refractory=np.array([0, 3, 0, 0, 1, 0], np.int32))
    names = list(state)
    n = run(iaf_psc_alpha.update, mt.iaf_psc_alpha_step, names, rows, state,
            ring_with_input(r, 200.0), make_inputs([87.8, -351.2, 20.0]), 60 // n_steps,
            n_steps, 150.0)
    assert n > 5


@pytest.mark.parametrize("consistent", [True, False])
def test_izhikevich_matches_twin(consistent):
    r = np.random.default_rng(1)
    p = {"a": 0.02, "b": 0.2, "c": -65.0, "d": 8.0, "V_th": 30.0,
         "consistent_integration": consistent}
    rows = seg_rows("izhikevich", [dict(p, I_e=10.0, V_min=-np.inf),
                                   dict(p, I_e=0.0, V_min=-80.0)])
    state = dict(V_m=r.uniform(-70, -50, N_LOCAL), U_m=r.uniform(-15, -10, N_LOCAL),
                 i_0=np.zeros(N_LOCAL))
    n = run(izhikevich.update, mt.izhikevich_step, list(state), rows, state,
            ring_with_input(r, 3.0), make_inputs([0.6, -0.9, 0.08]), 40, 4, 2.0)
    assert n > 5


def test_parrot_neuron_repeats_input_with_multiplicity():
    r = np.random.default_rng(2)
    ring = np.zeros((7, N_LOCAL, 2))
    ring[:, :, 0] = r.integers(0, 3, (7, N_LOCAL))
    ring[:, :, 1] = -r.integers(0, 2, (7, N_LOCAL))
    inputs = make_inputs([1.0, -1.0, 1.0])
    inputs["poisson_lambda"] = np.array([0.3, 0.2, 0.5])    # keep counts small
    from cython_kernels import poisson
    tables = [poisson.cdf_table(x) for x in inputs["poisson_lambda"]]
    inputs["poisson_cdf"][:] = 0.0
    for q, t in enumerate(tables):
        inputs["poisson_cdf"][q, :len(t)] = t
    inputs["poisson_table_len"] = np.array([len(t) for t in tables], np.int64)
    rows = np.zeros((2, 0))
    state_t, ring_t = {}, ring.copy()
    keys = np.zeros(N_LOCAL * 7 * 10, np.uint64)      # room for multiplicities
    n = parrot_neuron.update(SEG_BEGIN, SEG_END, rows, ring, LOCAL_GIDS, make_plan(inputs),
                             2, 7, SEED, keys)
    want = mt.run_twin(mt.parrot_step, [], SEG_BEGIN, SEG_END, rows, state_t, ring_t,
                       LOCAL_GIDS, inputs, 2, 7, SEED)
    assert list(keys[:n]) == want and len(set(want)) < len(want)   # some multiplicity > 1
    assert not ring.any()


COND = {"C_m": 250.0, "g_L": 16.6667, "E_L": -70.0, "E_ex": 0.0, "E_in": -85.0,
        "V_th": -55.0, "V_reset": -60.0, "t_ref": 2.0, "tau_syn_ex": 0.2, "tau_syn_in": 2.0}


@pytest.mark.parametrize("model", ["iaf_cond_exp", "iaf_cond_alpha"])
def test_iaf_cond_matches_rkf45_twin(model):
    r = np.random.default_rng(4)
    alpha = model == "iaf_cond_alpha"
    rows = seg_rows(model, [dict(COND, I_e=300.0), dict(COND, I_e=0.0, t_ref=0.5)])
    state = dict(V_m=r.uniform(0, 15, N_LOCAL), g_ex=r.uniform(0, 5, N_LOCAL))
    if alpha:
        state["dg_ex"] = r.uniform(0, 5, N_LOCAL)
    state["g_in"] = r.uniform(0, 5, N_LOCAL)
    if alpha:
        state["dg_in"] = r.uniform(0, 5, N_LOCAL)
    state.update(i_0=np.zeros(N_LOCAL), refractory=np.array([0, 3, 0, 0, 1, 0], np.int32),
                 ode_h=np.zeros(N_LOCAL))
    kernel = (iaf_cond_alpha if alpha else iaf_cond_exp).update
    n = run(kernel, mt.cond_step(alpha), list(state), rows, state, ring_with_input(r, 4.0),
            make_inputs([3.0, -2.0, 1.0]), 20, 5, 3.0, rtol=1e-9)
    assert n > 5


def test_aeif_cond_exp_matches_rkf45_twin():
    r = np.random.default_rng(5)
    base = {"C_m": 281.0, "g_L": 30.0, "E_L": -70.6, "E_ex": 0.0, "E_in": -85.0,
            "V_th": -50.4, "V_peak": 0.0, "V_reset": -60.0, "tau_w": 144.0, "a": 4.0,
            "b": 80.5, "tau_syn_ex": 0.2, "tau_syn_in": 2.0, "gsl_error_tol": 1e-6}
    rows = seg_rows("aeif_cond_exp", [dict(base, I_e=1000.0, t_ref=0.0, Delta_T=2.0),
                                      dict(base, I_e=900.0, t_ref=1.0, Delta_T=0.0)])
    state = dict(V_m=r.uniform(0, 15, N_LOCAL), g_ex=r.uniform(0, 5, N_LOCAL),
                 g_in=r.uniform(0, 5, N_LOCAL), w=r.uniform(0, 50, N_LOCAL),
                 i_0=np.zeros(N_LOCAL), refractory=np.array([0, 3, 0, 0, 1, 0], np.int32),
                 ode_h=np.zeros(N_LOCAL))
    n = run(aeif_cond_exp.update, mt.aeif_step, list(state), rows, state,
            ring_with_input(r, 4.0), make_inputs([3.0, -2.0, 1.0]), 20, 5, 3.0, rtol=1e-9)
    assert n > 5
