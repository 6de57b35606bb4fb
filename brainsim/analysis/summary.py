"""analyse(OUTDIR): every statistic of every population, as arrays (for the figures) and as
a JSON-ready summary; the summary written as JSON and CSV and printed as a table.

Populations are analysed one at a time: only one population's window of spikes is in
memory at once.
"""
from __future__ import annotations

import csv
import json
import math
import os
import zlib
from dataclasses import dataclass, field

import numpy as np

from brainsim.analysis import statistics as st
from brainsim.analysis.errors import AnalysisError
from brainsim.analysis.reference import compare_rates, load_reference_rates
from brainsim.analysis.run_output import RunOutput, SpikeFile, load_run


@dataclass(frozen=True)
class Options:
    """What the statistics are computed over; every time in ms."""
    window_ms: tuple[float, float] | None = None  # (t0, t1]; None: the run's rate window
    min_spikes: int = 3               # for CV and LV
    fano_bin_ms: float = 10.0
    correlation_bin_ms: float = 10.0
    correlation_neurons: int = 100    # sampled per population
    correlation_pairs: int = 200      # sampled among them
    psd_bin_ms: float = 1.0           # population-rate bin for the spectrum and the traces
    psd_segment_ms: float = 256.0     # Welch segment length
    rate_histogram_bins: int = 30
    seed: int = 0                     # for every random sample (keyed by population name)


@dataclass
class PopulationResult:
    """One population's statistics: per-neuron arrays (NaN where not qualified) and the
    population-level results."""
    name: str
    num_neurons: int
    num_spikes: int
    rates_hz: np.ndarray
    cv_isi: np.ndarray
    lv: np.ndarray
    fano: np.ndarray
    correlations: np.ndarray
    rate_times_ms: np.ndarray         # population rate, bins of psd_bin_ms
    rate_hz: np.ndarray
    psd_frequencies_hz: np.ndarray
    psd: np.ndarray
    psd_peak_hz: float

    def summary(self, options: Options) -> dict:
        rates = st.describe(self.rates_hz)
        return {
            "num_neurons": self.num_neurons, "num_spikes": self.num_spikes,
            "rate_hz": {"mean": rates["mean"], "median": rates["median"], "std": rates["std"],
                        "min": rates["min"], "max": rates["max"],
                        "fraction_silent": float(np.mean(self.rates_hz == 0))
                        if self.num_neurons else None,
                        "histogram": st.histogram(self.rates_hz, options.rate_histogram_bins)},
            "cv_isi": _qualified(self.cv_isi, f">= {options.min_spikes} spikes"),
            "lv": _qualified(self.lv, f">= {max(options.min_spikes, 3)} spikes"),
            "fano_factor": {**_qualified(self.fano, "at least one spike"),
                            "bin_ms": options.fano_bin_ms},
            "correlation": {**_qualified(self.correlations, "pairs with count variance"),
                            "bin_ms": options.correlation_bin_ms},
            "spectrum": {"peak_hz": _finite(self.psd_peak_hz), "bin_ms": options.psd_bin_ms,
                         "segment_ms": options.psd_segment_ms,
                         "frequencies_hz": self.psd_frequencies_hz.tolist(),
                         "psd_hz2_per_hz": self.psd.tolist()},
        }


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _qualified(values: np.ndarray, rule: str) -> dict:
    d = st.describe(values)
    return {"mean": d["mean"], "median": d["median"], "std": d["std"], "num": d["num"],
            "qualifies": rule}


def population_rng(seed: int, name: str) -> np.random.Generator:
    """A generator keyed by (seed, population name): samples do not depend on the order
    or number of populations analysed."""
    return np.random.default_rng([seed, zlib.crc32(name.encode())])


def analyse_population(name: str, times: np.ndarray, ids: np.ndarray, num_neurons: int,
                       window_ms: tuple[float, float], options: Options) -> PopulationResult:
    """All statistics of one population's spikes in (t0, t1]."""
    if ids.size and (ids.min() < 0 or ids.max() >= num_neurons):
        raise AnalysisError(f"population {name}: node id {int(ids.max())} outside "
                            f"0..{num_neurons - 1} (population size {num_neurons})")
    rate_times, rate = st.population_rate_hz(times, num_neurons, window_ms, options.psd_bin_ms)
    freqs, psd, peak = st.spectrum_of_rate(rate, options.psd_bin_ms, options.psd_segment_ms)
    return PopulationResult(
        name=name, num_neurons=num_neurons, num_spikes=int(times.size),
        rates_hz=st.firing_rates_hz(ids, num_neurons, window_ms),
        cv_isi=st.cv_isi(times, ids, num_neurons, options.min_spikes),
        lv=st.local_variation(times, ids, num_neurons, options.min_spikes),
        fano=st.fano_factors(times, ids, num_neurons, window_ms, options.fano_bin_ms),
        correlations=st.pairwise_correlations(
            times, ids, num_neurons, window_ms, options.correlation_bin_ms,
            options.correlation_neurons, options.correlation_pairs,
            population_rng(options.seed, name)),
        rate_times_ms=rate_times, rate_hz=rate, psd_frequencies_hz=freqs, psd=psd,
        psd_peak_hz=peak)


