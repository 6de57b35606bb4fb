"""Figures of an analysed run: raster, population rates and spectra, rate/CV/LV
distributions, and recorded V_m traces when the run has a report file.

Figures are built as matplotlib.figure.Figure objects (no pyplot, no global backend
change, nothing left open), so this works headless and inside notebooks alike. Every
plot function returns its Figure; save_figure writes it as PNG/PDF/SVG.
"""
from __future__ import annotations

import os

import numpy as np

from brainsim.analysis import statistics as st
from brainsim.analysis.errors import AnalysisError
from brainsim.analysis.run_output import CORTICAL_NAME, SpikeFile

FORMATS = ("png", "pdf", "svg")
LAYER_COLOURS = {"2": "#1f77b4", "4": "#d62728", "5": "#2ca02c", "6": "#9467bd"}
CYCLE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2",
         "#7f7f7f", "#bcbd22", "#17becf"]


def literal(text: str) -> str:
    """Text from a file shown as written: '$' escaped, so that matplotlib does not parse
    (and fail on) mathtext in a units or variable name."""
    return str(text).replace("$", r"\$")


def _figure(width_in: float, height_in: float):
    from matplotlib.figure import Figure
    return Figure(figsize=(width_in, height_in), layout="constrained")


def _lighten(colour, amount: float) -> tuple:
    from matplotlib.colors import to_rgb
    return tuple(c + (1 - c) * amount for c in to_rgb(colour))


def population_colours(names: list[str]) -> dict[str, tuple]:
    """One colour per population: cortical layers (L23E, L4I, ...) get a hue per layer,
    excitatory full and inhibitory lighter; other names cycle through ten colours."""
    from matplotlib.colors import to_rgb
    colours = {}
    for i, name in enumerate(names):
        match = CORTICAL_NAME.match(name)
        if match and match.group(1)[0] in LAYER_COLOURS:
            base = LAYER_COLOURS[match.group(1)[0]]
            colours[name] = to_rgb(base) if match.group(2) == "E" else _lighten(base, 0.4)
        else:
            colours[name] = to_rgb(CYCLE[i % len(CYCLE)])
    return colours


def check_formats(formats) -> tuple[str, ...]:
    chosen = tuple(f.strip().lower().lstrip(".") for f in formats if f.strip())
    bad = [f for f in chosen if f not in FORMATS]
    if bad or not chosen:
        raise AnalysisError(f"--format {','.join(formats)}: unknown format "
                            f"{', '.join(bad) or '(none)'}; must be among {', '.join(FORMATS)}")
    return chosen


def save_figure(figure, directory: str, stem: str, formats=("png", "pdf"),
                dpi: int = 150) -> list[str]:
    """Write directory/stem.<format> for each format; returns the paths."""
    os.makedirs(directory, exist_ok=True)
    paths = []
    for fmt in check_formats(formats):
        path = os.path.join(directory, f"{stem}.{fmt}")
        figure.savefig(path, dpi=dpi)
        paths.append(path)
    return paths


def raster_sample(analysis, sample: int, window_ms) -> dict[str, tuple]:
    """{population: (times, row within its band, number of rows)} for `sample` neurons per
    population (all when fewer), drawn with the analysis seed, read block by block."""
    from brainsim.analysis.summary import population_rng
    out = {}
    with SpikeFile(analysis.run.spikes_path) as spikes:
        present = set(spikes.populations)
        for name, size in analysis.run.population_sizes.items():
            rng = population_rng(analysis.options.seed + 1, name)
            chosen = np.sort(rng.choice(size, min(sample, size), replace=False))
            times, rows = [], []
            if name in present:
                for t, ids in spikes.iter_window(name, *window_ms):
                    row = np.minimum(np.searchsorted(chosen, ids), max(chosen.size - 1, 0))
                    keep = chosen[row] == ids if chosen.size else np.zeros(ids.size, bool)
                    times.append(t[keep])
                    rows.append(row[keep])
            out[name] = (np.concatenate(times) if times else np.empty(0),
                         np.concatenate(rows) if rows else np.empty(0, np.int64), chosen.size)
    return out


