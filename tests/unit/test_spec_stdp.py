"""The stdp_synapse in model files: NEST defaults, tau_minus on the neuron, refusals."""
from __future__ import annotations

import pytest
import yaml

from brainsim.spec import NEURON_MODELS, SpecError, load_model


def document(synapse: dict, target_model: str = "iaf_psc_exp", **target_params) -> dict:
    return {"name": "stdp", "simulation": {"dt": 0.1, "t_sim": 10.0, "seed": 1},
            "populations": [{"name": "A", "size": 4, "model": "iaf_psc_exp"},
                            {"name": "B", "size": 4, "model": target_model,
                             "params": target_params}],
            "projections": [{"source": "A", "target": "B", "rule": "all_to_all",
                             "synapse": synapse}]}


def load(tmp_path, doc):
    path = tmp_path / "model.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_model(str(path))


def test_nest_defaults_and_tau_minus(tmp_path):
    model = load(tmp_path, document({"model": "stdp_synapse", "weight": 5.0,
                                     "params": {"lambda": 0.1}}, tau_minus=30.0))
    proj = model.projections[0]
    assert dict(proj.synapse_params) == {"tau_plus": 20.0, "lambda": 0.1, "alpha": 1.0,
                                         "mu_plus": 1.0, "mu_minus": 1.0, "Wmax": 100.0}
    assert model.populations[1].params["tau_minus"] == 30.0
    assert model.populations[0].params["tau_minus"] == 20.0
    for name in ("iaf_psc_exp", "iaf_psc_alpha", "iaf_psc_delta"):
        assert NEURON_MODELS[name].defaults["tau_minus"] == 20.0
    static = load(tmp_path, document({"weight": 5.0}))
    assert static.projections[0].synapse_params == ()


@pytest.mark.parametrize("synapse, target, words", [
    ({"weight": 5.0, "params": {"lambda": 0.1}}, "iaf_psc_exp", "static_synapse"),
    ({"model": "stdp_synapse", "weight": 5.0, "params": {"tau": 1.0}}, "iaf_psc_exp", "tau"),
    ({"model": "stdp_synapse", "weight": -5.0}, "iaf_psc_exp", "sign"),
    ({"model": "stdp_synapse", "weight": 5.0, "params": {"tau_plus": 0.0}}, "iaf_psc_exp",
     "tau_plus"),
    ({"model": "stdp_synapse", "weight": 5.0}, "iaf_cond_exp", "iaf_cond_exp"),
])
def test_refused(tmp_path, synapse, target, words):
    with pytest.raises(SpecError) as err:
        load(tmp_path, document(synapse, target))
    assert words in str(err.value)
