"""The synapse model catalogue (docs/architecture.md §12): every declared model has a
Python twin of its delivery run against its kernel, a NEST 3.10 reference case and a docs
section whose tables are generated from its declaration; the kernel constants and
per-source arrays a delivery passes are the kernel's argument names; declarations and the
registry refuse what contradicts itself."""
from __future__ import annotations

import dataclasses
import glob
import inspect
import json
import os
import re
import sys

import pytest

from cli_runner import REPO
from brainsim.catalogue.synapses import (SYNAPSE_MODELS, PerSourceState,
                                         SynapseDeclarationError, SynapseModel, docs_tables,
                                         registry_of)

KERNEL_TESTS = os.path.join(REPO, "tests", "kernels")
sys.path.insert(0, KERNEL_TESTS)
from synapse_twins import SYNAPSE_TWINS  # noqa: E402

DOCS = os.path.join(REPO, "docs", "synapse-models.md")
REFERENCE = os.path.join(REPO, "tests", "reference")
TSODYKS = SYNAPSE_MODELS["tsodyks_synapse"]
# A reference case's drive connection has no synapse_model in its syn_spec: NEST's default.
NEST_DEFAULT_SYNAPSE = "static_synapse"


def read(path: str) -> str:
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def _generator_synapse_model(reference_file: str) -> str | None:
    """The one synapse_model the file's generator (make_<name>.py) connects with, for files
    whose cases do not name their model (nest_stdp_reference.json); None: none or several."""
    generator = os.path.join(REFERENCE, "make_" + reference_file.replace(".json", ".py"))
    found = set(re.findall(r'"synapse_model":\s*"(\w+)"', read(generator)))
    return found.pop() if len(found) == 1 else None


def reference_cases() -> dict[str, list[str]]:
    """model -> ["file: case", ...] over the NEST plasticity and STDP reference files a
    scientific test reads: the case's plastic model, and static_synapse for a case with a
    drive connection (drive_weight != 0)."""
    scientific = "".join(read(p) for p in glob.glob(os.path.join(REPO, "tests", "scientific",
                                                                 "*.py")))
    paths = (glob.glob(os.path.join(REFERENCE, "nest_*plasticity*.json"))
             + glob.glob(os.path.join(REFERENCE, "nest_stdp*.json")))
    cases: dict[str, list[str]] = {}
    for path in sorted(paths):
        name = os.path.basename(path)
        if name not in scientific:
            continue
        generator_model = _generator_synapse_model(name)
        for case_name, case in json.loads(read(path))["cases"].items():
            models = {case.get("model", generator_model)}
            if case.get("drive_weight", 0.0) != 0.0:
                models.add(NEST_DEFAULT_SYNAPSE)
            for model in models - {None}:
                cases.setdefault(model, []).append(f"{name}: {case_name}")
    return cases


def _kernel_module_name(model: SynapseModel) -> str:
    return model.kernel.rsplit(".", 1)[-1]


def missing_companions(models, twins: dict, references: dict, docs: str) -> list[str]:
    """What each model lacks of its twin, its NEST reference case and its docs section."""
    problems = []
    for model in models:
        twin = twins.get(model.name)
        if twin is None:
            problems.append(f"{model.name}: no twin in tests/kernels/synapse_twins."
                            "SYNAPSE_TWINS")
        else:
            test = read(os.path.join(KERNEL_TESTS, twin.test_module))
            if twin.called_as not in test or _kernel_module_name(model) not in test:
                problems.append(f"{model.name}: {twin.test_module} does not run "
                                f"{twin.called_as} against its kernel")
        if model.name not in references:
            problems.append(f"{model.name}: no NEST reference case in a tests/reference/"
                            "nest_*plasticity*/stdp*.json read by tests/scientific")
        if not re.search(rf"^## .*\b{re.escape(model.name)}\b", docs, re.M):
            problems.append(f"{model.name}: no section in docs/synapse-models.md")
        if docs_tables.models_without_tables(docs, [model]):
            problems.append(f"{model.name}: no generated tables in docs/synapse-models.md")
    return problems


def test_every_model_has_a_twin_a_nest_reference_case_and_a_docs_section():
    assert set(SYNAPSE_TWINS) == set(SYNAPSE_MODELS)
    assert missing_companions(SYNAPSE_MODELS.values(), SYNAPSE_TWINS, reference_cases(),
                              read(DOCS)) == []


def test_a_model_added_without_them_is_named():
    dummy = dataclasses.replace(TSODYKS, name="dummy_synapse")
    problems = missing_companions([*SYNAPSE_MODELS.values(), dummy], SYNAPSE_TWINS,
                                  reference_cases(), read(DOCS))
    assert problems == [
        "dummy_synapse: no twin in tests/kernels/synapse_twins.SYNAPSE_TWINS",
        "dummy_synapse: no NEST reference case in a tests/reference/"
        "nest_*plasticity*/stdp*.json read by tests/scientific",
        "dummy_synapse: no section in docs/synapse-models.md",
        "dummy_synapse: no generated tables in docs/synapse-models.md"]


