"""Where PyNN's system-test scenarios are: they ship only in PyNN's source distribution.

BRAINSIM_PYNN_SCENARIOS names a test/system/scenarios directory; otherwise the sdist of the
installed PyNN version is fetched once with pip (the registry CI installs from) and
unpacked into a cache ($BRAINSIM_PYNN_SDIST_CACHE, default ~/.cache/brainsim/pynn-sdist).
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile


class ScenariosUnavailable(RuntimeError):
    """PyNN's source distribution could not be fetched or unpacked."""


def cache_root() -> str:
    return os.environ.get("BRAINSIM_PYNN_SDIST_CACHE",
                          os.path.join(os.path.expanduser("~"), ".cache", "brainsim",
                                       "pynn-sdist"))


def scenarios_dir(version: str) -> str:
    """The scenarios directory of PyNN `version`, fetched into the cache when absent."""
    given = os.environ.get("BRAINSIM_PYNN_SCENARIOS")
    if given:
        return given
    unpacked = os.path.join(cache_root(), f"pynn-{version}")
    scenarios = os.path.join(unpacked, "test", "system", "scenarios")
    if not os.path.isdir(scenarios):
        _fetch(version, unpacked)
    return scenarios


def _fetch(version: str, unpacked: str) -> None:
    """Download and unpack the sdist; a complete copy appears in one rename (concurrent
    test runs may fetch at once: the first rename wins, the others keep it)."""
    os.makedirs(cache_root(), exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_root()) as scratch:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--no-binary", ":all:", f"PyNN=={version}", "-d", scratch],
            capture_output=True, text=True)
        archives = glob.glob(os.path.join(scratch, "*.tar.gz"))
        if done.returncode != 0 or not archives:
            last = (done.stderr.strip().splitlines() or ["no archive"])[-1]
            raise ScenariosUnavailable(f"pip download PyNN=={version} sdist failed: {last}")
        with tarfile.open(archives[0]) as archive:
            archive.extractall(scratch, filter="data")
        tops = [p for p in glob.glob(os.path.join(scratch, "*")) if os.path.isdir(p)]
        if len(tops) != 1 or not os.path.isdir(os.path.join(tops[0], "test", "system")):
            raise ScenariosUnavailable(f"PyNN {version} sdist has no test/system/scenarios")
        try:
            os.rename(tops[0], unpacked)
        except OSError:
            if not os.path.isdir(unpacked):
                raise
    shutil.rmtree(os.path.join(unpacked, "build"), ignore_errors=True)
