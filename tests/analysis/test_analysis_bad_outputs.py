"""`brainsim analyse` on empty, truncated, foreign and hostile files: one line, status 2,
nothing read beyond what fits, never a traceback (red-team cases of issues #12 and #20).

Each case builds a small output directory and runs the analysis in-process (an exception
other than the refusal fails the test); one case runs the real command line."""
from __future__ import annotations

import json
import os

import h5py
import numpy as np
import pytest

from brainsim.analysis.cli import analyse_main
from cli_runner import run_brainsim

SIZES = {"E": 80, "I": 20}


def write_run_json(outdir, **changes):
    meta = {"population_sizes": SIZES, "t_sim_ms": 1000.0, "dt_ms": 0.1, "warmup_ms": 0.0,
            "completed": True, "model": "tiny"}
    meta.update(changes)
    (outdir / "run.json").write_text(json.dumps(meta))


def write_spikes(path, spikes_per_population=500):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        for name, size in SIZES.items():
            group = f.create_group(f"spikes/{name}")
            group["timestamps"] = np.sort(rng.uniform(0, 1000, spikes_per_population)).round(1)
            group["node_ids"] = rng.integers(0, size, spikes_per_population).astype(np.uint64)


def write_report(path, units="mV", pointers=(0, 1, 2, 3)):
    with h5py.File(path, "w") as f:
        group = f.create_group("report/E")
        data = group.create_dataset("data", data=np.zeros((100, 3), np.float32))
        data.attrs["units"] = units
        mapping = group.create_group("mapping")
        mapping["node_ids"] = np.array([0, 1, 2], np.uint64)
        mapping["index_pointers"] = np.array(pointers, np.uint64)
        mapping["element_ids"] = np.zeros(3, np.uint32)
        mapping["time"] = np.array([0.0, 100.0, 1.0])


@pytest.fixture
def outdir(tmp_path):
    """A small valid output directory (spikes.h5, run.json)."""
    directory = tmp_path / "out"
    directory.mkdir()
    write_run_json(directory)
    write_spikes(directory / "spikes.h5")
    return directory


