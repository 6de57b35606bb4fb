"""Receptor-addressed neuron models (docs/model-format.md "Receptor ports"): declarations
with ports reached by name, the `receptor:` key of projections and inputs, the channel
stored in each static synapse's target, the engine's wider ring, its checkpoint.

The addressed model here is iaf_psc_exp's kernel declared with ports reached by name
("a" on channel 0, "b" on channel 1, "c" on channel 2, which that kernel never reads): a
network whose connections name "a" for weights >= 0 and "b" for weights < 0 must then run
bit for bit like the same network of plain iaf_psc_exp neurons.
"""
from __future__ import annotations

import dataclasses
import types

import numpy as np
import pytest

from brainsim.catalogue.neurons import ANY_SIGN, DeclarationError, addressed_ports
from brainsim.catalogue.neurons.iaf_psc_exp import IAF_PSC_EXP
from brainsim.engine.comm import SerialComm
from brainsim.engine.simulation import Engine
from brainsim.network.build import build_local_network
from brainsim.network.neurons import KernelMismatch, bind_kernel
from brainsim.network.partition import make_partition
from brainsim.spec.errors import Sources, SpecError
from brainsim.spec.resolve import resolve
from brainsim.spec.yaml_loader import read_yaml
from cython_kernels import iaf_psc_exp


def wide_kernel(channels: int):
    """iaf_psc_exp's kernel, presented as one that reads `channels` ring channels."""
    exports = {name: getattr(iaf_psc_exp, name) for name in dir(iaf_psc_exp)
               if not name.startswith("__")}
    return types.SimpleNamespace(**exports, RING_CHANNELS=channels)


ADDRESSED = dataclasses.replace(
    IAF_PSC_EXP, name="lif_addressed", kernel=wide_kernel(3),
    receptors=addressed_ports(("a", "b", "c"), ("tau_syn_ex", "tau_syn_in", "tau_syn_ex")))

NETWORK = """
name: receptor_network
simulation: {dt: 0.1, t_sim: 60.0, seed: 3}
populations:
  - {name: E, size: 23, model: MODEL, params: {I_e: 300.0}, initial:
     {V_m: {distribution: uniform, low: -70.0, high: -55.0}}}
  - {name: B, size: 9, model: iaf_psc_exp, params: {I_e: 360.0}}
projections:
  - {source: E, target: E, rule: {name: fixed_indegree, indegree: 5},
     synapse: {weight: 40.0, delay: 1.5 RA}}
  - {source: B, target: E, rule: {name: pairwise_bernoulli, probability: 0.5},
     synapse: {weight: -60.0, delay: 1.0 RB}}
  - {source: E, target: B, rule: {name: fixed_indegree, indegree: 6},
     synapse: {weight: {distribution: normal, mean: 0.0, std: 80.0}, delay: 1.2}}
inputs:
  - {type: poisson, target: E, rate: 8000.0, weight: 20.0 RA}
  - {type: poisson, target: E, rate: 3000.0, weight: -15.0 RB}
  - {type: spike_generator, target: E, spike_times: [5.0, 10.0, 10.0], weight: -200.0 RB}
  - {type: spike_generator, target: E, per_neuron: {node_ids: [1, 4], times: [7.0, 8.0]},
     weight: 500.0 RA}
  - {type: poisson, target: B, rate: 8000.0, weight: 20.0}
"""


def network_text(model_name: str) -> str:
    named = model_name != "iaf_psc_exp"
    return (NETWORK.replace("MODEL", model_name)
            .replace(" RA", ", receptor: a" if named else "")
            .replace(" RB", ", receptor: b" if named else ""))


def resolved(tmp_path, text: str, own=(ADDRESSED,)):
    path = tmp_path / "model.yaml"
    path.write_text(text)
    doc, lines = read_yaml(str(path))
    return resolve(doc, Sources(str(path), lines), str(path), own_models=own)


def run(model, steps: int, split: int | None = None):
    """Spike keys per epoch and final state; with `split`, the engine is rebuilt at that
    step from the first one's state and pending ring input (what a checkpoint holds)."""
    keys = []

    class Collect:
        def record(self, spikes, first_step):
            keys.append((first_step, np.array(spikes).tolist()))

    def engine():
        network = build_local_network(model, make_partition(model, 1), 0)
        return Engine(network, SerialComm(), model.simulation.seed, model.simulation.dt,
                      recorder=Collect())
    first = engine()
    first.run_until(split or steps)
    if split is None:
        return keys, first.network.state, first
    second = engine()
    second.restore(first.step, np.arange(first.network.num_local),
                   {k: v.copy() for k, v in first.network.state.items()},
                   first.pending_input())
    second.run_until(steps)
    return keys, second.network.state, second


