"""Parse equation-model YAML text the way a model file is read (file label, lines)."""
from __future__ import annotations

from brainsim.equations.parse import parse_neuron_model
from brainsim.spec.checker import Checker
from brainsim.spec.errors import Sources
from brainsim.spec.yaml_loader import parse_yaml


def parse_text(text: str, label: str = "model.yaml"):
    """The one model of a `neuron_models:` document."""
    document, lines = parse_yaml(text, label)
    (name, spec), = document["neuron_models"].items()
    return parse_neuron_model(Checker(Sources(label, lines)), name, spec)