def refused(argv, capsys, expect):
    assert analyse_main([str(a) for a in argv]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("brainsim: error: ")
    assert expect in err, err
    outdir = next((a for a in argv if os.path.isdir(str(a))), None)
    assert outdir is None or not os.path.exists(os.path.join(str(outdir), "analysis"))
    return err


def claim_many_spikes(outdir, fill=0.0):
    """A spikes.h5 whose datasets claim 1e10 spikes (80 GB each) in a file of a few kB."""
    with h5py.File(outdir / "spikes.h5", "w") as f:
        for name in SIZES:
            group = f.create_group(f"spikes/{name}")
            group.create_dataset("timestamps", shape=(10 ** 10,), dtype="f8",
                                 chunks=(1 << 16,), fillvalue=fill)
            group.create_dataset("node_ids", shape=(10 ** 10,), dtype="u8", chunks=(1 << 16,))


@pytest.mark.parametrize("fill", [0.0, 1.0])        # outside and inside the window
def test_spike_file_claiming_1e10_spikes_is_refused_unread(outdir, capsys, fill):
    claim_many_spikes(outdir, fill)
    refused([outdir, "--no-plots"], capsys, "claims 10,000,000,000 values but the file "
            "stores 0 bytes")


def test_window_that_does_not_fit_in_memory_is_refused(outdir, capsys, monkeypatch):
    from brainsim.engine import guards
    monkeypatch.setattr(guards, "available_memory_mib", lambda: 0.001)
    refused([outdir, "--no-plots"], capsys, "spikes in the window need about")


def test_units_label_with_mathtext_is_drawn_literally(outdir, capsys):
    write_report(outdir / "report_V_m.h5", units="$x^$")
    assert analyse_main([str(outdir), "--format", "png"]) == 0
    assert os.path.exists(outdir / "analysis" / "traces_report_V_m.png")


@pytest.mark.parametrize("pointers, expect", [
    ((0, 7, 99999, 3), "index_pointers: not non-decreasing within [0, 3]"),
    ((0, 1), "2 index_pointers for 3 node_ids"),
])
def test_report_with_bad_index_pointers_is_refused(outdir, capsys, pointers, expect):
    write_report(outdir / "report_V_m.h5", pointers=pointers)
    refused([outdir, "--format", "png"], capsys, expect)


def test_bin_below_the_resolution_is_refused(outdir, capsys):
    refused([outdir, "--no-plots", "--bin", "1e-9"], capsys,
            "--bin 1e-09 ms: expected at least the run's resolution dt = 0.1 ms")


def test_bins_beyond_memory_are_refused(outdir, capsys):
    write_run_json(outdir, t_sim_ms=1e9)
    refused([outdir, "--no-plots", "--bin", "0.1"], capsys,
            "10,000,000,000 bins over the window")


@pytest.mark.parametrize("make, expect", [
    (lambda d: "/dev/zero", "/dev/zero: not a regular file"),
    (lambda d: (os.mkfifo(d / "ref.fifo"), d / "ref.fifo")[1], "ref.fifo: not a regular file"),
    (lambda d: (os.mkdir(d / "refdir"), d / "refdir")[1], "refdir: a directory"),
    (lambda d: ((d / "r.json").write_text('{"rates_hz": {"E": "fast"}}'), d / "r.json")[1],
     "rate of 'E' is 'fast'"),
    (lambda d: ((d / "r.json").write_bytes(b"\xff\xfe\x00"), d / "r.json")[1],
     "not JSON text"),
])
def test_hostile_reference_files_are_refused(outdir, capsys, make, expect):
    refused([outdir, "--no-plots", "--compare", make(outdir)], capsys, expect)


def _empty(d):
    (d / "spikes.h5").write_bytes(b"")


def _truncated(d):
    data = (d / "spikes.h5").read_bytes()
    (d / "spikes.h5").write_bytes(data[: len(data) // 2])


def _foreign_hdf5(d):
    with h5py.File(d / "spikes.h5", "w") as f:
        f["x"] = [1]


def _text(d):
    (d / "spikes.h5").write_text("not HDF5\n")


def _no_datasets(d):
    with h5py.File(d / "spikes.h5", "w") as f:
        f.create_group("spikes/E")


def _string_times(d):
    with h5py.File(d / "spikes.h5", "a") as f:
        del f["spikes/E/timestamps"]
        f["spikes/E/timestamps"] = np.array([b"a"] * 500)


def _lengths_differ(d):
    with h5py.File(d / "spikes.h5", "a") as f:
        del f["spikes/E/node_ids"]
        f["spikes/E/node_ids"] = np.zeros(5, np.uint64)


def _node_id_beyond_int64(d):
    with h5py.File(d / "spikes.h5", "a") as f:
        del f["spikes/E/node_ids"]
        f["spikes/E/node_ids"] = np.full(500, 2 ** 63, np.uint64)


def _spikes_directory(d):
    os.remove(d / "spikes.h5")
    os.mkdir(d / "spikes.h5")


def _run_json_fifo(d):
    os.remove(d / "run.json")
    os.mkfifo(d / "run.json")


def _run_json_list(d):
    (d / "run.json").write_text("[1, 2]")


def _sizes_list(d):
    write_run_json(d, population_sizes=[80])


def _size_negative(d):
    write_run_json(d, population_sizes={"E": -5, "I": 20})


def _size_string(d):
    write_run_json(d, population_sizes={"E": "x", "I": 20})


def _t_sim_string(d):
    write_run_json(d, t_sim_ms="x")


def _name_mathtext(d):
    write_run_json(d, population_sizes={"$x^$": 80})


@pytest.mark.parametrize("damage, expect", [
    (_empty, "cannot be read as HDF5"),
    (_truncated, "cannot be read as HDF5"),
    (_foreign_hdf5, "no /spikes group; expected a SONATA spike file"),
    (_text, "cannot be read as HDF5"),
    (_no_datasets, "/spikes/E/timestamps: missing or not a 1-D float dataset"),
    (_string_times, "/spikes/E/timestamps: missing or not a 1-D float dataset"),
    (_lengths_differ, "500 timestamps but 5 node_ids"),
    (_node_id_beyond_int64, "node_ids holds 9223372036854775808; expected population-local"),
    (_spikes_directory, "spikes.h5: a directory"),
    (_run_json_fifo, "run.json: not a regular file"),
    (_run_json_list, "run.json: a JSON list; expected an object"),
    (_sizes_list, "'population_sizes' is not a mapping"),
    (_size_negative, "size of population E is -5"),
    (_size_string, "size of population E is 'x'"),
    (_t_sim_string, "'t_sim_ms' is 'x'; expected a finite number"),
    (_name_mathtext, "population name '$x^$'; expected an identifier"),
], ids=lambda v: v.__name__.strip("_") if callable(v) else "")
def test_damaged_or_foreign_output_is_refused(outdir, capsys, damage, expect):
    damage(outdir)
    refused([outdir, "--no-plots"], capsys, expect)


def test_directory_without_outputs_is_refused(tmp_path, capsys):
    refused([tmp_path, "--no-plots"], capsys, "no spikes.h5; expected the output directory")


def test_negative_seed_is_refused(outdir, capsys):
    refused([outdir, "--no-plots", "--seed", "-1"], capsys, "--seed -1: must be")


def test_command_line_refuses_a_forged_spike_file_in_one_line(outdir):
    claim_many_spikes(outdir, fill=1.0)
    done = run_brainsim(["analyse", str(outdir), "--no-plots"], timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not (outdir / "analysis").exists()