def plot_raster(analysis, sample: int = 100, window_ms=None, title: str | None = None,
                size_in=(10.0, 6.5), marker_size: float = 4.0):
    """Spike raster of `sample` random neurons per population, populations as bands top to
    bottom (cortical layers superficial first), with each population's mean rate beside it.
    window_ms defaults to the first 1000 ms of the analysis window."""
    if sample < 1:
        raise AnalysisError(f"--sample {sample}: must be at least 1 neuron per population")
    t0, t1 = analysis.window_ms
    window_ms = window_ms or (t0, min(t1, t0 + 1000.0))
    data = raster_sample(analysis, sample, window_ms)
    names = list(data)
    colours = population_colours(names)
    rates = analysis.mean_rates_hz()
    figure = _figure(*size_in)
    raster, bars = figure.subplots(1, 2, sharey=True, width_ratios=[4.5, 1])
    total = sum(rows for _, _, rows in data.values())
    top, centres = float(total), []
    for name in names:
        times, rows, num_rows = data[name]
        raster.scatter(times, top - rows - 0.5, s=marker_size, marker=".", linewidths=0,
                       color=colours[name], rasterized=True, label=name)
        centres.append(top - num_rows / 2)
        bars.barh(top - num_rows / 2, rates[name], height=0.8 * max(num_rows, 1),
                  color=colours[name])
        bars.annotate(f"{rates[name]:.2f}", (rates[name], top - num_rows / 2),
                      xytext=(3, 0), textcoords="offset points", va="center", fontsize=8)
        top -= num_rows
        if top > 0:
            raster.axhline(top, color="0.8", linewidth=0.6)
    raster.set_yticks(centres, names)
    raster.set_ylim(0, total)
    raster.set_xlim(*window_ms)
    raster.set_xlabel("time (ms)")
    raster.set_ylabel(f"population ({min(sample, max(analysis.run.population_sizes.values()))}"
                      " sampled neurons each)")
    bars.set_xlabel("mean rate (Hz)")
    bars.set_xlim(0, max(max(rates.values(), default=1.0), 1e-3) * 1.3)
    bars.tick_params(axis="y", left=False)
    for axis in (raster, bars):
        axis.spines[["top", "right"]].set_visible(False)
    meta = analysis.run.metadata
    figure.suptitle(title or f"{meta.get('model', 'run')} (seed {meta.get('seed')}, scale "
                    f"{meta.get('scale')}): spikes {window_ms[0]:g}-{window_ms[1]:g} ms, mean "
                    f"rates over ({analysis.window_ms[0]:g}, {analysis.window_ms[1]:g}] ms",
                    fontsize=10)
    return figure


def plot_population_rates(analysis, smooth_ms: float = 2.0, max_frequency_hz: float = 250.0,
                          window_ms=None):
    """Per population (rows): the population rate over time (1 ms bins, Gaussian smoothing
    of smooth_ms) shown over window_ms (default: the first 1000 ms of the analysis window),
    and the Welch spectrum of the unsmoothed rate over the whole window, peak marked."""
    from matplotlib.ticker import NullFormatter
    t0, t1 = analysis.window_ms
    window_ms = window_ms or (t0, min(t1, t0 + 1000.0))
    names = list(analysis.populations)
    colours = population_colours(names)
    figure = _figure(10.0, 1.0 + 1.05 * len(names))
    axes = figure.subplots(len(names), 2, sharex="col", squeeze=False, width_ratios=[3, 1.2])
    bin_ms = analysis.options.psd_bin_ms
    for row, name in enumerate(names):
        p = analysis.populations[name]
        trace, spectrum = axes[row]
        shown_t = (p.rate_times_ms >= window_ms[0]) & (p.rate_times_ms <= window_ms[1])
        smoothed = st.smooth_gaussian(p.rate_hz, smooth_ms / bin_ms) if p.rate_hz.size > 1 \
            else p.rate_hz
        trace.plot(p.rate_times_ms[shown_t], smoothed[shown_t], color=colours[name],
                   linewidth=0.8)
        trace.set_xlim(*window_ms)
        trace.set_ylabel(f"{name}\n(Hz)", rotation=0, ha="right", va="center",
                         color=colours[name])
        trace.set_ylim(bottom=0)
        shown = (p.psd_frequencies_hz > 0) & (p.psd_frequencies_hz <= max_frequency_hz)
        if np.any(p.psd[shown] > 0):
            spectrum.semilogy(p.psd_frequencies_hz[shown], p.psd[shown], color=colours[name],
                              linewidth=0.8)
            spectrum.yaxis.set_minor_formatter(NullFormatter())
            if np.isfinite(p.psd_peak_hz):
                spectrum.axvline(p.psd_peak_hz, color="0.5", linestyle=":", linewidth=0.8)
                spectrum.annotate(f"{p.psd_peak_hz:.0f} Hz", (p.psd_peak_hz, 1), xytext=(3, -3),
                                  xycoords=("data", "axes fraction"), textcoords="offset points",
                                  va="top", fontsize=7)
        for axis in (trace, spectrum):
            axis.spines[["top", "right"]].set_visible(False)
            axis.tick_params(labelsize=7)
    axes[-1][0].set_xlabel("time (ms)")
    axes[-1][1].set_xlabel("frequency (Hz)")
    axes[0][0].set_title(f"population rate ({bin_ms:g} ms bins, σ = {smooth_ms:g} ms)",
                         fontsize=9)
    axes[0][1].set_title("power spectrum (Hz²/Hz)", fontsize=9)
    return figure


