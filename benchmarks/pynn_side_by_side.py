"""Run one PyNN script on pyNN.nest and on brainsim.pynn side by side: wall time and
peak memory of each process (the script's own build / run split is what it prints).

    python benchmarks/pynn_side_by_side.py SCRIPT [script args] \
        --nest-python /work/nestvenv/bin/python

The script takes the simulator name as its first argument (PyNN's examples do, through
pyNN.utility.get_simulator); brainsim runs it through benchmarks/pynn_run_example.py.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


# runs argv[1] with the rest as its argv, then prints the process's peak RSS (MiB)
PRELUDE = ("import atexit, resource, runpy, sys\n"
           "atexit.register(lambda: print('PEAK_RSS_MIB', resource.getrusage("
           "resource.RUSAGE_SELF).ru_maxrss / 1024.0, file=sys.stderr))\n"
           "sys.argv = sys.argv[1:]\n"
           "runpy.run_path(sys.argv[0], run_name='__main__')\n")


def measure(python: str, argv: list[str]) -> dict:
    """Wall time (s), peak RSS (MiB), exit status and last output line of one run."""
    started = time.perf_counter()
    done = subprocess.run([python, "-c", PRELUDE, *argv], capture_output=True, text=True)
    wall = time.perf_counter() - started
    peaks = [float(line.split()[1]) for line in done.stderr.splitlines()
             if line.startswith("PEAK_RSS_MIB")]
    last = (done.stdout.strip().splitlines() or [""])[-1]
    return {"wall_s": wall, "peak_rss_mib": peaks[-1] if peaks else float("nan"),
            "rc": done.returncode, "last": last,
            "error": (done.stderr.strip().splitlines() or [""])[-1] if done.returncode else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("script")
    parser.add_argument("--nest-python", required=True, help="a Python with pyNN.nest")
    args, rest = parser.parse_known_args()
    rows = [("brainsim.pynn", measure(sys.executable, [
                os.path.join(HERE, "pynn_run_example.py"), args.script, "brainsim", *rest])),
            ("pyNN.nest", measure(args.nest_python, [args.script, "nest", *rest]))]
    print(f"{'backend':14s} {'wall s':>8s} {'peak MiB':>9s}  rc  last line / error")
    for name, r in rows:
        print(f"{name:14s} {r['wall_s']:8.2f} {r['peak_rss_mib']:9.0f}  {r['rc']:2d}  "
              f"{r['error'] or r['last']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
