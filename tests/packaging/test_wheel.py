"""brainsim as a user installs it: `python -m build` makes the sdist and, from it, the wheel
(no build isolation: the `test` extra holds the build tools, so nothing is downloaded for
the build); the wheel goes into a fresh virtual environment; brainsim then runs from there
with the working directory outside the source tree and the source tree not on sys.path.

The build compiles every kernel (about 3 CPU-minutes, spread over the cores). Runtime
dependencies are installed without an index where the configured find-links hold them,
else through pip's cache.
"""
from __future__ import annotations

import glob
import os
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPED = {folder: sorted(os.path.basename(path)
                          for path in glob.glob(os.path.join(REPO, folder, "*"))
                          if os.path.isfile(path))
           for folder in ("models", "models/neurons", "configs", "jobs")}
NEURON_MODELS = sorted(name[:-5] for name in SHIPPED["models/neurons"]
                       if name.endswith(".yaml"))
KERNELS = sorted(os.path.splitext(os.path.basename(path))[0]
                 for path in glob.glob(os.path.join(REPO, "cython_kernels", "*.pyx")))
BUILD_TIMEOUT_S = 1800     # compiling the kernels on 2 busy cores took 7.5 minutes
TINY_BRUNEL = ["--set", "parameters.order=50", "--set", "simulation.t_sim=50"]  # 250 neurons


