#!/usr/bin/env python3
"""Memory-bandwidth floor of this machine: a STREAM-style copy of arrays much larger than
the caches, with numpy (one thread per process; run N copies at once with --processes).

    python benchmarks/stream_copy.py --mib 512 --repeats 10 --processes 2

Prints the best copy bandwidth per process and summed (GB/s, counting read + write).
"""
from __future__ import annotations

import argparse
import multiprocessing
import time

import numpy as np


def best_copy_bandwidth(mib: int, repeats: int) -> float:
    count = mib * (1 << 20) // 8
    source = np.ones(count)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return 2 * source.nbytes / best / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=512, help="array size per process (MiB)")
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()
    with multiprocessing.Pool(args.processes) as pool:
        rates = pool.starmap(best_copy_bandwidth, [(args.mib, args.repeats)] * args.processes)
    for index, rate in enumerate(rates):
        print(f"process {index}: {rate:.2f} GB/s")
    print(f"total: {sum(rates):.2f} GB/s (read + write)")


if __name__ == "__main__":
    main()