# --- declarations -------------------------------------------------------------------------

def test_addressed_ports_take_either_sign_on_channels_from_zero():
    assert ADDRESSED.receptor_addressed and ADDRESSED.ring_channels == 3
    assert [p.weight_sign for p in ADDRESSED.receptors] == [ANY_SIGN] * 3
    assert ADDRESSED.receptor_for(-5.0, "c").channel == 2
    assert not IAF_PSC_EXP.receptor_addressed and IAF_PSC_EXP.ring_channels == 2
    with pytest.raises(ValueError, match="named receptor"):
        ADDRESSED.receptor_for(1.0)


@pytest.mark.parametrize("ports, message", [
    (addressed_ports(("a",)) + IAF_PSC_EXP.receptors[1:], "mix"),
    (tuple(dataclasses.replace(p, channel=2 * p.channel) for p in addressed_ports("ab")),
     "channels 0 .. 1"),
    (addressed_ports(("a", "a")), "distinct"),
])
def test_inconsistent_ports_are_refused(ports, message):
    with pytest.raises(DeclarationError, match=message):
        dataclasses.replace(IAF_PSC_EXP, name="bad", receptors=ports)


def test_binding_needs_a_kernel_that_reads_every_named_channel():
    bind_kernel(ADDRESSED)
    with pytest.raises(KernelMismatch, match="RING_CHANNELS"):
        bind_kernel(dataclasses.replace(ADDRESSED, kernel=iaf_psc_exp))
    with pytest.raises(KernelMismatch, match="reads 2 ring channels"):
        bind_kernel(dataclasses.replace(ADDRESSED, kernel=wide_kernel(2)))


# --- the `receptor:` key -------------------------------------------------------------------

@pytest.mark.parametrize("old, new, path, message", [
    ("delay: 1.5, receptor: a", "delay: 1.5", "projections[0].synapse",
     "no receptor onto lif_addressed (population E); expected receptor: one of a, b, c"),
    ("delay: 1.5, receptor: a", "delay: 1.5, receptor: d", "projections[0].synapse.receptor",
     "'d' (a string); expected one of the receptors of lif_addressed: a, b, c"),
    ("weight: 20.0, receptor: a", "weight: 20.0", "inputs[0]", "no receptor onto"),
    ("weight: -200.0, receptor: b", "weight: -200.0, receptor: 2", "inputs[2].receptor",
     "one of the receptors"),
    ("delay: 1.2}", "delay: 1.2, receptor: ex}", "projections[2].synapse.receptor",
     "the weight's sign chooses the port of iaf_psc_exp (ex, in)"),
    ("weight: 20.0}", "weight: 20.0, receptor: ex}", "inputs[4].receptor", "no receptor:"),
    ("delay: 1.0, receptor: b", "delay: 1.0, receptor: b, model: stdp_synapse",
     "projections[1].synapse.model", "stdp_synapse onto lif_addressed"),
    ("delay: 1.2}", "delay: 1.2, model: stdp_synapse}", "projections[2].synapse.model",
     "ring has 3 receptor channels"),
])
def test_receptor_errors_are_one_line_at_their_path(tmp_path, old, new, path, message):
    text = network_text("lif_addressed")
    assert old in text
    with pytest.raises(SpecError) as info:
        resolved(tmp_path, text.replace(old, new, 1))
    assert path in str(info.value) and message in str(info.value)
    assert "\n" not in str(info.value)


def test_tsodyks_synapses_onto_sign_chosen_targets_of_a_wide_network_run_as_before(tmp_path):
    """short_term.pyx adds into ring[slot, target, sign] of any ring width."""
    def with_tsodyks(model_name):
        text = network_text(model_name).replace("delay: 1.2}", "delay: 1.2, model: "
                                                "tsodyks_synapse}")
        return resolved(tmp_path, text.replace(
            "{distribution: normal, mean: 0.0, std: 80.0}", "-45.0"))
    model = with_tsodyks("lif_addressed")
    assert model.projections[2].synapse_model == "tsodyks_synapse"
    keys, state, engine = run(model, 400)
    plain_keys, plain_state, _ = run(with_tsodyks("iaf_psc_exp"), 400)
    assert engine.ring.shape[2] == 3 and keys == plain_keys
    for name, values in plain_state.items():
        assert values.tobytes() == state[name].tobytes(), name