class Installed:
    """The built sdist and wheel, and the fresh environment the wheel is installed in."""

    def __init__(self, root: str, timings: dict[str, float]):
        self.root = root
        self.dist = os.path.join(root, "dist")
        self.venv = os.path.join(root, "venv")
        self.work = os.path.join(root, "work")     # cwd of every command: outside REPO
        self.timings = timings                     # step -> wall seconds

    @property
    def wheel(self) -> str:
        return _one(glob.glob(os.path.join(self.dist, "brainsim-*.whl")))

    @property
    def sdist(self) -> str:
        return _one(glob.glob(os.path.join(self.dist, "brainsim-*.tar.gz")))

    def bin(self, name: str) -> str:
        return os.path.join(self.venv, "bin", name)

    def run(self, args: list[str], timeout: float = 300) -> subprocess.CompletedProcess:
        """A command from the environment's bin/, in self.work, without PYTHONPATH."""
        env = {key: value for key, value in os.environ.items()
               if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
        env["PATH"] = os.path.join(self.venv, "bin") + os.pathsep + env.get("PATH", "")
        return subprocess.run([self.bin(args[0]), *args[1:]], capture_output=True,
                              text=True, timeout=timeout, cwd=self.work, env=env)

    def brainsim(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return self.run(["brainsim", *args], timeout=timeout)


def _one(paths: list[str]) -> str:
    assert len(paths) == 1, paths
    return paths[0]


def _timed(installed: Installed, step: str, command: list[str], timeout: float,
           cwd: str | None = None) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    installed.timings[step] = time.monotonic() - started
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory, packaging_timings) -> Installed:
    started = time.monotonic()
    result = Installed(str(tmp_path_factory.mktemp("wheel")), packaging_timings)
    os.makedirs(result.work)
    built = _timed(result, "build", [sys.executable, "-m", "build", "--no-isolation",
                                     "--outdir", result.dist, REPO],
                   timeout=BUILD_TIMEOUT_S, cwd=result.work)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    made = _timed(result, "venv", [sys.executable, "-m", "venv", result.venv], timeout=300)
    assert made.returncode == 0, made.stderr
    pip = [result.bin("python"), "-m", "pip", "install", "--disable-pip-version-check",
           "--find-links", result.dist]
    done = _timed(result, "install without index", [*pip, "--no-index", result.wheel],
                  timeout=900)
    if done.returncode != 0:      # the find-links lack a dependency: the index (and cache)
        done = _timed(result, "install from the index", [*pip, result.wheel], timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    yield result
    packaging_timings["whole module"] = time.monotonic() - started


def test_wheel_holds_templates_models_configs_and_every_kernel(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    for folder, files in SHIPPED.items():
        assert files, folder
        for name in files:
            assert f"brainsim/_shipped/{folder}/{name}" in names, (folder, name)
    for kernel in KERNELS:
        assert any(name.startswith(f"cython_kernels/{kernel}.") and name.endswith(".so")
                   for name in names), kernel
    assert any(name.endswith(".dist-info/LICENSE") for name in names)


def test_wheel_metadata_is_complete(installed):
    archive = zipfile.ZipFile(installed.wheel)
    metadata = archive.read(_one([name for name in archive.namelist()
                                  if name.endswith(".dist-info/METADATA")])).decode()
    header, _, description = metadata.partition("\n\n")
    for field in ("License: BSD-3-Clause", "Requires-Python: >=3.11",
                  "Classifier: License :: OSI Approved :: BSD License",
                  "Description-Content-Type: text/markdown", "Keywords: ",
                  "Project-URL: Documentation", "Requires-Dist: numpy"):
        assert field in header, field
    assert description.startswith("# brainsim")       # the README


def test_sdist_holds_what_the_wheel_is_built_from(installed):
    with tarfile.open(installed.sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for folder, files in SHIPPED.items():
        for name in files:
            assert f"{folder}/{name}" in names, (folder, name)
    for kernel in KERNELS:
        assert f"cython_kernels/{kernel}.pyx" in names, kernel
    assert {"LICENSE", "README.md", "setup.py", "pyproject.toml"} <= names


def test_installed_brainsim_is_the_wheel_not_the_source_tree(installed):
    done = installed.run(["python", "-c", "import brainsim, sys; print(brainsim.__file__); "
                          "print(*sys.path, sep='\\n')"])
    assert done.returncode == 0, done.stderr
    location, *path = done.stdout.splitlines()
    assert location.startswith(installed.venv), location
    repo = os.path.realpath(REPO)
    assert not [entry for entry in path if entry and os.path.realpath(entry) == repo]


def test_models_lists_every_shipped_model_and_config(installed):
    done = installed.brainsim("models")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for name in SHIPPED["models"]:
        if name.endswith(".yaml"):
            line = _one([line for line in lines if line.split()[:1] == [name[:-5]]])
            assert " neurons " in line, line
    assert any(line.startswith("  brunel_2000 ") and " 12,500 neurons " in line
               for line in lines), done.stdout
    for name in SHIPPED["configs"]:
        assert any(line.split()[:1] == [name[:-5]] for line in lines), name
    heading = _one([line for line in lines if line.startswith("shipped neuron models")])
    assert f"{installed.venv}/lib/" in heading and "/brainsim/_shipped/models/neurons" in heading
    for name in NEURON_MODELS:
        line = _one([line for line in lines if line.split()[:1] == [name]])
        assert len(line.split()) > 3, line       # the first sentence of its comment


def test_shipped_model_runs_by_name_from_any_directory(installed):
    done = installed.brainsim("run", "brunel_2000", *TINY_BRUNEL, "-o", "brunel",
                              "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.path.isfile(os.path.join(installed.work, "brunel", "spikes.h5"))
    assert "mean firing rates" in done.stdout


def test_submit_dry_run_renders_the_shipped_template(installed):
    done = installed.brainsim("submit", "potjans_diesmann_2014", "--config", "laptop",
                              "--scheduler", "slurm", "--dry-run", "-o", "pd14_job")
    assert done.returncode == 0, done.stdout + done.stderr
    script = os.path.join(installed.work, "pd14_job", "job.sbatch")
    with open(script) as handle:
        text = handle.read()
    shipped = os.path.join(installed.venv, "lib")
    assert "#SBATCH --ntasks-per-node=2" in text
    assert f"model={shipped}" in text and "/brainsim/_shipped/models/potjans_diesmann_2014.yaml" \
        in text
    assert "/brainsim/_shipped/configs/laptop.yaml" in text
    assert f"python={installed.bin('python')}" in text
    assert '"$python" -m brainsim "${command[@]}"' in text
    assert subprocess.run(["bash", "-n", script]).returncode == 0


def test_unknown_name_is_one_line_listing_the_shipped_models(installed):
    done = installed.brainsim("validate", "potjans")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "brunel_2000, hpc_benchmark, potjans_diesmann_2014" in done.stderr


# A generated kernel compiled from the installed wheel: the cython_kernels .pxd files are
# package data and Cython a run-time dependency (brainsim/codegen/cache.py); the cache
# folder is private to this test.
GENERATED_KERNEL = """
import dataclasses, sys
from brainsim.catalogue.neurons.iaf_psc_exp import IAF_PSC_EXP
from brainsim.codegen import cache, compiled_kernel
from brainsim.codegen.kernel_spec import (ExactUpdate, KernelSpec, Receptor, StateArray,
                                          default_arguments)
from brainsim.network.neurons import bind_kernel
import cython_kernels.iaf_psc_exp as builtin
spec = KernelSpec(
    model="iaf_psc_exp", variables=tuple(map(StateArray, ("V_m", "i_syn_ex", "i_syn_in"))),
    state_arguments=default_arguments(("V_m", "i_syn_ex", "i_syn_in"), rkf45=False),
    columns=tuple(builtin.SEGMENT_COLUMNS), integer_columns=("refractory_counts",),
    receptors=(Receptor("ex", 0, "i_syn_ex"), Receptor("in", 1, "i_syn_in")),
    update=ExactUpdate(assignments=(
        ("V_m", "V_m * P22 + i_syn_ex * P21ex + i_syn_in * P21in + (I_e + I_stim) * P20"),
        ("i_syn_ex", "i_syn_ex * P11ex"), ("i_syn_in", "i_syn_in * P11in")),
        clamped=("V_m",)),
    threshold="V_m >= theta", reset=(("V_m", "V_reset"),), refractory_steps="refractory_counts")
kernel = compiled_kernel(spec, cache_dir=sys.argv[1])
bind_kernel(dataclasses.replace(IAF_PSC_EXP, kernel=kernel,
            segment_constants=lambda p, dt, _: IAF_PSC_EXP.segment_constants(p, dt, builtin)))
print(cache.STATS.compiled, kernel.__file__)
"""


def test_generated_kernel_compiles_against_the_installed_headers(installed):
    folder = os.path.join(installed.root, "kernel_cache")
    done = installed.run(["python", "-c", GENERATED_KERNEL, folder], timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    compiled, module = done.stdout.split()
    assert compiled == "1" and module.startswith(folder)
    headers = installed.run(["python", "-c", "from brainsim.codegen import cache; "
                             "print(cache.headers_directory())"])
    assert headers.stdout.strip().startswith(installed.venv)     # the wheel's, not REPO's


# Every shipped equation neuron model, read from the installed package by name
# (brainsim.shipped.shipped_neuron_model), parses, is analysed and lowers to a KernelSpec
# (a model with more ports than the ring's channels is refused by lower, not elsewhere).
NEURON_MODEL_FILES = """
from brainsim.equations.analysis import analyse
from brainsim.equations.lower import LowerError, lower
from brainsim.equations.parse import parse_neuron_model
from brainsim.shipped import shipped_neuron_model, shipped_neuron_models
from brainsim.spec.checker import Checker
from brainsim.spec.errors import Sources
from brainsim.spec.yaml_loader import parse_yaml
for name in shipped_neuron_models():
    path = shipped_neuron_model(name)
    with open(path, encoding="utf-8") as handle:
        document, lines = parse_yaml(handle.read(), path)
    (key, spec), = document["neuron_models"].items()
    ir = analyse(parse_neuron_model(Checker(Sources(path, lines)), key, spec))
    try:
        lowered = lower(ir).spec.model
    except LowerError:
        lowered = "LowerError"
    print(name, key, ir.scheme, lowered, path)
"""


def test_neuron_models_are_installed_and_found_by_name(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert NEURON_MODELS and {f"brainsim/_shipped/models/neurons/{name}.yaml"
                              for name in NEURON_MODELS} <= names
    done = installed.run(["python", "-c", NEURON_MODEL_FILES], timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    rows = [line.split() for line in done.stdout.splitlines()]
    assert [row[0] for row in rows] == NEURON_MODELS, done.stdout
    for name, key, scheme, lowered, path in rows:
        assert key == name and scheme in ("exact", "rkf45", "explicit"), (name, key, scheme)
        assert lowered in (name, "LowerError"), (name, lowered)
        assert path.startswith(installed.venv) and path.endswith(
            f"/brainsim/_shipped/models/neurons/{name}.yaml"), path
    assert any(row[3] == row[0] for row in rows), done.stdout     # some lower