def test_a_twin_that_no_test_runs_is_named():
    twins = dict(SYNAPSE_TWINS, tsodyks_synapse=dataclasses.replace(
        SYNAPSE_TWINS["tsodyks_synapse"], called_as="st.short_term_twin_unused"))
    assert missing_companions([TSODYKS], twins, reference_cases(), read(DOCS)) == [
        "tsodyks_synapse: test_short_term_delivery.py does not run "
        "st.short_term_twin_unused against its kernel"]


def test_every_model_has_its_own_reference_case():
    cases = reference_cases()
    assert any("nest_stdp_reference.json" in c for c in cases["stdp_synapse"])
    for name in ("stdp_pl_synapse_hom", "tsodyks_synapse", "tsodyks2_synapse"):
        assert all(c.startswith("nest_plasticity_reference.json") for c in cases[name])


def test_committed_docs_tables_are_those_of_the_declarations():
    text = read(DOCS)
    assert docs_tables.with_tables(text, SYNAPSE_MODELS.values()) == text, \
        "run: python -m brainsim.catalogue.synapses.docs_tables"
    changed = dataclasses.replace(TSODYKS, parameters=tuple(
        dataclasses.replace(p, default=500.0) if p.name == "tau_rec" else p
        for p in TSODYKS.parameters))
    assert docs_tables.with_tables(text, [changed]) != text


def test_a_docs_file_without_a_models_block_is_refused():
    text = read(DOCS)
    without = docs_tables._block_pattern("tsodyks_synapse").sub("", text)
    with pytest.raises(ValueError, match="0 table blocks for tsodyks_synapse"):
        docs_tables.with_tables(without, [TSODYKS])


def names_the_kernel_lacks(model: SynapseModel) -> list[str]:
    """Kernel constants and per-source arrays of the model that are not arguments of its
    kernel function (the deliveries pass them by these names)."""
    arguments = set(inspect.signature(model.compiled).parameters)
    names = [*model.kernel_constants(model.defaults), *(s.name for s in model.per_source)]
    return [name for name in names if name not in arguments]


@pytest.mark.parametrize("name", sorted(SYNAPSE_MODELS))
def test_the_kernel_takes_what_the_declaration_names(name):
    assert names_the_kernel_lacks(SYNAPSE_MODELS[name]) == []


def test_a_constant_the_kernel_does_not_take_is_named():
    renamed = dataclasses.replace(TSODYKS, kernel_constants=lambda p: {"tau_recovery": 1.0})
    assert names_the_kernel_lacks(renamed) == ["tau_recovery"]


def test_the_registry_refuses_a_repeated_name_and_needs_static_synapse():
    with pytest.raises(SynapseDeclarationError, match="declared twice"):
        registry_of([SYNAPSE_MODELS["static_synapse"], TSODYKS, TSODYKS])
    with pytest.raises(SynapseDeclarationError, match="needs static_synapse"):
        registry_of([TSODYKS])


def test_a_declaration_that_contradicts_itself_is_refused():
    with pytest.raises(SynapseDeclarationError, match="first per-source state must be "
                                                      "t_last"):
        dataclasses.replace(TSODYKS, per_source=TSODYKS.per_source[1:])
    with pytest.raises(SynapseDeclarationError, match="starts at parameter 'x0'"):
        dataclasses.replace(TSODYKS, per_source=(*TSODYKS.per_source,
                                                 PerSourceState("z", "", "x0")))
    with pytest.raises(SynapseDeclarationError, match="shares the static CSR"):
        dataclasses.replace(TSODYKS, delivery=None)


def files_naming_models(paths, names) -> list[str]:
    """'path: model' for each file among paths (relative to the repo) that names a model."""
    return [f"{path}: {name}" for path in paths for name in names
            if re.search(rf"\b{re.escape(name)}\b", read(os.path.join(REPO, path)))]


# The layers that derive everything from the declarations and name no model (issue #13).
MODEL_FREE = (*sorted(os.path.relpath(p, REPO) for p in glob.glob(
    os.path.join(REPO, "brainsim", "engine", "*.py"))),
    "brainsim/network/build.py", "brainsim/network/plasticity.py",
    "brainsim/network/estimate.py")


def test_engine_build_plasticity_and_estimate_name_no_synapse_model():
    assert files_naming_models(MODEL_FREE, SYNAPSE_MODELS) == []
    assert files_naming_models(["brainsim/catalogue/synapses/__init__.py"],
                               ["tsodyks_synapse"]) == [
        "brainsim/catalogue/synapses/__init__.py: tsodyks_synapse"]
