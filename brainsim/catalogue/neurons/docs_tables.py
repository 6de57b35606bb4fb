"""The parameter and state tables of docs/neuron-models.md, generated from the declarations.

Each model's section holds one generated block between the markers below; the prose around
it is written by hand. Rewrite the blocks after changing a declaration:

    python -m brainsim.catalogue.neurons.docs_tables            # rewrites the docs
    python -m brainsim.catalogue.neurons.docs_tables --check    # exit 1 if out of date

tests/unit/test_neuron_catalogue.py checks that the committed docs match.
"""
from __future__ import annotations

import math
import os
import re
import sys
from typing import Iterable

from brainsim.catalogue.neurons.declaration import INT32, NeuronModel

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs",
                    "neuron-models.md")
BEGIN = ("<!-- tables of {name}: generated from its declaration by "
         "`python -m brainsim.catalogue.neurons.docs_tables`; do not edit -->")
END = "<!-- end of the tables of {name} -->"


def _value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return repr(float(value))


def _parameter_rows(model: NeuronModel) -> list[str]:
    rows = ["| param | unit | default | note |", "|---|---|---|---|"]
    for p in model.parameters:
        unit = "bool" if p.flag else (p.unit or "—")
        rows.append(f"| `{p.name}` | {unit} | {_value(p.default)} | {p.note} |")
    return rows


def _initial(model: NeuronModel, variable) -> str:
    if variable.initial is None:
        return "—"
    if isinstance(variable.initial, str):
        return f"default `{variable.initial}` ({_value(model.defaults[variable.initial])})"
    return _value(variable.initial)


def _state_rows(model: NeuronModel) -> list[str]:
    rows = ["| state | unit | initial (`initial:`) | recordable | stored |",
            "|---|---|---|---|---|"]
    for v in model.state:
        stored = (f"relative to `{v.relative_to}`" if v.relative_to
                  else "int32" if v.dtype == INT32 else "")
        rows.append(f"| `{v.name}` | {v.unit} | {_initial(model, v)} | "
                    f"{'yes' if v.recordable else ''} | {stored} |")
    return rows


def _kernel_name(model: NeuronModel) -> str:
    kernel = model.kernel if isinstance(model.kernel, str) else model.kernel.__name__
    if kernel.startswith("cython_kernels."):
        return f"`{kernel.replace('.', '/')}.pyx`"
    return f"`{kernel}`"


def _summary(model: NeuronModel) -> str:
    units = model.weight_unit + (" or mV of peak PSP" if model.psp_conversion else "")
    ports = ", ".join(
        f"`{p.name}` (w {'≥' if p.weight_sign > 0 else '<'} 0"
        + (f", `{p.time_constant}`" if p.time_constant else "")
        + (f", `{p.reversal}`" if p.reversal else "") + ")" for p in model.receptors)
    facts = [f"Weights: {units}" + (" (ignored: each spike is one event)"
                                    if model.ignores_weight else ""),
             f"receptors: {ports}",
             f"STDP target (archives its spikes): {'yes' if model.archives_spikes else 'no'}",
             f"kernel: {_kernel_name(model)}"]
    return " · ".join(facts) + "."


def model_tables(model: NeuronModel) -> str:
    """The generated block of one model, markers included."""
    lines = [BEGIN.format(name=model.name), *_parameter_rows(model), ""]
    if model.state:
        lines += [*_state_rows(model), ""]
    lines += [_summary(model), END.format(name=model.name)]
    return "\n".join(lines)


def _block_pattern(name: str) -> re.Pattern:
    return re.compile(re.escape(BEGIN.format(name=name)) + r".*?" +
                      re.escape(END.format(name=name)), re.S)


def models_without_tables(text: str, models: Iterable[NeuronModel]) -> list[str]:
    """Names of the models whose generated block is missing from the docs text."""
    return [m.name for m in models if not _block_pattern(m.name).search(text)]


def with_tables(text: str, models: Iterable[NeuronModel]) -> str:
    """The docs text with every model's block regenerated (blocks must already exist:
    where a model's section goes is the author's choice)."""
    for model in models:
        text, count = _block_pattern(model.name).subn(lambda _: model_tables(model), text)
        if count != 1:
            raise ValueError(f"docs/neuron-models.md has {count} table blocks for "
                             f"{model.name}; put exactly one in its section:\n"
                             f"{BEGIN.format(name=model.name)}\n{END.format(name=model.name)}")
    return text


def main(argv: list[str]) -> int:
    from brainsim.catalogue.neurons import NEURON_MODELS
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    updated = with_tables(text, NEURON_MODELS.values())
    if "--check" in argv:
        if updated != text:
            print(f"{os.path.normpath(DOCS)} is out of date: run "
                  "python -m brainsim.catalogue.neurons.docs_tables", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        with open(DOCS, "w", encoding="utf-8") as handle:
            handle.write(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
