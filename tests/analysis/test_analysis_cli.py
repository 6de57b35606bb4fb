"""`brainsim analyse` on a real (tiny) brainsim output: table, summary.json, --compare."""
from __future__ import annotations

import importlib.util
import json
import os

import h5py
import numpy as np
import pytest

from brainsim.analysis.cli import analyse_main
from cli_runner import DATA, REPO, run_brainsim

HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None


@pytest.fixture(scope="module")
def small_output(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("analyse") / "small"
    done = run_brainsim(["run", os.path.join(DATA, "small_network.yaml"), "-o", str(outdir),
                         "--set", "simulation.t_sim=200", "--no-progress"], timeout=120)
    assert done.returncode == 0, done.stderr
    return str(outdir)


def spike_trains(outdir: str, population: str, window_ms) -> list[np.ndarray]:
    """Each neuron's spike times (ms) in the window (t0, t1], read straight from spikes.h5."""
    with open(os.path.join(outdir, "run.json")) as handle:
        size = json.load(handle)["population_sizes"][population]
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as spikes:
        times = spikes[f"spikes/{population}/timestamps"][:]
        ids = spikes[f"spikes/{population}/node_ids"][:]
    inside = (times > window_ms[0]) & (times <= window_ms[1])
    return [np.sort(times[inside & (ids == n)]) for n in range(size)]


def cv_isi_oracle(trains, min_spikes: int = 3) -> list[float]:
    """std/mean (ddof 0) of the ISIs of each neuron with at least min_spikes spikes."""
    return [np.std(np.diff(t)) / np.mean(np.diff(t)) for t in trains if len(t) >= min_spikes]


def lv_oracle(trains) -> list[float]:
    """Shinomoto's local variation, 3/(n-1) sum ((I_i - I_i+1)/(I_i + I_i+1))^2, of each
    neuron with at least 3 spikes."""
    values = []
    for t in trains:
        isi = np.diff(t)
        if len(isi) >= 2:
            values.append(3.0 * np.mean(((isi[:-1] - isi[1:]) / (isi[:-1] + isi[1:])) ** 2))
    return values


def fano_oracle(trains, window_ms, bin_ms: float) -> list[float]:
    """var (ddof 1) / mean of each neuron's counts in the whole bins (t0 + k w, t0 + (k+1) w]
    of the window; neurons without a spike in them are left out."""
    t0, t1 = window_ms
    num_bins = int((t1 - t0) // bin_ms)
    values = []
    for t in trains:
        counts = np.zeros(num_bins)
        for time in t:
            k = int(np.ceil((time - t0) / bin_ms - 1e-9)) - 1
            if 0 <= k < num_bins:
                counts[k] += 1
        if counts.sum() > 0:
            values.append(counts.var(ddof=1) / counts.mean())
    return values


def read_summary(outdir: str) -> dict:
    with open(os.path.join(outdir, "analysis", "summary.json")) as handle:
        return json.load(handle)


def test_analyse_prints_table_and_writes_summary(small_output, capsys):
    args = [small_output, "--format", "png"] if HAS_MATPLOTLIB else [small_output, "--no-plots"]
    assert analyse_main(args) == 0
    out = capsys.readouterr().out
    assert "population" in out and "CV ISI" in out
    assert out.count("\nE ") == 1 and out.count("\nI ") == 1
    summary = read_summary(small_output)
    with open(os.path.join(small_output, "run.json")) as handle:
        run = json.load(handle)
    assert summary["window_ms"] == [0.0, 200.0]
    assert summary["population_order"] == ["E", "I"]
    for name in ("E", "I"):
        p = summary["populations"][name]
        assert p["num_neurons"] == run["population_sizes"][name]
        assert p["rate_hz"]["mean"] == pytest.approx(run["rates_hz"][name], rel=1e-12)
        assert sum(p["rate_hz"]["histogram"]["counts"]) == p["num_neurons"]
        trains = spike_trains(small_output, name, (0.0, 200.0))
        for key, values in (("cv_isi", cv_isi_oracle(trains)), ("lv", lv_oracle(trains)),
                            ("fano_factor", fano_oracle(trains, (0.0, 200.0), 10.0))):
            assert p[key]["num"] == len(values) > 0, key
            assert p[key]["mean"] == pytest.approx(np.mean(values), rel=1e-9), key
        assert p["correlation"]["num"] > 0 and -1.0 <= p["correlation"]["mean"] <= 1.0
        assert p["spectrum"]["peak_hz"] > 0
    assert os.path.exists(os.path.join(small_output, "analysis", "summary.csv"))
    if HAS_MATPLOTLIB:
        assert os.path.getsize(os.path.join(small_output, "analysis", "raster.png")) > 10_000


def test_compare_flags_population_outside_tolerance(small_output, tmp_path, capsys):
    with open(os.path.join(small_output, "run.json")) as handle:
        rates = json.load(handle)["rates_hz"]
    reference = tmp_path / "ref.json"
    reference.write_text(json.dumps({"populations": ["E", "I"],
                                     "rates_hz": [rates["E"] * 1.05, rates["I"] * 2.0]}))
    assert analyse_main([small_output, "--no-plots", "--compare", str(reference),
                         "--tolerance", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "OUTSIDE" in out and "1 population(s) outside ±20 %: I" in out
    comparison = read_summary(small_output)["comparison"]
    assert comparison["flagged"] == ["I"]
    assert comparison["populations"]["E"]["outside_tolerance"] is False
    assert comparison["populations"]["I"]["relative_difference"] == pytest.approx(-0.5)


def test_compare_accepts_per_seed_reference_by_key(small_output, tmp_path, capsys):
    reference = tmp_path / "seeds.json"
    reference.write_text(json.dumps({"populations": ["E", "I"],
                                     "scale_1": {"seed_1": [1.0, 2.0], "seed_2": [3.0, 4.0]}}))
    assert analyse_main([small_output, "--no-plots", "--compare", str(reference)]) == 0
    comparison = read_summary(small_output)["comparison"]
    assert comparison["populations"]["E"]["reference_hz"] == 2.0   # mean over seeds
    assert comparison["populations"]["I"]["reference_hz"] == 3.0
    assert comparison["flagged"] == ["E", "I"]
    assert "scale_1 (mean of 2" in capsys.readouterr().out


@pytest.mark.parametrize("args, expect", [
    (["--window", "100", "50"], "expected 0 <= T0 < T1"),
    (["--window", "0", "900"], "past the end of the run"),
    (["--compare", "/no/such.json"], "no such reference file"),
    (["--format", "png,gif"], "unknown format gif"),
])
def test_bad_input_exits_2_with_one_line(small_output, args, expect, capsys):
    if "--format" in args and not HAS_MATPLOTLIB:
        pytest.skip("matplotlib not installed")
    assert analyse_main([small_output, *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expect in err[0]


def test_missing_output_directory(tmp_path, capsys):
    assert analyse_main([str(tmp_path / "nothing")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_module_entry_point_in_a_subprocess(small_output):
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "brainsim.analysis", small_output,
                           "--no-plots"], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout


def test_brainsim_analyse_subcommand(small_output):
    """`brainsim analyse` is the same command as `python -m brainsim.analysis`."""
    done = run_brainsim(["analyse", small_output, "--no-plots"], timeout=60)
    assert done.returncode == 0, done.stderr
    assert "CV ISI" in done.stdout
    with open(os.path.join(small_output, "run.json")) as handle:
        rates = json.load(handle)["rates_hz"]
    rows = {line.split()[0]: line.split() for line in done.stdout.splitlines()[1:]
            if line.split() and line.split()[0] in rates}
    for name, rate in rates.items():      # population, neurons, spikes, rate Hz, ...
        assert float(rows[name][3]) == pytest.approx(rate, abs=5e-4), rows[name]