def test_the_resolved_model_keeps_the_receptor_names(tmp_path):
    model = resolved(tmp_path, network_text("lif_addressed"))
    assert [p.receptor for p in model.projections] == ["a", "b", None]
    assert [i.receptor for i in model.poisson_inputs] == ["a", "b", None]
    assert [g.receptor for g in model.spike_generators] == ["b", "a"]


# --- build and engine ----------------------------------------------------------------------

def test_static_synapses_carry_the_named_channel_in_their_target(tmp_path):
    text = network_text("lif_addressed").replace("weight: 40.0, delay: 1.5, receptor: a",
                                                 "weight: 40.0, delay: 1.5, receptor: c")
    model = resolved(tmp_path, text)
    network = build_local_network(model, make_partition(model, 1), 0)
    syn = network.synapses
    assert syn.channels == 3 and network.ring_channels == 3 and network.receptor_addressed
    assert syn.target.dtype == np.uint32 and syn.nbytes == (
        syn.row_ptr.nbytes + syn.num_synapses * 14)             # no byte per synapse more
    local, channel = syn.target_local(), syn.target_channel()
    onto_e = local < 23
    assert set(channel[onto_e & (syn.weight == 40.0)]) == {2}       # named c, weight > 0
    assert set(channel[onto_e & (syn.weight == -60.0)]) == {1}      # named b
    onto_b = ~onto_e
    assert np.array_equal(channel[onto_b], (syn.weight[onto_b] < 0).astype(np.uint32))
    assert onto_b.sum() == 9 * 6


def test_a_network_without_addressed_models_is_built_and_delivered_as_before(tmp_path):
    model = resolved(tmp_path, network_text("iaf_psc_exp"))
    network = build_local_network(model, make_partition(model, 1), 0)
    assert network.synapses.channels == 0 and network.ring_channels == 2
    engine = Engine(network, SerialComm(), 1, 0.1)
    assert engine.ring.shape[2] == 2
    assert engine._deliver_static.__name__ == "deliver"
    events = network.external_events
    assert set(events.broadcast_channel.tolist() + events.single_channel.tolist()) == {-1}


def test_named_receptors_run_bit_for_bit_like_the_sign_chosen_model(tmp_path):
    plain_keys, plain_state, _ = run(resolved(tmp_path, network_text("iaf_psc_exp")), 600)
    keys, state, engine = run(resolved(tmp_path, network_text("lif_addressed")), 600)
    assert engine.ring.shape[2] == 3 and engine._deliver_static.__name__ == \
        "deliver_addressed"
    assert sum(len(k[1]) for k in keys) > 50
    assert keys == plain_keys
    for name, values in plain_state.items():
        assert values.tobytes() == state[name].tobytes(), name


def test_a_resumed_wide_ring_continues_bit_for_bit(tmp_path):
    model = resolved(tmp_path, network_text("lif_addressed"))
    keys, state, _ = run(model, 600)
    resumed_keys, resumed_state, engine = run(model, 600, split=320)   # an epoch boundary
    assert engine.pending_input().shape[2] == 3
    assert resumed_keys == keys
    for name, values in state.items():
        assert values.tobytes() == resumed_state[name].tobytes(), name


def test_a_checkpoint_of_another_ring_width_is_refused(tmp_path):
    model = resolved(tmp_path, network_text("lif_addressed"))
    network = build_local_network(model, make_partition(model, 1), 0)
    engine = Engine(network, SerialComm(), 1, 0.1)
    pending = np.zeros((network.num_local, engine.ring_len, 2))
    with pytest.raises(ValueError, match="ring channels"):
        engine.restore(0, np.arange(network.num_local), {}, pending)


def test_synapses_and_channels_are_the_same_on_any_number_of_ranks(tmp_path):
    model = resolved(tmp_path, network_text("lif_addressed"))

    def synapse_set(ranks):
        partition = make_partition(model, ranks)
        rows = []
        for rank in range(ranks):
            syn = build_local_network(model, partition, rank).synapses
            gids = partition.local_gids(rank)
            sources = np.repeat(np.arange(syn.row_ptr.shape[0] - 1), np.diff(syn.row_ptr))
            rows += zip(sources.tolist(), gids[syn.target_local()].tolist(),
                        syn.target_channel().tolist(), syn.weight.tolist(),
                        syn.delay_steps.tolist())
        return sorted(rows)
    one = synapse_set(1)
    assert synapse_set(2) == one and synapse_set(3) == one
