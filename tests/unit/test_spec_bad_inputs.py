"""Every case of the bad-input catalogue (tests/bad_inputs/cases.yaml) is refused with a
one-line SpecError that names the file (or --set) and the YAML path."""
from __future__ import annotations

import os

import pytest
import yaml

from brainsim.spec import SpecError, load_model

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(os.path.dirname(HERE), "bad_inputs")

with open(os.path.join(BAD, "cases.yaml"), encoding="utf-8") as _f:
    CASES = yaml.safe_load(_f)


def test_catalogue_is_large_enough():
    assert len(CASES) >= 20


def test_base_of_the_catalogue_is_valid():
    model = load_model(os.path.join(BAD, "valid_base.yaml"))
    assert [p.name for p in model.populations] == ["E", "I"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused(case):
    spec = CASES[case]
    config = os.path.join(BAD, spec["config"]) if spec.get("config") else None
    with pytest.raises(SpecError) as info:
        load_model(os.path.join(BAD, spec["file"]), config, spec.get("overrides", []))
    message = str(info.value)
    assert "\n" not in message
    assert spec["expect"] in message
    assert spec["where"] in message
    if "path" in spec:
        assert f": {spec['path']}: " in message
    if "line" in spec:
        assert f"{spec['where']}:{spec['line']}:" in message
