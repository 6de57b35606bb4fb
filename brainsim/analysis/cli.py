"""`brainsim analyse OUTDIR`: statistics, comparison with reference rates, figures.

Writes OUTDIR/analysis/summary.json, summary.csv and the figures, and prints a table.
Populations outside the --compare tolerance are flagged in the table and in summary.json;
the exit status stays 0. Bad input (missing directory, unreadable reference, bad option)
prints one line and exits with status 2.

Importing this module is cheap (argparse only): h5py and matplotlib load in run().
"""
from __future__ import annotations

import argparse
import os
import sys

EXIT_USAGE = 2


def configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("outdir", help="output directory of a brainsim run (holds spikes.h5, "
                        "run.json)")
    parser.add_argument("--compare", metavar="REFERENCE.json",
                        help="reference rates: {\"populations\": [...], \"rates_hz\": [...]}, "
                        "{\"rates_hz\": {pop: rate}} (e.g. another run's run.json) or "
                        "tests/reference/pd14_nest_rates.json")
    parser.add_argument("--reference-key", metavar="KEY",
                        help="entry of the reference file to use, e.g. scale_0.1 (default: "
                        "rates_hz, else scale_<the run's scale>)")
    parser.add_argument("--tolerance", type=float, default=0.2,
                        help="relative rate difference flagged by --compare (default 0.2)")
    parser.add_argument("--window", nargs=2, type=float, metavar=("T0", "T1"),
                        help="analysis window (T0, T1] in ms (default: the window of the printed "
                             "rates, run.json's rate_window_ms)")
    parser.add_argument("--no-plots", action="store_true", help="statistics only, no figures")
    parser.add_argument("--sample", type=int, default=100,
                        help="neurons per population in the raster (default 100)")
    parser.add_argument("--format", default="png,pdf",
                        help="figure formats, comma-separated: png, pdf, svg (default png,pdf)")
    parser.add_argument("--bin", type=float, default=10.0, metavar="MS",
                        help="bin for Fano factors and correlations, ms (default 10)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the neuron and pair samples (default 0)")
    return parser


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `analyse` subcommand to brainsim's subparsers."""
    return configure(subparsers.add_parser(
        "analyse", help="statistics and figures of a run's output directory"))


def run(args: argparse.Namespace) -> int:
    """Run the analysis the parsed arguments ask for; 0 on success, 2 on bad input."""
    from brainsim.analysis.errors import AnalysisError
    try:
        return _run(args)
    except AnalysisError as err:
        sys.stderr.write(f"brainsim: error: {err}\n")
        return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from brainsim.analysis.errors import AnalysisError
    from brainsim.analysis.summary import analyse, format_table, write_summary
    if args.sample < 1:
        raise AnalysisError(f"--sample {args.sample}: must be at least 1")
    if not args.bin > 0:
        raise AnalysisError(f"--bin {args.bin}: must be a positive number of ms")
    if args.seed < 0:
        raise AnalysisError(f"--seed {args.seed}: must be a non-negative integer")
    if not args.tolerance > 0:
        raise AnalysisError(f"--tolerance {args.tolerance}: must be a positive fraction")
    formats = args.format.split(",")
    if not args.no_plots:
        from brainsim.analysis.plots import check_formats
        formats = check_formats(formats)
    analysis = analyse(args.outdir, window_ms=tuple(args.window) if args.window else None,
                       fano_bin_ms=args.bin, correlation_bin_ms=args.bin, seed=args.seed)
    if args.compare:
        analysis.compare(args.compare, args.tolerance, args.reference_key)
    directory = os.path.join(args.outdir, "analysis")
    if not args.no_plots:
        from brainsim.analysis.plots import make_figures
        make_figures(analysis, directory, formats, args.sample)
    summary = analysis.summary()
    json_path, csv_path = write_summary(summary, directory)
    print(format_table(summary))
    figures = f", {len(analysis.figures)} figure files" if analysis.figures else ""
    print(f"wrote {json_path}, {os.path.basename(csv_path)}{figures}")
    return 0


def analyse_main(argv: list[str] | None = None) -> int:
    """`python -m brainsim.analysis OUTDIR ...`, the same as `brainsim analyse OUTDIR ...`."""
    parser = configure(argparse.ArgumentParser(
        prog="brainsim analyse", description=__doc__.split("\n")[0]))
    return run(parser.parse_args(argv))
