"""Fuzz (issue 8): random mutations of the shipped models must either load or raise
SpecError with a one-line message, never anything else (no KeyError, TypeError, ...),
also for hostile values (issue 20: huge integers, control characters, deep nesting).

Mutations: delete a key, change a value's type, numbers to NaN/inf/negative/zero/huge,
rename a key, insert an unknown key, truncate a list, swap two list items (populations,
projections). Bounded to a few seconds (max_examples)."""
from __future__ import annotations

import copy
import glob
import math
import os
import tempfile

import pytest
import yaml

from cli_runner import MODELS

hypothesis = pytest.importorskip("hypothesis", reason="pip install hypothesis (test extras)")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from brainsim.spec import SpecError, load_model  # noqa: E402

SHIPPED = sorted(glob.glob(os.path.join(MODELS, "*.yaml")))
DOCUMENTS = {os.path.basename(p): yaml.safe_load(open(p)) for p in SHIPPED}
NUMBERS = [math.nan, math.inf, -math.inf, -1, -1.5, 0, 0.0, 1e300, 10**30, 2**64,
           10**400, -(2**70), 65536.0, 1e7]


def _nested(depth: int):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


# hostile values (issue 20): control characters, an expression nested 500 deep, a list
# nested 100 deep, a long name, an HDF5 path
OTHER_TYPES = ["text", [], {}, [1, 2], {"a": 1}, None, True, "E\x00\x1b[2J", "-" * 500 + "1",
               _nested(100), "x" * 300, "a/b"]


def _places(node, path=()):
    """Every (container, key) in a document, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield node, key
            yield from _places(value, path + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield node, index
            yield from _places(value, path + (index,))


def _containers(node):
    if isinstance(node, (dict, list)):
        yield node
        for value in (node.values() if isinstance(node, dict) else node):
            yield from _containers(value)


@st.composite
def mutated_documents(draw):
    name = draw(st.sampled_from(sorted(DOCUMENTS)))
    document = copy.deepcopy(DOCUMENTS[name])
    for _ in range(draw(st.integers(1, 3))):
        places = list(_places(document))
        container, key = draw(st.sampled_from(places))
        kind = draw(st.sampled_from(["delete", "type", "number", "rename", "insert",
                                     "truncate", "swap"]))
        if kind == "delete":
            del container[key]
        elif kind == "type":
            container[key] = copy.deepcopy(draw(st.sampled_from(OTHER_TYPES)))
        elif kind == "number":
            container[key] = draw(st.sampled_from(NUMBERS))
        elif kind == "rename" and isinstance(container, dict):
            container[str(key) + draw(st.sampled_from(["_x", "s", "z"]))] = container.pop(key)
        elif kind == "insert":
            target = draw(st.sampled_from(list(_containers(document))))
            if isinstance(target, dict):
                target["unknown_key"] = copy.deepcopy(draw(st.sampled_from(NUMBERS + OTHER_TYPES)))
            else:
                target.append(copy.deepcopy(draw(st.sampled_from(NUMBERS + OTHER_TYPES))))
        elif kind in ("truncate", "swap"):
            lists = [c for c in _containers(document) if isinstance(c, list) and c]
            if lists:
                target = draw(st.sampled_from(lists))
                if kind == "truncate":
                    del target[draw(st.integers(0, len(target) - 1)):]
                elif len(target) > 1:
                    i, j = draw(st.permutations(range(len(target))))[:2]
                    target[i], target[j] = target[j], target[i]
        if not isinstance(document, dict):
            break
    return name, document


def _dump(document) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(mutated_documents())
def test_mutated_models_load_or_raise_one_line_spec_error(case):
    name, document = case
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, name)
        with open(path, "w") as handle:
            handle.write(_dump(document))
        try:
            # small scale: a mutation must not make the test build anything large
            load_model(path, None, [])
        except SpecError as err:
            message = str(err)
            assert message and "\n" not in message, repr(message)