@dataclass
class Analysis:
    """The result of analyse(): the run, the window, the options and every population."""
    run: RunOutput
    window_ms: tuple[float, float]
    options: Options
    populations: dict[str, PopulationResult]
    comparison: dict | None = None
    figures: list[str] = field(default_factory=list)

    def mean_rates_hz(self) -> dict[str, float]:
        return {name: float(p.rates_hz.mean()) if p.num_neurons else 0.0
                for name, p in self.populations.items()}

    def compare(self, reference_path: str, tolerance: float = 0.2,
                key: str | None = None) -> dict:
        """Compare the mean rates with a reference file (see brainsim.analysis.reference);
        the result is kept in self.comparison and in the summary."""
        if not tolerance > 0:
            raise AnalysisError(f"--tolerance {tolerance}: must be a positive fraction "
                                "(0.2 = 20 %)")
        reference, taken = load_reference_rates(reference_path, key,
                                                self.run.metadata.get("scale"))
        self.comparison = {"reference": reference_path, "reference_entry": taken,
                           **compare_rates(self.mean_rates_hz(), reference, tolerance)}
        if not self.comparison["populations"]:
            raise AnalysisError(f"{reference_path}: names no population of this run "
                                f"({', '.join(self.populations)})")
        return self.comparison

    def summary(self) -> dict:
        meta = self.run.metadata
        return {
            "outdir": os.path.abspath(self.run.outdir),
            "run": {key: meta.get(key) for key in ("model", "model_hash", "seed", "scale",
                                                   "ranks", "dt_ms", "t_sim_ms", "warmup_ms",
                                                   "brainsim_version")},
            "window_ms": list(self.window_ms),
            "options": {k: v for k, v in self.options.__dict__.items() if k != "window_ms"},
            "population_order": list(self.populations),
            "populations": {name: p.summary(self.options)
                            for name, p in self.populations.items()},
            "comparison": self.comparison,
            "figures": [os.path.basename(f) for f in self.figures],
        }


def check_window(run: RunOutput, window_ms) -> tuple[float, float]:
    t0, t1 = run.default_window_ms() if window_ms is None else map(float, window_ms)
    if not (math.isfinite(t0) and math.isfinite(t1) and 0 <= t0 < t1):
        raise AnalysisError(f"--window {t0:g} {t1:g}: expected 0 <= T0 < T1 in ms")
    if t1 > run.t_sim_ms + 1e-9:
        raise AnalysisError(f"--window {t0:g} {t1:g}: T1 is past the end of the run "
                            f"(t_sim {run.t_sim_ms:g} ms)")
    return t0, t1


# Bins over the window: --bin's counts are [sampled neurons, bins] (correlations), the
# population rate's bins of psd_bin_ms are one array per population.
MAX_COUNT_BINS = 1_000_000
MAX_RATE_BINS = 100_000_000


def check_bins(run: RunOutput, window_ms: tuple[float, float], options: Options) -> None:
    """Refuse bins shorter than the run's resolution (spike times lie on its grid) or so
    many bins over the window that their arrays would not fit in memory."""
    span = window_ms[1] - window_ms[0]
    for value, name, limit in ((options.fano_bin_ms, "--bin", MAX_COUNT_BINS),
                               (options.correlation_bin_ms, "--bin", MAX_COUNT_BINS),
                               (options.psd_bin_ms, "the population-rate bin", MAX_RATE_BINS)):
        if not value >= run.dt_ms * (1 - 1e-9):
            raise AnalysisError(f"{name} {value:g} ms: expected at least the run's resolution "
                                f"dt = {run.dt_ms:g} ms")
        if span / value > limit:
            raise AnalysisError(f"{name} {value:g} ms: {span / value:,.0f} bins over the "
                                f"window of {span:g} ms; expected at most {limit:,} (a larger "
                                "--bin or a shorter --window)")


