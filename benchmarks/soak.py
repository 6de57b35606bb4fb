"""Soak test (issue 8; not in CI): a long checkpointed run keeps its memory flat and its output
equals an unbroken run's and a run broken in two by a checkpoint and `brainsim resume`.

    python benchmarks/soak.py                    # PD14 at 10 %, 60 s, checkpoints every 10 s, 2 ranks
    python benchmarks/soak.py --t-sim 10000 --every 2000      # a shortened version (~1 min)

Three runs of the same model under mpiexec:
  soak      t_sim with --checkpoint-every; the resident memory (VmRSS) of every rank is
            sampled from /proc every --sample seconds while it runs;
  unbroken  t_sim without checkpoints;
  broken    t_sim/2 with --checkpoint-at-end, then `brainsim resume` to t_sim.
Checks: every rank's RSS after the first checkpoint grows by at most --max-growth-mib
(default 16 MiB) over its value when the first checkpoint appeared (construction and the
first seconds are excluded: buffers reach their working size there); spikes.h5 of all
three runs hold the same spikes (node ids and times, every population). Prints a summary
and exits 1 when a check fails.
"""
from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PD14 = os.path.join(REPO, "models", "potjans_diesmann_2014.yaml")


def mpiexec() -> str:
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    return beside if os.path.exists(beside) else (shutil.which("mpiexec") or "mpiexec")


def brainsim(ranks: int, *args: str) -> list[str]:
    return [mpiexec(), "-n", str(ranks), sys.executable, "-m", "brainsim", *args]


def rank_pids(marker: str) -> dict[int, int]:
    """MPI rank -> pid of the brainsim processes whose command line holds `marker`."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                cmdline = handle.read().decode(errors="replace")
            if marker not in cmdline or "brainsim" not in cmdline:
                continue
            with open(f"/proc/{name}/environ", "rb") as handle:
                environ = dict(item.split(b"=", 1) for item in handle.read().split(b"\0")
                               if b"=" in item)
        except OSError:
            continue
        rank = environ.get(b"PMI_RANK", environ.get(b"OMPI_COMM_WORLD_RANK"))
        if rank is not None and "python" in os.path.basename(cmdline.split("\0")[0]):
            found[int(rank)] = int(name)
    return found


def rss_mib(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def run_sampled(command: list[str], outdir: str, interval: float):
    """Run `command`, sampling each rank's RSS; returns (seconds, samples) where samples
    are (wall s, checkpoints published so far, {rank: MiB})."""
    started = time.monotonic()
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples = []
    while job.poll() is None:
        pids = rank_pids(outdir)
        sizes = {rank: rss_mib(pid) for rank, pid in pids.items()}
        published = len(glob.glob(os.path.join(outdir, "checkpoints", "ckpt_*")))
        samples.append((time.monotonic() - started, published,
                        {r: s for r, s in sizes.items() if s is not None}))
        time.sleep(interval)
    out, err = job.communicate()
    if job.returncode != 0:
        sys.exit(f"soak: {' '.join(command)} failed ({job.returncode}):\n{out}\n{err}")
    return time.monotonic() - started, samples


def run(command: list[str]) -> float:
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"soak: {' '.join(command)} failed ({done.returncode}):\n{done.stdout}\n"
                 f"{done.stderr}")
    return time.monotonic() - started


def spikes(path: str) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    with h5py.File(path, "r") as handle:
        return {name: (group["node_ids"][:], group["timestamps"][:])
                for name, group in handle["spikes"].items()}


def same_spikes(a: str, b: str) -> bool:
    first, second = spikes(a), spikes(b)
    return first.keys() == second.keys() and all(
        np.array_equal(first[k][0], second[k][0]) and np.array_equal(first[k][1], second[k][1])
        for k in first)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=PD14)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--t-sim", type=float, default=60000.0, help="ms (default 60 s)")
    parser.add_argument("--every", type=float, default=10000.0, help="checkpoint interval, ms")
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--sample", type=float, default=0.25, help="RSS sampling interval, s")
    parser.add_argument("--max-growth-mib", type=float, default=16.0)
    parser.add_argument("--workdir", help="keep the outputs here (default: a temporary dir)")
    args = parser.parse_args(argv)

    work = args.workdir or tempfile.mkdtemp(prefix="brainsim_soak_")
    os.makedirs(work, exist_ok=True)
    common = [args.model, "--set", f"scale={args.scale}", "--no-progress", "--overwrite"]
    t_sim, half = args.t_sim, args.t_sim / 2
    soak_dir, unbroken_dir, broken_dir = (os.path.join(work, n)
                                          for n in ("soak", "unbroken", "broken"))

    soak_s, samples = run_sampled(
        brainsim(args.ranks, "run", *common, "--set", f"simulation.t_sim={t_sim:g}",
                 "-o", soak_dir, "--checkpoint-every", f"{args.every:g}",
                 "--keep-checkpoints", "2"), soak_dir, args.sample)
    unbroken_s = run(brainsim(args.ranks, "run", *common, "--set", f"simulation.t_sim={t_sim:g}",
                              "-o", unbroken_dir))
    broken_s = run(brainsim(args.ranks, "run", *common, "--set", f"simulation.t_sim={half:g}",
                            "-o", broken_dir, "--checkpoint-at-end"))
    broken_s += run(brainsim(args.ranks, "resume", broken_dir, "--set",
                             f"simulation.t_sim={t_sim:g}", "--no-progress"))

    # memory: from the first sample after the first checkpoint appeared, to the end
    after = [s for s in samples if s[1] >= 1 and s[2]]
    ok = True
    print(f"soak: {args.model} scale {args.scale:g}, {t_sim / 1000:g} s biological time, "
          f"checkpoints every {args.every / 1000:g} s, {args.ranks} ranks; outputs in {work}")
    print(f"wall: soak {soak_s:.1f} s, unbroken {unbroken_s:.1f} s, broken+resumed "
          f"{broken_s:.1f} s; {len(samples)} RSS samples")
    if not after:
        print("memory: no sample after the first checkpoint (run too short to judge)")
        ok = False
    for rank in range(args.ranks):
        series = [(t, s[rank]) for t, _, s in ((a[0], a[1], a[2]) for a in after) if rank in s]
        if not series:
            continue
        base, peak, last = series[0][1], max(v for _, v in series), series[-1][1]
        everything = [s[2][rank] for s in samples if rank in s[2]]
        growth = peak - base
        flat = growth <= args.max_growth_mib
        ok &= flat
        print(f"rank {rank}: RSS at first checkpoint {base:.1f} MiB, peak after it {peak:.1f} "
              f"MiB, at the end {last:.1f} MiB, growth {growth:+.1f} MiB over "
              f"{series[-1][0] - series[0][0]:.1f} s (overall peak {max(everything):.1f} MiB) "
              f"-> {'flat' if flat else 'GROWS'}")
    reference = os.path.join(unbroken_dir, "spikes.h5")
    for label, directory in (("soak (checkpointed)", soak_dir), ("broken + resumed", broken_dir)):
        equal = same_spikes(reference, os.path.join(directory, "spikes.h5"))
        ok &= equal
        print(f"spikes of {label} == unbroken run: {equal}")
    total = sum(len(v[0]) for v in spikes(reference).values())
    print(f"spikes: {total:,}")
    print("soak: PASS" if ok else "soak: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
