"""Analysis of brainsim outputs: spike statistics, reference comparison, figures, Neo export.

    from brainsim.analysis import analyse
    result = analyse("output/pd14_laptop")            # window of the printed rates
    result.populations["L4E"].cv_isi                  # per-neuron arrays
    result.compare("tests/reference/pd14_nest_rates.json", tolerance=0.2)
    summary = result.summary()                        # what summary.json holds

Command line: `brainsim analyse OUTDIR` (or `python -m brainsim.analysis OUTDIR`).
Figures need matplotlib; to_neo needs neo and quantities. Both are imported only when used.
"""
from __future__ import annotations

from brainsim.analysis.errors import AnalysisError
from brainsim.analysis.neo_export import to_neo
from brainsim.analysis.reference import compare_rates, load_reference_rates
from brainsim.analysis.reports import Traces, find_reports, read_traces
from brainsim.analysis.run_output import RunOutput, SpikeFile, display_order, load_run
from brainsim.analysis.statistics import (cv_isi, fano_factors, firing_rates_hz,
                                          local_variation, pairwise_correlations,
                                          population_rate_hz, rate_spectrum, spike_counts,
                                          welch_psd)
from brainsim.analysis.summary import (Analysis, Options, PopulationResult, analyse,
                                       format_table, write_summary)

PLOTS = ("make_figures", "plot_raster", "plot_population_rates", "plot_distributions",
         "plot_traces", "save_figure", "population_colours")


def __getattr__(name: str):
    """The plot functions, imported (with matplotlib) on first use."""
    if name in PLOTS:
        from brainsim.analysis import plots
        return getattr(plots, name)
    raise AttributeError(f"module 'brainsim.analysis' has no attribute '{name}'")


__all__ = ["AnalysisError", "Analysis", "Options", "PopulationResult", "RunOutput",
           "SpikeFile", "Traces", "analyse", "compare_rates", "cv_isi", "display_order",
           "fano_factors", "find_reports", "firing_rates_hz", "format_table",
           "load_reference_rates", "load_run", "local_variation", "pairwise_correlations", "population_rate_hz",
           "rate_spectrum", "read_traces", "spike_counts", "to_neo", "welch_psd",
           "write_summary", *PLOTS]