def analyse(outdir: str, options: Options | None = None, **overrides) -> Analysis:
    """Every statistic of every population of the run in OUTDIR over options.window_ms
    (default: the window of the rates the run printed, run.json's rate_window_ms). Keyword
    arguments override fields of Options."""
    options = Options(**{**(options or Options()).__dict__, **overrides})
    run = load_run(outdir)
    window = check_window(run, options.window_ms)
    check_bins(run, window, options)
    results = {}
    with SpikeFile(run.spikes_path) as spikes:
        present = set(spikes.populations)
        for name, size in run.population_sizes.items():
            if name in present:
                times, ids = spikes.read_window(name, *window)
            else:
                times, ids = np.empty(0), np.empty(0, dtype=np.int64)
            results[name] = analyse_population(name, times, ids, size, window, options)
    return Analysis(run=run, window_ms=window, options=options, populations=results)


CSV_COLUMNS = ("population", "num_neurons", "num_spikes", "rate_mean_hz", "rate_median_hz",
               "fraction_silent", "cv_isi_mean", "cv_isi_median", "cv_isi_num",
               "lv_mean", "lv_median", "lv_num", "fano_mean", "fano_num",
               "correlation_mean", "correlation_num_pairs", "psd_peak_hz",
               "reference_rate_hz", "relative_difference", "outside_tolerance")


def csv_rows(summary: dict) -> list[dict]:
    comparison = (summary.get("comparison") or {}).get("populations", {})
    rows = []
    for name, p in summary["populations"].items():
        ref = comparison.get(name, {})
        rows.append(dict(zip(CSV_COLUMNS, (
            name, p["num_neurons"], p["num_spikes"], p["rate_hz"]["mean"],
            p["rate_hz"]["median"], p["rate_hz"]["fraction_silent"],
            p["cv_isi"]["mean"], p["cv_isi"]["median"], p["cv_isi"]["num"],
            p["lv"]["mean"], p["lv"]["median"], p["lv"]["num"],
            p["fano_factor"]["mean"], p["fano_factor"]["num"],
            p["correlation"]["mean"], p["correlation"]["num"], p["spectrum"]["peak_hz"],
            ref.get("reference_hz"), ref.get("relative_difference"),
            ref.get("outside_tolerance")))))
    return rows


def _json_safe(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def write_summary(summary: dict, directory: str) -> tuple[str, str]:
    """Write summary.json and summary.csv into directory (created if needed)."""
    os.makedirs(directory, exist_ok=True)
    json_path = os.path.join(directory, "summary.json")
    with open(json_path + ".partial", "w") as handle:
        json.dump(_json_safe(summary), handle, indent=1)
        handle.write("\n")
    os.replace(json_path + ".partial", json_path)
    csv_path = os.path.join(directory, "summary.csv")
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(csv_rows(summary))
    return json_path, csv_path


def _cell(value, spec: str, width: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"{'-':>{width}}"
    return format(value, spec).rjust(width)


def format_table(summary: dict) -> str:
    """The summary as a fixed-width table, with the comparison columns when there is one."""
    run, (t0, t1) = summary["run"], summary["window_ms"]
    comparison = summary.get("comparison")
    lines = [f"{run.get('model') or 'run'} (seed {run.get('seed')}, scale {run.get('scale')}) "
             f"over ({t0:g}, {t1:g}] ms"]
    header = (f"{'population':<12}{'neurons':>9}{'spikes':>10}{'rate Hz':>9}{'median':>8}"
              f"{'CV ISI':>8}{'(n)':>7}{'LV':>6}{'Fano':>6}{'corr':>8}{'peak Hz':>9}")
    if comparison:
        header += f"{'ref Hz':>9}{'rel diff':>10}"
    lines.append(header)
    for name, p in summary["populations"].items():
        line = (f"{name:<12}{p['num_neurons']:>9,}{p['num_spikes']:>10,}"
                + _cell(p["rate_hz"]["mean"], ".3f", 9) + _cell(p["rate_hz"]["median"], ".2f", 8)
                + _cell(p["cv_isi"]["mean"], ".2f", 8) + f"{p['cv_isi']['num']:>7,}"
                + _cell(p["lv"]["mean"], ".2f", 6) + _cell(p["fano_factor"]["mean"], ".2f", 6)
                + _cell(p["correlation"]["mean"], ".4f", 8)
                + _cell(p["spectrum"]["peak_hz"], ".1f", 9))
        row = comparison["populations"].get(name) if comparison else None
        if row:
            line += _cell(row["reference_hz"], ".3f", 9) + \
                _cell(100 * row["relative_difference"], "+.1f", 9) + "%"
            line += "  OUTSIDE" if row["outside_tolerance"] else ""
        lines.append(line)
    if comparison:
        tol = 100 * comparison["tolerance"]
        flagged = comparison["flagged"]
        lines.append(f"reference: {comparison['reference']} [{comparison['reference_entry']}]; "
                     + (f"{len(flagged)} population(s) outside ±{tol:g} %: "
                        + ", ".join(flagged) if flagged else f"all within ±{tol:g} %"))
    return "\n".join(lines)
