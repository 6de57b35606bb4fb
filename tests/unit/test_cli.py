"""The command line as users meet it: exit status 2 and one line for every bad input,
outputs never clobbered, validate and info on the shipped models."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from cli_runner import DATA, MODELS, REPO, run_brainsim

BAD = os.path.join(REPO, "tests", "bad_inputs")
with open(os.path.join(BAD, "cases.yaml")) as handle:
    CASES = yaml.safe_load(handle)

SMALL = os.path.join(DATA, "small_network.yaml")


def case_arguments(case: dict) -> list[str]:
    args = [os.path.join(BAD, case["file"])]
    if case.get("config"):
        args += ["--config", os.path.join(BAD, case["config"])]
    for override in case.get("overrides", []):
        args += ["--set", override]
    return args


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(name, tmp_path):
    case = CASES[name]
    outdir = tmp_path / "out"
    done = run_brainsim(["run", *case_arguments(case), "-o", str(outdir), "--no-progress"],
                        timeout=60)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert case["expect"] in lines[0]
    assert case["where"] in lines[0]
    assert not outdir.exists()


def test_validate_accepts_shipped_models():
    for name in ("potjans_diesmann_2014.yaml", "brunel_2000.yaml"):
        done = run_brainsim(["validate", os.path.join(MODELS, name)], timeout=60)
        assert done.returncode == 0, done.stderr
        assert "valid" in done.stdout


def test_info_reports_counts_delays_and_memory():
    done = run_brainsim(["info", os.path.join(MODELS, "potjans_diesmann_2014.yaml"),
                         "--set", "scale=0.1", "-n", "4"], timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2,988,807" in done.stdout          # recurrent synapses at 10 % (NEST's count)
    assert "7,717" in done.stdout
    assert "min 0.1 ms" in done.stdout
    assert "per rank on 4 rank(s)" in done.stdout


def test_existing_output_is_not_overwritten(tmp_path):
    outdir = tmp_path / "out"
    args = ["run", SMALL, "--set", "simulation.t_sim=20", "-o", str(outdir), "--no-progress"]
    first = run_brainsim(args, timeout=120)
    assert first.returncode == 0, first.stderr
    spikes = outdir / "spikes.h5"
    before = spikes.stat().st_mtime_ns, spikes.read_bytes()
    again = run_brainsim(args, timeout=120)
    assert again.returncode == 2
    assert "already holds results" in again.stderr and "--overwrite" in again.stderr
    assert (spikes.stat().st_mtime_ns, spikes.read_bytes()) == before
    replaced = run_brainsim(args + ["--overwrite"], timeout=120)
    assert replaced.returncode == 0, replaced.stderr
    assert not any(name.endswith(".partial") for name in os.listdir(outdir))


def test_run_prints_rate_table_and_timings(tmp_path):
    done = run_brainsim(["run", SMALL, "--set", "simulation.t_sim=50", "-o",
                         str(tmp_path / "o"), "--no-progress"], timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "mean firing rates over (0, 50] ms" in lines
    assert "rate (Hz)" in done.stdout
    assert "real-time factor" in done.stdout
    with open(tmp_path / "o" / "run.json") as handle:
        meta = json.load(handle)
    for population, size in (("E", 160), ("I", 41)):
        row = next(line.split() for line in lines if line.startswith(population + " "))
        assert row[:2] == [population, f"{size:,}"]
        assert float(row[2]) == pytest.approx(meta["rates_hz"][population], abs=5e-4)
    assert f"spikes {meta['total_spikes']:,}" in done.stdout


def test_noise_generator_model_runs(tmp_path):
    """A model driven only by a noise_generator validates, runs and spikes."""
    model = tmp_path / "noise.yaml"
    model.write_text(
        "name: noise\nsimulation: {t_sim: 100.0}\n"
        "populations: [{name: A, size: 3, model: iaf_psc_exp}]\n"
        "inputs: [{type: noise_generator, target: A, mean: 400.0, std: 200.0, dt: 0.5}]\n")
    done = run_brainsim(["validate", str(model)], timeout=60)
    assert done.returncode == 0, done.stderr
    done = run_brainsim(["run", str(model), "-o", str(tmp_path / "o"), "--no-progress"],
                        timeout=120)
    assert done.returncode == 0, done.stderr
    rate = next(line for line in done.stdout.splitlines() if line.startswith("A "))
    assert float(rate.split()[-1]) > 0.0


def test_run_processes_keep_blas_single_threaded(tmp_path):
    """A run starts no BLAS threads beside its rank (they would spin on the rank's core),
    unless the user asked for them."""
    code = ("import sys; from brainsim.cli import main; main(sys.argv[1:]);"
            "import os; print(os.environ.get('OPENBLAS_NUM_THREADS'))")
    model = SMALL
    for env_value, expected in ((None, "1"), ("3", "3")):
        env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
        if env_value:
            env["OPENBLAS_NUM_THREADS"] = env_value
        done = subprocess.run([sys.executable, "-c", code, "run", model, "-o",
                               str(tmp_path / f"out{env_value}"), "--no-progress"],
                              capture_output=True, text=True, env=env, cwd=REPO)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == expected


def test_mpich_wheel_defaults_to_the_lean_netmod_unless_the_user_chose(monkeypatch):
    from importlib import metadata

    from brainsim.engine.comm import prefer_lean_mpich_netmod
    monkeypatch.delenv("MPIR_CVAR_CH4_NETMOD", raising=False)
    prefer_lean_mpich_netmod()
    try:
        metadata.distribution("mpich")
        assert os.environ["MPIR_CVAR_CH4_NETMOD"] == "ofi"
    except metadata.PackageNotFoundError:
        assert "MPIR_CVAR_CH4_NETMOD" not in os.environ    # another MPI: left alone
    monkeypatch.setenv("MPIR_CVAR_CH4_NETMOD", "ucx")
    prefer_lean_mpich_netmod()
    assert os.environ["MPIR_CVAR_CH4_NETMOD"] == "ucx"
