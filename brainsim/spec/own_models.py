"""`neuron_models:`: a model file's own neuron models (equation models, docs/model-format.md),
read into NeuronModel declarations next to the built-ins.

An entry is a definition (parameters, state, equations, ...), or a reference
``{file: PATH, model: NAME}`` to a definition in another file's `neuron_models:` (PATH
relative to the folder of the model file; `model` defaults to the entry's name). A
population's `model:` that names neither a built-in nor an entry, but one of the equation
models shipped with brainsim (models/neurons: hh_psc_alpha, aeif_psc_exp, ...), uses that.
Every model used is written into the resolved document as its definition, so a run's
copy of the model file and its checkpoints stand alone.
"""
from __future__ import annotations

import copy
import dataclasses
import os
from dataclasses import dataclass

from .checker import IDENTIFIER, Checker, describe
from .errors import SpecError, Sources
from .neuron_models import NEURON_MODELS, DeclarationError, NeuronModel
from .yaml_loader import read_yaml

REFERENCE_KEYS = ("file", "model")
SECTION = "neuron_models"


@dataclass(frozen=True)
class OwnModel:
    """One own model: its declaration, its definition (the mapping as written, for the
    resolved document and the model hash) and where it was read (file of the error)."""
    declaration: NeuronModel
    definition: dict
    source: str


def read_own_models(ck: Checker, top: dict, source_path: str) -> dict[str, OwnModel]:
    """name -> OwnModel for every entry of `neuron_models` and every shipped model a
    population names; writes each definition back into `top` (self-contained document)."""
    raw = top.get(SECTION)
    raw = {} if raw is None else raw
    ck.mapping(raw, (SECTION,), list(raw) if isinstance(raw, dict) else [],
               what="a mapping of model name to its definition")
    own = {}
    for name in list(raw):
        path = (SECTION, name)
        if not IDENTIFIER.match(name):
            ck.fail(path, f"model name '{name}'", "an identifier (letters, digits, _)")
        if name in NEURON_MODELS:
            ck.fail(path, f"'{name}' is a built-in model",
                    "another name for the model file's own model")
        own[name] = _read_entry(ck, raw[name], name, path, source_path)
    for name in _shipped_names_used(top, own):
        own[name] = _read_shipped(name)
    if own:
        top[SECTION] = {name: model.definition for name, model in own.items()}
    return own


def _read_entry(ck: Checker, entry, name: str, path: tuple, source_path: str) -> OwnModel:
    if isinstance(entry, dict) and "file" in entry:
        ck.mapping(entry, path, REFERENCE_KEYS, required=("file",),
                   what="{file: PATH, model: NAME}")
        file = ck.string(entry, "file", path)
        wanted = ck.string(entry, "model", path, default=name, identifier=True)
        folder = os.path.dirname(os.path.abspath(source_path)) if source_path else os.getcwd()
        target = os.path.normpath(os.path.join(folder, os.path.expanduser(file)))
        if not os.path.isfile(target):
            ck.fail(path + ("file",), f"'{file}': no such file ({target})",
                    "a YAML file with a neuron_models mapping")
        return _read_from_file(target, wanted, name)
    return _compiled(ck, entry, name, name, source_path)


def _read_from_file(file: str, wanted: str, name: str) -> OwnModel:
    """Model `wanted` of `file`'s neuron_models, under the entry name `name`."""
    document, lines = read_yaml(file)
    ck = Checker(Sources(file, lines))
    if not isinstance(document, dict) or not isinstance(document.get(SECTION), dict):
        raise SpecError(f"{describe(document)}; expected a mapping with a "
                        f"'{SECTION}' mapping", file=file)
    models = document[SECTION]
    if wanted not in models:
        ck.fail((SECTION,), f"no model '{wanted}'",
                "one of " + (", ".join(models) or "(none defined)"))
    definition = models[wanted]
    if isinstance(definition, dict) and "file" in definition:
        ck.fail((SECTION, wanted, "file"), "a reference to another file",
                "the model's definition (references do not chain)")
    return _compiled(ck, definition, wanted, name, file)


def _shipped_names_used(top: dict, own: dict) -> list[str]:
    """Names of shipped equation models that populations use and nothing else defines."""
    from brainsim.shipped import shipped_neuron_models
    pops = top.get("populations")
    if not isinstance(pops, list):
        return []
    names = [p.get("model") for p in pops if isinstance(p, dict)]
    names = [n for n in dict.fromkeys(names)
             if isinstance(n, str) and n not in NEURON_MODELS and n not in own]
    if not names:
        return []
    shipped = shipped_neuron_models()
    return [n for n in names if n in shipped]


def _read_shipped(name: str) -> OwnModel:
    from brainsim.shipped import shipped_neuron_models
    return _read_from_file(shipped_neuron_models()[name], name, name)


def _compiled(ck: Checker, definition, name_in_file: str, name: str,
              source: str) -> OwnModel:
    """Parse, analyse and lower one definition; the declaration is named `name`."""
    from brainsim.equations.analysis import analyse
    from brainsim.equations.declare import declaration_of
    from brainsim.equations.lower import LowerError, lower
    from brainsim.equations.parse import parse_neuron_model

    kept = copy.deepcopy(definition)      # parsing writes evaluated values back
    path = (SECTION, name_in_file)
    model = parse_neuron_model(ck, name_in_file, definition)
    if not model.receptors:
        ck.fail(path, "no receptors", "at least one receptor (the port spikes arrive at), "
                "e.g. receptors: {ex: {kernel: delta, jump: V_m}}")
    ir = analyse(dataclasses.replace(model, name=name))
    try:
        declaration = declaration_of(ir, lower(ir))
    except DeclarationError as err:
        ck.fail(path, str(err))
    except (LowerError, ValueError) as err:     # receptor count, mixed weight units
        ck.fail(path + ("receptors",), str(err))
    return OwnModel(declaration, kept, source)
