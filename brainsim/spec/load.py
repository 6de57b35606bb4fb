"""load_model: model file + run config + --set overrides -> ResolvedModel."""
from __future__ import annotations

import os
from typing import Iterable

from .errors import SpecError, Sources
from .merge import apply_override, merge_config
from .model import ResolvedModel
from .resolve import resolve
from .yaml_loader import read_yaml


def load_model(model_path: str, config_path: str | None = None,
               overrides: Iterable[str] = ()) -> ResolvedModel:
    """Read, merge, validate and resolve a model.

    model_path: the model YAML file; config_path: an optional run config (keys
    simulation, scale, scaling, recording, output, parameters, run), deep-merged over it;
    overrides: 'dotted.path=value' strings (YAML scalars), applied last, in order.
    Raises SpecError (one line, naming file, line and YAML path) on any problem.
    """
    model_path = os.fspath(model_path)
    doc, lines = read_yaml(model_path)
    if not isinstance(doc, dict):
        found = "an empty document" if doc is None else f"a {type(doc).__name__}"
        raise SpecError(f"{found}; expected a mapping (the model: name, simulation, "
                        "populations, ...)", file=model_path)
    sources = Sources(model_path, lines)
    if config_path is not None:
        config_path = os.fspath(config_path)
        config, config_lines = read_yaml(config_path)
        merge_config(doc, config, config_path, config_lines, sources)
    if overrides is None:
        overrides = ()
    elif isinstance(overrides, str):
        overrides = [overrides]
    for text in overrides:
        apply_override(doc, text, sources)
    return resolve(doc, sources, model_path)


def load_document(doc: dict, overrides: Iterable[str] = (), label: str = "<dict>"
                  ) -> ResolvedModel:
    """Validate and resolve a model document given as a Python dict (it may hold numpy
    arrays where the format allows them, e.g. from_list connections); overrides as for
    load_model. Errors name `label` in place of a file."""
    if not isinstance(doc, dict):
        raise SpecError(f"a {type(doc).__name__}; expected a mapping (the model: name, "
                        "simulation, populations, ...)", file=label)
    sources = Sources(label, {})
    for text in overrides:
        apply_override(doc, text, sources)
    return resolve(doc, sources, label)
