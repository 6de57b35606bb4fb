"""An equation model with more than two receptors (models/neurons/iaf_psc_exp_multisynapse,
NEST's receptor_type 1..3) is receptor-addressed: its declaration's ports take weights of
either sign on channels 0..2, its KernelSpec says so, and its generated kernel gathers
the three channels (block_input.gather_block_channels) and exports RING_CHANNELS; a model
with two receptors keeps the sign-chosen ports and the generated source it had."""
from __future__ import annotations

import pytest
import yaml

from brainsim.catalogue.neurons import ANY_SIGN
from brainsim.codegen.generate import kernel_source
from brainsim.spec import load_model


def declaration(tmp_path, model_name: str):
    path = tmp_path / f"{model_name}.yaml"
    path.write_text(yaml.safe_dump({"name": "m", "simulation": {"t_sim": 1.0},
                                    "populations": [{"name": "A", "size": 1,
                                                     "model": model_name}]}))
    model = load_model(str(path))
    return model.neuron_model_of(model.populations[0])


def test_three_receptors_are_ports_reached_by_name(tmp_path):
    model = declaration(tmp_path, "iaf_psc_exp_multisynapse")
    assert model.receptor_addressed and model.ring_channels == 3
    assert [(p.name, p.channel, p.weight_sign, p.time_constant) for p in model.receptors] \
        == [(f"r{k + 1}", k, ANY_SIGN, f"tau_syn_{k + 1}") for k in range(3)]
    params = dict(model.defaults)
    assert model.charge(params, model.receptor_named("r3")) == params["tau_syn_3"]


def test_their_kernel_gathers_every_channel(tmp_path):
    spec = declaration(tmp_path, "iaf_psc_exp_multisynapse").kernel.spec
    assert spec.receptor_addressed
    assert [(r.channel, r.factor) for r in spec.receptors] == [(0, "1.0"), (1, "1.0"),
                                                               (2, "1.0")]
    source = kernel_source(spec)
    assert "\nRING_CHANNELS = 3\n" in source
    assert "gather_block_channels(_ring, _local_gids, _b, _nb, _first_step, _n_steps, " \
        "_ws, _seed, _seg, 3)" in source
    assert "input_r3 = _ex[2 * _stride + _j * _nb + _lane]" in source


@pytest.mark.parametrize("model_name", ["aeif_psc_exp", "iaf_cond_beta"])
def test_two_receptors_stay_chosen_by_sign(tmp_path, model_name):
    model = declaration(tmp_path, model_name)
    assert not model.receptor_addressed
    assert [p.weight_sign for p in model.receptors] == [+1, -1]
    source = kernel_source(model.kernel.spec)
    assert "_stride" not in source and "RING_CHANNELS" not in source
    assert "gather_block(_ring" in source
