"""A generated kernel from a hand-written KernelSpec runs bit for bit like the built-in it
copies: iaf_psc_exp (exact propagators) and aeif_cond_exp (RKF45, spikes within the step),
side by side through the network's own path (bind_kernel, NeuronGroup and its InputPlan)
on identical state, ring input, Poisson and DC inputs and noise currents, over epochs of
different lengths."""
import dataclasses
import importlib

import numpy as np
import pytest

from brainsim.catalogue.neurons.aeif_cond_exp import AEIF_COND_EXP
from brainsim.catalogue.neurons.iaf_psc_exp import IAF_PSC_EXP
from brainsim.network.inputs import DCTable, PoissonTable
from brainsim.network.neurons import NO_CURRENT, NeuronGroup, bind_kernel
from cython_kernels import poisson

DT = 0.1
SEED = 0x5EED
N_LOCAL = 150                                      # blocks of 64: three per epoch
SEGMENTS = (0, 90, N_LOCAL)
LOCAL_GIDS = np.arange(N_LOCAL, dtype=np.int64) * 3 + 1     # rank 1 of 3, round-robin
RING_LEN = 6
EPOCH_STEPS = (1, 3, 17, 1, 40, 5, 2, 31)          # epochs of several lengths


def inputs(weights):
    """Poisson inputs (both signs on segment 0, one on segment 1, one stopping inside the
    run) and DC inputs (one switching on and off inside the run), as neurons.py gets them."""
    lam = np.array([1.6, 0.9, 0.4])
    tables = [poisson.cdf_table(x) for x in lam]
    cdf = np.ones((3, max(map(len, tables))))
    for q, table in enumerate(tables):
        cdf[q, :len(table)] = table
    big = np.iinfo(np.int64).max
    return (PoissonTable(seg=np.array([0, 0, 1]), item=np.array([0, 1, 2]),
                         weight=np.asarray(weights, float), delay_steps=np.array([1, 3, 2]),
                         first_step=np.array([0, 5, 0]), stop_step=np.array([big, 60, big]),
                         cdf=cdf, table_len=np.array([len(t) for t in tables]), lam=lam),
            DCTable(seg=np.array([0, 1, 1]), amplitude=np.array([250.0, 100.0, 420.0]),
                    first_step=np.array([4, 0, 12]), stop_step=np.array([70, big, 45])))


def group(declaration, kernel, params, poisson_table, dc_table):
    """A NeuronGroup of two populations (one per parameter set) whose kernel is bound
    by the network's own checks; the segment constants are the declaration's, computed
    with the built-in module's functions (iaf_psc_exp.propagators)."""
    builtin = importlib.import_module(declaration.kernel)

    def segment_constants(p, dt, _kernel):
        return declaration.segment_constants(p, dt, builtin)

    model = bind_kernel(dataclasses.replace(declaration, kernel=kernel,
                                            segment_constants=segment_constants))
    rows = [model.segment_params({**declaration.defaults, **p}, DT) for p in params]
    return NeuronGroup(model, [0, 1], np.array(SEGMENTS[:-1]), np.array(SEGMENTS[1:]),
                       np.array(rows), poisson_table, dc_table)


