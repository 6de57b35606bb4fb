"""Runs PyNN's own system-test scenarios (test/system/scenarios of PyNN's source
distribution) against brainsim.pynn: each scenario is a function taking `sim`, as
PyNN's test/system/test_nest.py drives them with pyNN.nest.

    python tests/pynn/scenario_runner.py PATH/TO/pyNN-0.13.0/test/system/scenarios

prints one line per scenario (passed / failed / skipped, the reason) and a summary.
"""
from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import time
import traceback


def load_scenarios(directory: str):
    """[(module name, function name, function)] of every scenario taking `sim`; the
    directory is imported as package `pynn_scenarios` (PyNN's own package path `test`
    would clash with the standard library's)."""
    spec = importlib.util.spec_from_file_location(
        "pynn_scenarios", os.path.join(directory, "__init__.py"),
        submodule_search_locations=[directory])
    package = importlib.util.module_from_spec(spec)
    sys.modules["pynn_scenarios"] = package
    spec.loader.exec_module(package)
    found = []
    for entry in sorted(os.listdir(directory)):
        if entry.startswith("test") and entry.endswith(".py"):
            module = importlib.import_module(f"pynn_scenarios.{entry[:-3]}")
            for name, fn in inspect.getmembers(module, inspect.isfunction):
                if name.startswith("test") and fn.__module__ == module.__name__ \
                        and "sim" in inspect.signature(fn).parameters:
                    found.append((entry[:-3], name, fn))
    return found


def run_scenario(fn, sim) -> tuple[str, str]:
    """('passed' | 'failed' | 'skipped', the reason: last line of the error)."""
    import pytest
    try:
        fn(sim=sim)
    except pytest.skip.Exception as skip:
        return "skipped", str(skip)
    except BaseException as err:       # a scenario's assertion or a refusal: recorded
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        return "failed", last.splitlines()[0][:160]
    return "passed", ""


def main(directory: str) -> int:
    import tempfile
    import brainsim.pynn as sim
    directory = os.path.abspath(directory)
    os.chdir(tempfile.mkdtemp(prefix="pynn_scenarios_"))    # the files scenarios write
    results = []
    for module, name, fn in load_scenarios(directory):
        started = time.perf_counter()
        outcome, reason = run_scenario(fn, sim)
        results.append((outcome, module, name))
        print(f"{outcome:8s} {module}::{name} ({time.perf_counter() - started:.1f} s) {reason}",
              flush=True)
    counts = {o: sum(1 for r in results if r[0] == o) for o in ("passed", "failed", "skipped")}
    print(" ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
