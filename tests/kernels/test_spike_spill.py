"""Spikes beyond the caller's spike_keys (several per neuron and step) are kept, not lost:
the kernel writes what fits into spike_keys and the rest into its InputPlan's spill buffer
(plan.spilled_keys()); the engine then grows its buffer (Engine._update_group)."""
import numpy as np
import pytest
import yaml

from cython_kernels import aeif_cond_exp, parrot_neuron, poisson
from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.partition import make_partition
from brainsim.spec import load_model
import model_twins as mt
from test_neurons import LOCAL_GIDS, N_LOCAL, SEED, SEG_BEGIN, SEG_END, make_inputs, make_plan
from test_new_models import seg_rows


def _small_poisson_inputs():
    """make_inputs with weight 1 (spikes) and small rates, as parrot input."""
    inputs = make_inputs([1.0, -1.0, 1.0])
    inputs["poisson_lambda"] = np.array([0.3, 0.2, 0.5])
    tables = [poisson.cdf_table(x) for x in inputs["poisson_lambda"]]
    inputs["poisson_cdf"][:] = 0.0
    for q, t in enumerate(tables):
        inputs["poisson_cdf"][q, :len(t)] = t
    inputs["poisson_table_len"] = np.array([len(t) for t in tables], np.int64)
    return inputs


@pytest.mark.parametrize("capacity", [N_LOCAL * 7, 5, 0])
def test_parrot_spills_what_spike_keys_cannot_hold(capacity):
    """Multiplicities up to 9 per step: many more spikes than the engine's old bound
    (one per neuron and step); every one comes out, in order, over several epochs."""
    r = np.random.default_rng(8)
    inputs = _small_poisson_inputs()
    plan = make_plan(inputs)
    rows = np.zeros((2, 0))
    ring = np.zeros((7, N_LOCAL, 2))
    for epoch in range(3):
        ring[:, :, 0] = r.integers(0, 10, (7, N_LOCAL))
        ring[:, :, 1] = -r.integers(0, 3, (7, N_LOCAL))
        ring_t = ring.copy()
        first = 2 + 7 * epoch
        keys = np.zeros(capacity, np.uint64)
        n = parrot_neuron.update(SEG_BEGIN, SEG_END, rows, ring, LOCAL_GIDS, plan, first, 7,
                                 SEED, keys)
        spilled = plan.spilled_keys()
        want = mt.run_twin(mt.parrot_step, [], SEG_BEGIN, SEG_END, rows, {}, ring_t,
                           LOCAL_GIDS, inputs, first, 7, SEED)
        assert n == len(want) > N_LOCAL * 7 and len(spilled) == n - capacity
        assert list(keys) + list(spilled) == want


def test_aeif_t_ref_0_spills_several_spikes_per_step():
    """aeif_cond_exp with t_ref = 0 and strong drive spikes ~3 times per step."""
    base = {"C_m": 281.0, "g_L": 30.0, "E_L": -70.6, "E_ex": 0.0, "E_in": -85.0,
            "V_th": -50.4, "V_peak": 0.0, "V_reset": -60.0, "tau_w": 144.0, "a": 4.0,
            "b": 80.5, "tau_syn_ex": 0.2, "tau_syn_in": 2.0, "gsl_error_tol": 1e-6,
            "I_e": 2e5, "t_ref": 0.0}
    rows = seg_rows("aeif_cond_exp", [dict(base, Delta_T=2.0), dict(base, Delta_T=0.0)])
    names = ["V_m", "g_ex", "g_in", "w", "i_0", "refractory", "ode_h"]
    state = {k: np.zeros(N_LOCAL, np.int32 if k == "refractory" else np.float64)
             for k in names}
    state_t = {k: v.copy() for k, v in state.items()}
    inputs = make_inputs([3.0, -2.0, 1.0])
    plan = make_plan(inputs)
    ring = np.zeros((7, N_LOCAL, 2))
    keys = np.zeros(N_LOCAL * 5, np.uint64)
    n = aeif_cond_exp.update(SEG_BEGIN, SEG_END, rows, *state.values(), ring, LOCAL_GIDS,
                             plan, 2, 5, SEED, keys)
    want = mt.run_twin(mt.aeif_step, names, SEG_BEGIN, SEG_END, rows, state_t, ring.copy(),
                       LOCAL_GIDS, inputs, 2, 5, SEED)
    assert n > 2 * len(keys)
    assert list(keys) + list(plan.spilled_keys()) == want
    np.testing.assert_allclose(state["w"], state_t["w"], rtol=1e-9)


def test_engine_keeps_every_parrot_spike_with_its_multiplicity(tmp_path):
    """A spike_generator sends 50 (then 7) simultaneous spikes to each of 3 parrots, which
    relay them to 3 more parrots: an epoch's 150 spikes exceed the engine's spike buffer
    (6 neurons x 10 steps), and all of them are exchanged, delivered and recorded."""
    doc = {"name": "spill", "simulation": {"dt": 0.1, "t_sim": 8.0, "seed": 1},
           "populations": [{"name": "P", "size": 3, "model": "parrot_neuron"},
                           {"name": "Q", "size": 3, "model": "parrot_neuron"}],
           "projections": [{"source": "P", "target": "Q", "rule": {"name": "one_to_one"},
                            "synapse": {"weight": 1.0, "delay": 1.0}}],
           "inputs": [{"type": "spike_generator", "target": "P", "weight": 1.0,
                       "delay": 1.0, "spike_times": [1.0] * 50 + [3.5] * 7}]}
    path = tmp_path / "spill.yaml"
    path.write_text(yaml.safe_dump(doc))
    model = load_model(str(path))
    network = build_local_network(model, make_partition(model, 1), 0)
    stamps = {}

    class Count:
        def record(self, keys, first_step):
            for key in keys:
                stamp = first_step + (int(key) >> 32) + 1
                gid = int(key) & 0xFFFFFFFF
                stamps[gid, stamp] = stamps.get((gid, stamp), 0) + 1

    engine = Engine(network, SerialComm(), 1, 0.1, recorder=Count())
    capacity = engine.spike_keys.shape[0]
    engine.run_until(80)
    # P: spike at t (step 10t) + delay 10 steps; Q: 10 steps later
    want = {}
    for gid in range(3):
        want.update({(gid, 20): 50, (gid, 45): 7, (gid + 3, 30): 50, (gid + 3, 55): 7})
    assert stamps == want
    assert capacity == 60 and engine.spike_keys.shape[0] >= 150
