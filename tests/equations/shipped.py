"""The equation models shipped in models/neurons, parsed and analysed once per session."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from brainsim.equations.analysis import analyse
from equation_yaml import parse_text

NEURONS = Path(__file__).resolve().parents[2] / "models" / "neurons"


@lru_cache(maxsize=None)
def shipped_ir(name: str):
    return analyse(parse_text((NEURONS / f"{name}.yaml").read_text(), f"{name}.yaml"))


@lru_cache(maxsize=None)
def text_ir(text: str):
    return analyse(parse_text(text))


def defaults(ir) -> dict:
    return {p.name: p.default for p in ir.parameters}
