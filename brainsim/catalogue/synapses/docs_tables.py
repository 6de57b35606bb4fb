"""The parameter and per-source state tables of docs/synapse-models.md, generated from the
declarations.

Each model's section holds one generated block between the markers below; the prose around
it is written by hand. Rewrite the blocks after changing a declaration:

    python -m brainsim.catalogue.synapses.docs_tables            # rewrites the docs
    python -m brainsim.catalogue.synapses.docs_tables --check    # exit 1 if out of date

tests/unit/test_synapse_catalogue.py checks that the committed docs match.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Iterable

from brainsim.catalogue.synapses.declaration import SynapseModel

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "docs",
                    "synapse-models.md")
BEGIN = ("<!-- tables of {name}: generated from its declaration by "
         "`python -m brainsim.catalogue.synapses.docs_tables`; do not edit -->")
END = "<!-- end of the tables of {name} -->"


def _bounds(p) -> str:
    parts = []
    if p.minimum is not None:
        parts.append(f"≥ {p.minimum:g}")
    if p.above is not None:
        parts.append(f"> {p.above:g}")
    if p.maximum is not None:
        parts.append(f"≤ {p.maximum:g}")
    return ", ".join(parts) or "—"


def _parameter_rows(model: SynapseModel) -> list[str]:
    rows = ["| param | unit | default | allowed | note |", "|---|---|---|---|---|"]
    for p in model.parameters:
        rows.append(f"| `{p.name}` | {p.unit or '—'} | {float(p.default)!r} | {_bounds(p)} "
                    f"| {p.note} |")
    return rows


def _state_rows(model: SynapseModel) -> list[str]:
    rows = ["| per-source state | unit | initial | stored | note |", "|---|---|---|---|---|"]
    for s in model.per_source:
        initial = f"`{s.initial}`" if isinstance(s.initial, str) else repr(s.initial)
        rows.append(f"| `{s.name}` | {s.unit or '—'} | {initial} | {s.dtype} | {s.note} |")
    return rows


def _summary(model: SynapseModel) -> str:
    kernel = f"`{model.kernel.replace('.', '/')}.pyx` `{model.kernel_function}`"
    if not model.plastic:
        return (f"No parameters or state; its projections share the static CSR · kernel: "
                f"{kernel}.")
    targets = ("models that archive spikes (`archives_spikes`)" if model.uses_post_trace
               else "any")
    weights = "; ".join(rule.summary for rule in model.weight_rules) or "any"
    return " · ".join([f"Postsynaptic trace: {'yes' if model.uses_post_trace else 'no'}",
                       f"targets: {targets}", f"initial weights: {weights}",
                       f"kernel: {kernel}"]) + "."


def model_tables(model: SynapseModel) -> str:
    """The generated block of one model, markers included."""
    lines = [BEGIN.format(name=model.name)]
    if model.parameters:
        lines += [*_parameter_rows(model), ""]
    if model.per_source:
        lines += [*_state_rows(model), ""]
    lines += [_summary(model), END.format(name=model.name)]
    return "\n".join(lines)


def _block_pattern(name: str) -> re.Pattern:
    return re.compile(re.escape(BEGIN.format(name=name)) + r".*?" +
                      re.escape(END.format(name=name)), re.S)


def models_without_tables(text: str, models: Iterable[SynapseModel]) -> list[str]:
    """Names of the models whose generated block is missing from the docs text."""
    return [m.name for m in models if not _block_pattern(m.name).search(text)]


def with_tables(text: str, models: Iterable[SynapseModel]) -> str:
    """The docs text with every model's block regenerated (blocks must already exist:
    where a model's section goes is the author's choice)."""
    for model in models:
        text, count = _block_pattern(model.name).subn(lambda _: model_tables(model), text)
        if count != 1:
            raise ValueError(f"docs/synapse-models.md has {count} table blocks for "
                             f"{model.name}; put exactly one in its section:\n"
                             f"{BEGIN.format(name=model.name)}\n{END.format(name=model.name)}")
    return text


def main(argv: list[str]) -> int:
    from brainsim.catalogue.synapses import SYNAPSE_MODELS
    with open(DOCS, encoding="utf-8") as handle:
        text = handle.read()
    updated = with_tables(text, SYNAPSE_MODELS.values())
    if "--check" in argv:
        if updated != text:
            print(f"{os.path.normpath(DOCS)} is out of date: run "
                  "python -m brainsim.catalogue.synapses.docs_tables", file=sys.stderr)
            return 1
        return 0
    if updated != text:
        with open(DOCS, "w", encoding="utf-8") as handle:
            handle.write(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
