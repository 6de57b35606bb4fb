#!/usr/bin/env python3
"""A generated iaf_psc_exp kernel against the built-in one: ns per neuron-step, first-use
compile time and cached load time (docs/architecture.md §13).

    python benchmarks/generated_kernel.py [--neurons 10000] [--steps 1000] [--epoch 10]
                                          [--repeats 5]

The generated kernel comes from the hand-written KernelSpec of tests/codegen/hand_specs.py
(the built-in's own expressions), compiled into a fresh temporary cache folder: the first
use is generate + compile + load; the cached load is load_kernel in a new process (an
extension module is imported once per process), finding the published module. Both
kernels advance the same neurons from the same state through epochs of --epoch steps
(a call per epoch, as the engine makes them), with ring input only and with ring plus two
Poisson inputs; best of --repeats, the two kernels alternating to share the machine's noise.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "codegen"))

import hand_specs  # noqa: E402
from brainsim.catalogue.neurons.iaf_psc_exp import IAF_PSC_EXP  # noqa: E402
from brainsim.codegen import cache  # noqa: E402
from brainsim.codegen.generate import kernel_source  # noqa: E402
from brainsim.network.inputs import DCTable, PoissonTable, input_plan  # noqa: E402
from cython_kernels import iaf_psc_exp, poisson  # noqa: E402

DT = 0.1
SEED = 12345
RING_LEN = 16
# A new process that has imported what a brainsim run has (numpy, the input kernels)
# before it asks for the kernel.
CACHED_LOAD = """
import json, sys, time
import numpy, cython_kernels.inputs
from brainsim.codegen import cache
source = open(sys.argv[1]).read()
start = time.perf_counter()
cache.load_kernel(source, "iaf_psc_exp", sys.argv[2])
print(json.dumps({"seconds": time.perf_counter() - start, "compiled": cache.STATS.compiled}))
"""


def seg_params() -> np.ndarray:
    params = {**IAF_PSC_EXP.defaults, "I_e": 300.0}
    constants = IAF_PSC_EXP.segment_constants(params, DT, iaf_psc_exp)
    return np.array([[constants[name] for name in iaf_psc_exp.SEGMENT_COLUMNS]] * 2)


def tables(with_poisson: bool):
    """Two Poisson inputs per segment (8 kHz excitatory, 2 kHz inhibitory, PD14-like
    totals), or none; no DC."""
    big = np.iinfo(np.int64).max
    lam = np.array([0.8, 0.2, 0.8, 0.2]) if with_poisson else np.zeros(0)
    cdf_rows = [poisson.cdf_table(x) for x in lam]
    width = max([len(row) for row in cdf_rows], default=1)
    cdf = np.ones((len(lam), width))
    for q, row in enumerate(cdf_rows):
        cdf[q, :len(row)] = row
    n = len(lam)
    return (PoissonTable(seg=np.array([0, 0, 1, 1][:n], np.int64),
                         item=np.array([0, 1, 0, 1][:n], np.int64),
                         weight=np.array([87.8, -351.2, 87.8, -351.2][:n]),
                         delay_steps=np.ones(n, np.int64), first_step=np.zeros(n, np.int64),
                         stop_step=np.full(n, big), cdf=cdf,
                         table_len=np.array([len(r) for r in cdf_rows], np.int64), lam=lam),
            DCTable(seg=np.zeros(0, np.int64), amplitude=np.zeros(0),
                    first_step=np.zeros(0, np.int64), stop_step=np.zeros(0, np.int64)))


def one_run(kernel, n: int, steps: int, epoch: int, with_poisson: bool) -> float:
    """Seconds for `steps` steps of n neurons in calls of `epoch` steps."""
    rng = np.random.default_rng(1)
    state = [rng.uniform(0, 15, n), np.zeros(n), np.zeros(n), np.zeros(n),
             np.zeros(n, np.int32)]
    ring = np.zeros((RING_LEN, n, 2))
    ring[..., 0] = rng.random((RING_LEN, n)) * 40.0
    ring[..., 1] = -rng.random((RING_LEN, n)) * 40.0
    gids = np.arange(n, dtype=np.int64)
    begin, end = np.array([0, n // 2]), np.array([n // 2, n])
    plan = input_plan(*tables(with_poisson), 2, max_steps=epoch)
    keys = np.zeros(n * epoch, np.uint64)
    params = seg_params()
    start = time.perf_counter()
    for first in range(0, steps, epoch):
        kernel.update(begin, end, params, *state, ring, gids, plan, first, epoch, SEED, keys)
    return time.perf_counter() - start


def compile_and_cached_load(source: str) -> tuple[object, float, float]:
    """(module, first-use seconds, cached-load seconds in a new process)."""
    folder = tempfile.mkdtemp(prefix="brainsim-bench-cache-")
    start = time.perf_counter()
    module = cache.load_kernel(source, "iaf_psc_exp", folder)
    first_use = time.perf_counter() - start
    with tempfile.NamedTemporaryFile("w", suffix=".pyx", delete=False) as handle:
        handle.write(source)
    done = subprocess.run([sys.executable, "-c", CACHED_LOAD, handle.name, folder],
                          capture_output=True, text=True, check=True, cwd=REPO)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["compiled"] == 0, "the cached load compiled"
    return module, first_use, loaded["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=1_000)
    parser.add_argument("--epoch", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    source = kernel_source(hand_specs.IAF_PSC_EXP)
    generated, first_use, cached = compile_and_cached_load(source)
    neuron_steps = args.neurons * args.steps
    print(f"iaf_psc_exp, {args.neurons} neurons x {args.steps} steps, epochs of "
          f"{args.epoch} steps, best of {args.repeats}")
    print(f"{'input':<16}{'built-in ns':>14}{'generated ns':>14}{'ratio':>8}")
    for label, with_poisson in (("ring", False), ("ring + Poisson", True)):
        best = {"built-in": float("inf"), "generated": float("inf")}
        for _ in range(args.repeats):
            for name, kernel in (("built-in", iaf_psc_exp), ("generated", generated)):
                seconds = one_run(kernel, args.neurons, args.steps, args.epoch, with_poisson)
                best[name] = min(best[name], seconds)
        ns = {name: seconds / neuron_steps * 1e9 for name, seconds in best.items()}
        print(f"{label:<16}{ns['built-in']:>14.2f}{ns['generated']:>14.2f}"
              f"{ns['generated'] / ns['built-in']:>8.2f}")
    print(f"first use (generate + compile + load): {first_use:.1f} s; "
          f"cached load in a new process: {cached * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