def run_side_by_side(builtin, generated, state, ring_scale, noise_scale):
    """Run both groups epoch by epoch from equal copies; compare every state array, the
    ring and the spike keys (spilled ones included) bitwise; returns all spike keys and
    the final state."""
    rng = np.random.default_rng(11)
    states = [{k: v.copy() for k, v in state.items()} for _ in range(2)]
    ring = np.zeros((RING_LEN, N_LOCAL, 2))
    rings = [ring.copy(), ring.copy()]
    first, spikes = 3, []
    for epoch, steps in enumerate(EPOCH_STEPS):
        extra = np.zeros_like(ring)
        extra[..., 0] = rng.random((RING_LEN, N_LOCAL)) * ring_scale
        extra[..., 1] = -rng.random((RING_LEN, N_LOCAL)) * ring_scale
        i_ext = (rng.normal(0.0, noise_scale, (steps, N_LOCAL)) if epoch % 2
                 else NO_CURRENT)
        keys = []
        for g, st, rg in zip((builtin, generated), states, rings):
            rg += extra
            out = np.zeros(N_LOCAL * steps // 4, np.uint64)     # small: spilling is used
            n = g.update(st, rg, LOCAL_GIDS, first, steps, SEED, out, i_ext)
            keys.append(list(g.with_spilled(out, 0, n)[:n] if n > len(out) else out[:n]))
        assert keys[0] == keys[1], f"epoch {epoch}"
        for name in state:
            np.testing.assert_array_equal(states[0][name], states[1][name],
                                          err_msg=f"{name}, epoch {epoch}")
        np.testing.assert_array_equal(rings[0], rings[1])
        first += steps
        spikes += keys[0]
    return spikes, states[0]


def test_generated_iaf_psc_exp_equals_builtin(generated_iaf_psc_exp):
    import cython_kernels.iaf_psc_exp as builtin
    params = [dict(I_e=376.0, tau_syn_ex=0.5, t_ref=2.0),
              dict(tau_syn_ex=10.0, I_e=120.0, t_ref=0.3)]     # tau_syn = tau_m: singular P21
    poisson_table, dc_table = inputs([87.8, -351.2, 40.0])
    r = np.random.default_rng(0)
    state = dict(V_m=r.uniform(0, 15, N_LOCAL), i_syn_ex=r.uniform(0, 300, N_LOCAL),
                 i_syn_in=r.uniform(-300, 0, N_LOCAL), i_0=np.zeros(N_LOCAL),
                 refractory=r.integers(0, 4, N_LOCAL).astype(np.int32))
    spikes, final = run_side_by_side(
        group(IAF_PSC_EXP, builtin, params, poisson_table, dc_table),
        group(IAF_PSC_EXP, generated_iaf_psc_exp, params, poisson_table, dc_table),
        state, ring_scale=120.0, noise_scale=200.0)
    assert len(spikes) > 200 and final["refractory"].any()   # spikes and refractoriness ran


def test_generated_aeif_cond_exp_equals_builtin(generated_aeif_cond_exp):
    import cython_kernels.aeif_cond_exp as builtin
    params = [dict(I_e=2e5, t_ref=0.0, V_reset=-45.0),      # several spikes per step
              dict(I_e=1500.0, t_ref=2.0, Delta_T=0.0, a=8.0)]  # V_th threshold, clamping
    poisson_table, dc_table = inputs([6.0, -9.0, 4.0])
    r = np.random.default_rng(1)
    state = dict(V_m=r.uniform(10, 30, N_LOCAL), g_ex=r.uniform(0, 5, N_LOCAL),
                 g_in=r.uniform(0, 5, N_LOCAL), w=r.uniform(0, 50, N_LOCAL),
                 i_0=np.zeros(N_LOCAL), refractory=r.integers(0, 3, N_LOCAL).astype(np.int32),
                 ode_h=np.where(r.random(N_LOCAL) < 0.5, 0.0, 0.02))
    spikes, final = run_side_by_side(
        group(AEIF_COND_EXP, builtin, params, poisson_table, dc_table),
        group(AEIF_COND_EXP, generated_aeif_cond_exp, params, poisson_table, dc_table),
        state, ring_scale=4.0, noise_scale=300.0)
    # refractoriness, and several spikes of a neuron in one step (spilled keys) ran
    assert final["refractory"].any() and len(set(spikes)) < len(spikes)


def test_generated_aeif_cond_exp_reports_instability_as_builtin(generated_aeif_cond_exp):
    import cython_kernels.aeif_cond_exp as builtin
    poisson_table, dc_table = inputs([6.0, -9.0, 4.0])
    state = dict(V_m=np.zeros(N_LOCAL), g_ex=np.zeros(N_LOCAL), g_in=np.zeros(N_LOCAL),
                 w=np.full(N_LOCAL, 2e6), i_0=np.zeros(N_LOCAL),
                 refractory=np.zeros(N_LOCAL, np.int32), ode_h=np.zeros(N_LOCAL))
    for kernel in (builtin, generated_aeif_cond_exp):
        g = group(AEIF_COND_EXP, kernel, [{}, {}], poisson_table, dc_table)
        with pytest.raises(FloatingPointError, match="instability"):
            g.update({k: v.copy() for k, v in state.items()}, np.zeros((RING_LEN, N_LOCAL, 2)),
                     LOCAL_GIDS, 0, 2, SEED, np.zeros(N_LOCAL * 2, np.uint64))
