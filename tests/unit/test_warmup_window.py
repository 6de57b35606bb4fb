"""The rate table's window: (warmup, t_sim], or the whole run (0, t_sim] when the warm-up is
not shorter than the run (a short run of a model whose warm-up is meant for long ones), and
a resumed run whose new t_sim moves the window across the warm-up gets the exact counts."""
from __future__ import annotations

import json
import os
import signal
import subprocess

import h5py
import numpy as np
import pytest

from brainsim.engine.spike_recorder import counts_at_checkpoint, rate_window_steps
from brainsim.spec.model import Simulation
from cli_runner import DATA, REPO, brainsim_command, run_brainsim, run_ok

SMALL = os.path.join(DATA, "small_network.yaml")
NOTE = "warm-up {:g} ms is not shorter than the run: rates cover the whole run"


def run_small(outdir, t_sim: float, warmup: float, *extra: str):
    return run_ok(["run", SMALL, "-o", str(outdir), "--no-progress",
                   "--set", f"simulation.t_sim={t_sim:g}",
                   "--set", f"simulation.warmup={warmup:g}", *extra])


def run_json(outdir) -> dict:
    with open(os.path.join(outdir, "run.json")) as handle:
        return json.load(handle)


def spikes_per_population(outdir, first_ms: float, stop_ms: float) -> dict[str, int]:
    """Spikes in (first_ms, stop_ms] per population, read back from spikes.h5."""
    with h5py.File(os.path.join(outdir, "spikes.h5"), "r") as spikes:
        return {name: int(np.count_nonzero((group["timestamps"][:] > first_ms + 1e-9)
                                           & (group["timestamps"][:] <= stop_ms + 1e-9)))
                for name, group in spikes["spikes"].items()}


def rates_from_file(outdir, first_ms: float, stop_ms: float) -> dict[str, float]:
    sizes = run_json(outdir)["population_sizes"]
    counts = spikes_per_population(outdir, first_ms, stop_ms)
    return {name: counts[name] / (sizes[name] * (stop_ms - first_ms) * 1e-3) for name in sizes}


@pytest.mark.parametrize("warmup", [200.0, 500.0])
def test_run_not_longer_than_the_warmup_runs_and_rates_cover_the_whole_run(tmp_path, warmup):
    done = run_small(tmp_path / "out", 200.0, warmup)
    lines = done.stdout.splitlines()
    assert "mean firing rates over (0, 200] ms" in lines
    assert NOTE.format(warmup) in lines
    meta = run_json(tmp_path / "out")
    assert meta["rate_window_ms"] == [0.0, 200.0]
    assert meta["warmup_ms"] == warmup            # the model's warm-up is kept as given
    expected = rates_from_file(tmp_path / "out", 0.0, 200.0)
    assert all(rate > 0 for rate in expected.values())
    assert meta["rates_hz"] == pytest.approx(expected, rel=1e-12)


def test_shorter_warmup_keeps_its_window_and_prints_no_note(tmp_path):
    done = run_small(tmp_path / "out", 200.0, 50.0)
    assert "mean firing rates over (50, 200] ms" in done.stdout.splitlines()
    assert "not shorter than the run" not in done.stdout
    meta = run_json(tmp_path / "out")
    assert meta["rate_window_ms"] == [50.0, 200.0]
    assert meta["rates_hz"] == pytest.approx(rates_from_file(tmp_path / "out", 50.0, 200.0),
                                             rel=1e-12)


def test_analyse_defaults_to_the_window_of_the_printed_rates(tmp_path):
    run_small(tmp_path / "out", 100.0, 500.0)
    done = run_ok(["analyse", str(tmp_path / "out"), "--no-plots"])
    assert "over (0, 100] ms" in done.stdout


def run_killed_in_third_checkpoint(outdir, t_sim: float, warmup: float) -> None:
    """A run with a checkpoint every 100 ms, killed (SIGKILL) while it writes the one at
    300 ms: its newest complete checkpoint is the one at 200 ms."""
    done = subprocess.run(
        brainsim_command(["run", SMALL, "-o", str(outdir), "--no-progress",
                          "--set", f"simulation.t_sim={t_sim:g}",
                          "--set", f"simulation.warmup={warmup:g}", "--checkpoint-every", "100"]),
        env=dict(os.environ, BRAINSIM_TEST_KILL_IN_CHECKPOINT="2"), capture_output=True,
        text=True, timeout=300, cwd=REPO)
    assert done.returncode == -signal.SIGKILL, done.stdout + done.stderr


@pytest.mark.parametrize("first_t_sim, resumed_t_sim", [(250.0, 400.0), (400.0, 250.0)])
def test_resume_whose_t_sim_moves_the_window_across_the_warmup(tmp_path, first_t_sim,
                                                               resumed_t_sim):
    """warm-up 300 ms: t_sim 250 counts (0, 250], t_sim 400 counts (300, 400]. Resumed from
    the checkpoint at 200 ms with the other t_sim, the rates equal a run that never stopped
    (250 -> 400: a finished run extended; 400 -> 250: a run killed after 200 ms, shortened)."""
    straight = tmp_path / "straight"
    run_small(straight, resumed_t_sim, 300.0)
    outdir = tmp_path / "resumed"
    if first_t_sim < 300.0:
        run_small(outdir, first_t_sim, 300.0, "--checkpoint-every", "100")
    else:
        run_killed_in_third_checkpoint(outdir, first_t_sim, 300.0)
    run_ok(["resume", str(outdir), "--no-progress",
            "--set", f"simulation.t_sim={resumed_t_sim:g}"])
    resumed, expected = run_json(outdir), run_json(straight)
    assert resumed["resumed_from"].endswith("ckpt_000000002000")
    assert resumed["rate_window_ms"] == expected["rate_window_ms"]
    assert resumed["rates_hz"] == expected["rates_hz"]


def test_resume_with_a_warmup_moved_before_the_checkpoint_is_refused(tmp_path):
    outdir = tmp_path / "out"
    run_small(outdir, 200.0, 150.0, "--checkpoint-every", "100")
    before = run_json(outdir)
    done = run_brainsim(["resume", str(outdir), "--no-progress",
                         "--set", "simulation.t_sim=300", "--set", "simulation.warmup=50"])
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert ("simulation.warmup: 50 ms; expected 0, 150 ms (where the checkpoint's rate-table "
            "counters start) or at least the checkpoint's 200 ms") in lines[0]
    assert run_json(outdir) == before


def test_rate_window_steps():
    assert rate_window_steps(Simulation(dt=0.1, t_sim=300.0, seed=1, warmup=500.0)) == (0, 3000)
    assert rate_window_steps(Simulation(dt=0.1, t_sim=300.0, seed=1, warmup=300.0)) == (0, 3000)
    assert rate_window_steps(Simulation(dt=0.1, t_sim=300.0, seed=1, warmup=100.0)) == (1000,
                                                                                          3000)


def test_counts_at_checkpoint_picks_the_counter_of_the_window():
    saved = {"counts_in_window": [3, 4], "window_first_step": 1000,
             "counts_from_start": [10, 20], "total_spikes": 30}
    assert counts_at_checkpoint(saved, 1000, 2000).tolist() == [3, 4]
    assert counts_at_checkpoint(saved, 0, 2000).tolist() == [10, 20]
    assert counts_at_checkpoint(saved, 2500, 2000).tolist() == [0, 0]
    assert counts_at_checkpoint(saved, 500, 2000) is None
