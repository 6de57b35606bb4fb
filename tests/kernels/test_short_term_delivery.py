"""short_term.deliver_tsodyks (tsodyks_synapse, variant 1; tsodyks2_synapse, variant 2)
against its per-synapse Python twin, bit for bit: multapses, several delays, a source's
repeated spike (n events, as NEST unrolls a multiplicity), sources that have not spiked yet
(t_last = 0), sources outside the projection, unit events (parrot targets)."""
import numpy as np
import pytest

from brainsim.catalogue.synapses import SYNAPSE_MODELS
from cython_kernels.short_term import deliver_tsodyks
import synapse_twins as st

DT, N_SOURCES, N_LOCAL, SOURCE_OFFSET, RING_LEN, FIRST_STEP = 0.1, 30, 10, 4, 24, 500
# facilitating and depressing: every term of both variants matters
PARAMS = {"tsodyks_synapse": {"U": 0.2, "tau_psc": 2.5, "tau_fac": 60.0, "tau_rec": 120.0},
          "tsodyks2_synapse": {"U": 0.2, "tau_fac": 60.0, "tau_rec": 120.0}}


def random_projection(seed, name):
    rng = np.random.default_rng(seed)
    n_gids = SOURCE_OFFSET + N_SOURCES + 3
    row_ptr = np.concatenate([[0], np.cumsum(rng.integers(0, 20, n_gids))]).astype(np.int64)
    n = int(row_ptr[-1])
    x = rng.uniform(0.2, 0.7, N_SOURCES)
    proj = {"row_ptr": row_ptr,
            "targets": np.sort(rng.integers(0, N_LOCAL, n)).astype(np.uint32),
            "delays": rng.integers(1, 6, n).astype(np.uint16),
            "weights": rng.normal(0.0, 80.0, n),
            "state": {"x": x, "y": rng.uniform(0.0, 0.3, N_SOURCES),
                      "u": rng.uniform(0.0, 0.5, N_SOURCES),
                      # a third have not spiked yet (tsodyks2 sends its initial x u)
                      "t_last": np.where(rng.random(N_SOURCES) < 0.33, 0, rng.integers(
                          FIRST_STEP - 300, FIRST_STEP - 1, N_SOURCES)).astype(np.int64)}}
    if name == "tsodyks2_synapse":
        proj["state"]["y"] = x      # the delivery passes x for y: variant 2 never reads it
    return proj, rng


def spike_keys(rng):
    gids = rng.integers(0, SOURCE_OFFSET + N_SOURCES + 3, 50).astype(np.uint64)
    lags = rng.integers(0, 4, 50).astype(np.uint64)
    keys = np.sort((lags << np.uint64(32)) | gids)
    # the same source two and three times in one step (multiplicity)
    return np.insert(keys, [8, 20, 20], keys[[8, 20, 20]])


def copy_state(state, name):
    """A copy of the per-source arrays; tsodyks2's y stays the same array as its x."""
    copied = {k: v.copy() for k, v in state.items()}
    if name == "tsodyks2_synapse":
        copied["y"] = copied["x"]
    return copied


def run_both(name, seed, unit_events):
    proj, rng = random_projection(seed, name)
    keys = spike_keys(rng)
    c = SYNAPSE_MODELS[name].kernel_constants(PARAMS[name])
    kernel_state, twin_state = copy_state(proj["state"], name), copy_state(proj["state"], name)
    ring, twin_ring = np.zeros((RING_LEN, N_LOCAL, 2)), np.zeros((RING_LEN, N_LOCAL, 2))
    args = (c["variant"], c["U"], c["tau_psc"], c["tau_fac"], c["tau_rec"], DT)
    deliver_tsodyks(keys, keys.shape[0], FIRST_STEP, proj["row_ptr"], proj["targets"],
                    proj["weights"], proj["delays"], SOURCE_OFFSET, kernel_state["x"],
                    kernel_state["y"], kernel_state["u"], kernel_state["t_last"], *args,
                    ring, unit_events)
    st.short_term_twin(keys, FIRST_STEP, proj["row_ptr"], proj["targets"], proj["weights"],
                       proj["delays"], SOURCE_OFFSET, twin_state, *args, twin_ring,
                       unit_events)
    return proj, (kernel_state, ring), (twin_state, twin_ring)


@pytest.mark.parametrize("name", ["tsodyks_synapse", "tsodyks2_synapse"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_equals_twin_bit_for_bit(name, seed):
    proj, (state, ring), (twin_state, twin_ring) = run_both(name, seed, 0)
    assert np.count_nonzero(ring) > 20                       # it delivered
    assert not np.array_equal(state["u"], proj["state"]["u"])   # and moved the state
    np.testing.assert_array_equal(ring, twin_ring)
    for key in ("x", "y", "u", "t_last"):
        np.testing.assert_array_equal(state[key], twin_state[key])


@pytest.mark.parametrize("name", ["tsodyks_synapse", "tsodyks2_synapse"])
def test_unit_events_add_one_per_synapse_and_spike(name):
    _, (state, ring), (twin_state, twin_ring) = run_both(name, 1, 1)
    np.testing.assert_array_equal(ring, twin_ring)
    assert set(np.unique(ring[..., 0])) - {0.0} and not ring[..., 1].any()
    np.testing.assert_array_equal(ring, np.round(ring))
    np.testing.assert_array_equal(state["u"], twin_state["u"])
