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


CASE_KEYS = {"description", "file", "config", "overrides", "expect", "path", "where", "line"}


def expect_header(path: str) -> str | None:
    """The `# expect: ...` line a case file states in its first lines, if any."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle.read().splitlines()[:5]:
            if line.startswith("# expect: "):
                return line[len("# expect: "):]
    return None


@pytest.mark.parametrize("case", sorted(CASES))
def test_catalogue_case_is_complete_and_agrees_with_its_file(case):
    """Each case says what it tests and what the message must hold; its files exist, `where`
    is the file, the config or --set it changes, and the file's own `# expect:` comment (if
    it has one) is the catalogue's."""
    spec = CASES[case]
    assert set(spec) <= CASE_KEYS, sorted(set(spec) - CASE_KEYS)
    for key in ("description", "file", "expect", "where"):
        assert isinstance(spec.get(key), str) and spec[key].strip(), key
    assert os.path.isfile(os.path.join(BAD, spec["file"]))
    if spec.get("config"):
        assert os.path.isfile(os.path.join(BAD, spec["config"]))
    assert spec["where"] in (spec["file"], spec.get("config"), "--set")
    assert all(isinstance(o, str) for o in spec.get("overrides", []))
    header = expect_header(os.path.join(BAD, spec["file"]))
    assert header is None or header == spec["expect"], header


def test_catalogue_cases_are_distinct():
    inputs = [(c["file"], c.get("config"), tuple(c.get("overrides", []))) for c in CASES.values()]
    assert len(set(inputs)) == len(inputs)
    descriptions = [c["description"] for c in CASES.values()]
    assert len(set(descriptions)) == len(descriptions)


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