def plot_distributions(analysis):
    """Box plots per population (top to bottom) of the firing rate (all neurons, silent
    included), the CV of ISIs and the LV (neurons with enough spikes); dotted line at the
    Poisson value 1 for CV and LV."""
    names = list(analysis.populations)
    colours = population_colours(names)
    figure = _figure(10.0, 1.2 + 0.38 * len(names))
    axes = figure.subplots(1, 3, sharey=True)
    positions = np.arange(len(names))[::-1]
    panels = (("rates_hz", "firing rate (Hz)"), ("cv_isi", "CV of ISI"),
              ("lv", "local variation LV"))
    for axis, (attribute, label) in zip(axes, panels):
        values = [getattr(analysis.populations[n], attribute) for n in names]
        values = [v[np.isfinite(v)] for v in values]
        filled = [i for i, v in enumerate(values) if v.size]
        if filled:
            boxes = axis.boxplot([values[i] for i in filled], positions=positions[filled],
                                 orientation="horizontal", widths=0.6, patch_artist=True,
                                 showfliers=True, flierprops={"markersize": 2, "alpha": 0.4},
                                 medianprops={"color": "black"})
            for i, patch in zip(filled, boxes["boxes"]):
                patch.set_facecolor(colours[names[i]])
        if attribute != "rates_hz":
            axis.axvline(1.0, color="0.5", linestyle=":", linewidth=0.8)
        axis.set_xlabel(label)
        axis.spines[["top", "right"]].set_visible(False)
    axes[0].set_yticks(positions, names)
    axes[0].set_ylim(-0.7, len(names) - 0.3)
    return figure


def plot_traces(traces_list):
    """Recorded traces (brainsim.analysis.reports.Traces), one row per population."""
    colours = population_colours([t.population for t in traces_list])
    figure = _figure(10.0, 1.0 + 1.4 * len(traces_list))
    axes = figure.subplots(len(traces_list), 1, sharex=True, squeeze=False)[:, 0]
    for axis, traces in zip(axes, traces_list):
        shades = np.linspace(0.0, 0.5, max(traces.values.shape[1], 1))
        for column, node in enumerate(traces.node_ids):
            axis.plot(traces.times_ms, traces.values[:, column], linewidth=0.7,
                      color=_lighten(colours[traces.population], shades[column]),
                      label=f"node {int(node)}")
        axis.set_ylabel(literal(f"{traces.population}\n{traces.variable}"
                                + (f" ({traces.units})" if traces.units else "")), fontsize=8)
        axis.legend(fontsize=6, loc="upper right", frameon=False)
        axis.spines[["top", "right"]].set_visible(False)
    axes[-1].set_xlabel("time (ms)")
    return figure


def make_figures(analysis, directory: str, formats=("png", "pdf"), sample: int = 100
                 ) -> list[str]:
    """Render every figure into directory; returns the written paths (also kept in
    analysis.figures)."""
    from brainsim.analysis.reports import find_reports, read_traces
    formats = check_formats(formats)
    # Every report is read before the first figure is written: a bad one writes nothing.
    reports = [(path, read_traces(path)) for path in find_reports(analysis.run.outdir)]
    written = []
    written += save_figure(plot_raster(analysis, sample), directory, "raster", formats)
    written += save_figure(plot_population_rates(analysis), directory, "population_rates",
                           formats)
    written += save_figure(plot_distributions(analysis), directory, "distributions", formats)
    for path, traces in reports:
        if traces:
            stem = os.path.splitext(os.path.basename(path))[0]
            written += save_figure(plot_traces(traces), directory, f"traces_{stem}", formats)
    analysis.figures = written
    return written
