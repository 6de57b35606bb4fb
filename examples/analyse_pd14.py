"""Statistics of a PD14 run with brainsim.analysis, then Elephant on the same spikes.

    mpiexec -n 2 brainsim run models/potjans_diesmann_2014.yaml --config configs/laptop.yaml \
        -o output/pd14_laptop
    python examples/analyse_pd14.py output/pd14_laptop

Prints the summary table (with the NEST rates of tests/reference/pd14_nest_rates.json beside
it), writes the figures to OUTDIR/analysis/, and, when neo and elephant are installed,
recomputes the CV of ISIs with Elephant from the Neo export to show the two agree.
"""
from __future__ import annotations

import argparse
import os

import numpy as np

from brainsim.analysis import analyse, format_table, to_neo, write_summary

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NEST_RATES = os.path.join(REPO, "tests", "reference", "pd14_nest_rates.json")


def elephant_cv(outdir: str, window_ms: tuple[float, float]) -> dict[str, float] | None:
    """Mean CV of ISIs per population by Elephant on the Neo trains (None if not installed)."""
    try:
        from elephant.statistics import cv, isi
    except ImportError:
        print("\n(elephant not installed: pip install elephant neo quantities)")
        return None
    trains = to_neo(outdir, window_ms=window_ms)
    return {name: float(np.mean([cv(isi(t)) for t in population if t.size >= 3]))
            for name, population in trains.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir", help="output directory of a PD14 run")
    parser.add_argument("--no-plots", action="store_true")
    args = parser.parse_args()

    analysis = analyse(args.outdir)                     # window (warmup, t_sim]
    if analysis.run.metadata.get("model") == "potjans_diesmann_2014":
        analysis.compare(NEST_RATES, tolerance=0.2)     # key scale_<scale>, mean over seeds
    directory = os.path.join(args.outdir, "analysis")
    if not args.no_plots:
        from brainsim.analysis.plots import make_figures
        make_figures(analysis, directory, ("png", "pdf"), sample=100)
    summary = analysis.summary()
    write_summary(summary, directory)
    print(format_table(summary))

    theirs = elephant_cv(args.outdir, analysis.window_ms)
    if theirs is not None:
        print(f"\n{'population':<12}{'CV brainsim':>12}{'CV elephant':>12}")
        for name, population in analysis.populations.items():
            print(f"{name:<12}{np.nanmean(population.cv_isi):>12.4f}{theirs[name]:>12.4f}")


if __name__ == "__main__":
    main()
