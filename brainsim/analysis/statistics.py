"""Spike-train statistics of one population, vectorised over all its spikes.

Every function takes the population's spikes as two arrays — `times` (ms) and `ids`
(population-local node ids, 0 <= id < num_neurons) — in any order, plus the analysis
window (t0, t1] in ms where it matters. Nothing loops over spikes or neurons in Python.
Per-neuron results are arrays of length num_neurons with NaN where a neuron does not
qualify (too few spikes); summaries report how many qualified.
"""
from __future__ import annotations

import numpy as np


def spike_counts(ids: np.ndarray, num_neurons: int) -> np.ndarray:
    """Spikes per neuron (int64, length num_neurons); silent neurons count 0."""
    return np.bincount(np.asarray(ids, dtype=np.int64), minlength=num_neurons)


def firing_rates_hz(ids: np.ndarray, num_neurons: int, window_ms: tuple[float, float]
                    ) -> np.ndarray:
    """Rate of each neuron (Hz) over the window: spike count / window length."""
    duration_s = (window_ms[1] - window_ms[0]) * 1e-3
    if duration_s <= 0:
        raise ValueError(f"window {window_ms} ms: t1 must be greater than t0")
    return spike_counts(ids, num_neurons) / duration_s


def intervals_by_neuron(times: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ISIs ms, owner id) of every neuron, grouped by neuron, in time order within each."""
    ids = np.asarray(ids, dtype=np.int64)
    order = np.lexsort((times, ids))
    t, n = np.asarray(times, dtype=np.float64)[order], ids[order]
    same = n[1:] == n[:-1]
    return np.diff(t)[same], n[1:][same]


def cv_isi(times: np.ndarray, ids: np.ndarray, num_neurons: int, min_spikes: int = 3
           ) -> np.ndarray:
    """Coefficient of variation of each neuron's ISIs, std/mean (population std, ddof 0,
    as elephant.statistics.cv); NaN for neurons with fewer than min_spikes spikes."""
    isi, owner = intervals_by_neuron(times, ids)
    count = np.bincount(owner, minlength=num_neurons)
    qualified = count >= max(min_spikes - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(owner, isi, minlength=num_neurons) / count
        var = np.bincount(owner, (isi - mean[owner]) ** 2, minlength=num_neurons) / count
        cv = np.sqrt(var) / mean
    return np.where(qualified, cv, np.nan)


def local_variation(times: np.ndarray, ids: np.ndarray, num_neurons: int,
                    min_spikes: int = 3) -> np.ndarray:
    """Local variation (Shinomoto et al. 2003) of each neuron's ISIs I_1..I_n:
    LV = 3/(n-1) * sum_i ((I_i - I_{i+1}) / (I_i + I_{i+1}))^2; 1 for Poisson, 0 for regular.
    NaN for neurons with fewer than max(min_spikes, 3) spikes."""
    isi, owner = intervals_by_neuron(times, ids)
    pair = owner[1:] == owner[:-1]
    first, second, who = isi[:-1][pair], isi[1:][pair], owner[1:][pair]
    total = first + second
    term = np.zeros_like(total)
    np.divide(3.0 * (first - second) ** 2, total ** 2, out=term, where=total > 0)
    num_pairs = np.bincount(who, minlength=num_neurons)
    qualified = num_pairs >= max(min_spikes - 2, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        lv = np.bincount(who, term, minlength=num_neurons) / num_pairs
    return np.where(qualified, lv, np.nan)


def bin_index(times: np.ndarray, window_ms: tuple[float, float], bin_ms: float
              ) -> tuple[np.ndarray, int]:
    """(bin of each spike, number of bins) for bins (t0 + k*w, t0 + (k+1)*w] over the
    window; the last incomplete bin is dropped and its spikes get index -1."""
    t0, t1 = window_ms
    if bin_ms <= 0:
        raise ValueError(f"bin {bin_ms} ms: must be positive")
    num_bins = int(np.floor((t1 - t0) / bin_ms + 1e-9))
    index = np.ceil((np.asarray(times, dtype=np.float64) - t0) / bin_ms - 1e-9).astype(np.int64) - 1
    index[(index < 0) | (index >= num_bins)] = -1
    return index, num_bins


def fano_factors(times: np.ndarray, ids: np.ndarray, num_neurons: int,
                 window_ms: tuple[float, float], bin_ms: float = 10.0) -> np.ndarray:
    """Fano factor of each neuron's spike counts in bins of bin_ms over the window:
    variance (ddof 1) / mean over the bins; NaN for silent neurons or fewer than 2 bins.

    Memory grows with the number of spikes, not neurons x bins: counts are formed only for
    the (neuron, bin) cells that hold a spike."""
    index, num_bins = bin_index(times, window_ms, bin_ms)
    keep = index >= 0
    cell = np.asarray(ids, dtype=np.int64)[keep] * num_bins + index[keep]
    cells, counts = np.unique(cell, return_counts=True)
    owner = cells // max(num_bins, 1)
    s1 = np.bincount(owner, counts, minlength=num_neurons)
    s2 = np.bincount(owner, counts.astype(np.float64) ** 2, minlength=num_neurons)
    if num_bins < 2:
        return np.full(num_neurons, np.nan)
    mean = s1 / num_bins
    var = (s2 - num_bins * mean ** 2) / (num_bins - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s1 > 0, var / mean, np.nan)


def binned_counts(times: np.ndarray, ids: np.ndarray, neurons: np.ndarray,
                  window_ms: tuple[float, float], bin_ms: float) -> np.ndarray:
    """Spike counts [len(neurons), num_bins] of the given neurons (sorted unique ids)."""
    neurons = np.asarray(neurons, dtype=np.int64)
    index, num_bins = bin_index(times, window_ms, bin_ms)
    if neurons.size == 0:
        return np.zeros((0, num_bins), dtype=np.int64)
    ids = np.asarray(ids, dtype=np.int64)
    row = np.minimum(np.searchsorted(neurons, ids), neurons.size - 1)
    keep = (index >= 0) & (neurons[row] == ids)
    flat = np.bincount(row[keep] * num_bins + index[keep], minlength=neurons.size * num_bins)
    return flat.reshape(neurons.size, num_bins)


def pairwise_correlations(times: np.ndarray, ids: np.ndarray, num_neurons: int,
                          window_ms: tuple[float, float], bin_ms: float = 10.0,
                          sample_neurons: int = 100, num_pairs: int = 200,
                          rng: np.random.Generator | None = None) -> np.ndarray:
    """Pearson correlation of binned spike counts for random pairs of active neurons.

    Draws up to sample_neurons neurons among those that fire in the window, then up to
    num_pairs distinct pairs among them, both without replacement from `rng`; pairs
    with a constant count series (no variance) are dropped. Returns the coefficients."""
    rng = np.random.default_rng(0) if rng is None else rng
    active = np.flatnonzero(spike_counts(ids, num_neurons))
    if active.size < 2:
        return np.empty(0)
    chosen = np.sort(rng.choice(active, min(sample_neurons, active.size), replace=False))
    counts = binned_counts(times, ids, chosen, window_ms, bin_ms).astype(np.float64)
    if counts.shape[1] < 2:
        return np.empty(0)
    rows, cols = np.triu_indices(chosen.size, k=1)
    pick = rng.choice(rows.size, min(num_pairs, rows.size), replace=False)
    rows, cols = rows[pick], cols[pick]
    centred = counts - counts.mean(axis=1, keepdims=True)
    norm = np.sqrt((centred ** 2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (centred[rows] * centred[cols]).sum(axis=1) / (norm[rows] * norm[cols])
    return r[np.isfinite(r)]


def population_rate_hz(times: np.ndarray, num_neurons: int, window_ms: tuple[float, float],
                       bin_ms: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(bin centres ms, population rate Hz): spikes per bin / (num_neurons * bin length)."""
    index, num_bins = bin_index(times, window_ms, bin_ms)
    counts = np.bincount(index[index >= 0], minlength=num_bins)
    centres = window_ms[0] + (np.arange(num_bins) + 0.5) * bin_ms
    return centres, counts / (max(num_neurons, 1) * bin_ms * 1e-3)


def smooth_gaussian(signal: np.ndarray, sigma_bins: float) -> np.ndarray:
    """Convolve with a normalised Gaussian of sigma_bins (truncated at 4 sigma), same length."""
    if sigma_bins <= 0 or np.size(signal) < 2:
        return np.asarray(signal, dtype=np.float64)
    half = int(np.ceil(4 * sigma_bins))
    kernel = np.exp(-0.5 * (np.arange(-half, half + 1) / sigma_bins) ** 2)
    kernel /= kernel.sum()
    padded = np.pad(np.asarray(signal, dtype=np.float64), half, mode="reflect")
    return np.convolve(padded, kernel, mode="valid")


def welch_psd(signal: np.ndarray, sampling_hz: float, segment_length: int = 256
              ) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density (one-sided, density scaling: signal units^2 / Hz).

    Hann-windowed segments of segment_length samples with 50 % overlap, each with its mean
    removed; the same estimate as scipy.signal.welch(x, fs, nperseg=segment_length)."""
    x = np.asarray(signal, dtype=np.float64)
    n = min(segment_length, x.size)
    if n < 2:
        return np.zeros(1), np.zeros(1)
    step = n - n // 2
    starts = np.arange(0, x.size - n + 1, step)
    segments = x[starts[:, None] + np.arange(n)]
    segments = segments - segments.mean(axis=1, keepdims=True)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)     # periodic Hann
    spectra = np.abs(np.fft.rfft(segments * window, axis=1)) ** 2
    psd = spectra.mean(axis=0) / (sampling_hz * (window ** 2).sum())
    psd[1:-1 if n % 2 == 0 else None] *= 2.0
    return np.fft.rfftfreq(n, d=1.0 / sampling_hz), psd


def spectrum_of_rate(rate_hz: np.ndarray, bin_ms: float, segment_ms: float = 256.0
                     ) -> tuple[np.ndarray, np.ndarray, float]:
    """(frequencies Hz, PSD Hz^2/Hz, peak frequency Hz) of a rate binned at bin_ms; the
    peak is the frequency of the largest PSD value above 0 Hz (NaN when there is no power)."""
    freqs, psd = welch_psd(rate_hz, 1e3 / bin_ms, int(round(segment_ms / bin_ms)))
    if freqs.size < 2 or not np.any(psd[1:] > 0):
        return freqs, psd, float("nan")
    return freqs, psd, float(freqs[1 + np.argmax(psd[1:])])


def rate_spectrum(times: np.ndarray, num_neurons: int, window_ms: tuple[float, float],
                  bin_ms: float = 1.0, segment_ms: float = 256.0
                  ) -> tuple[np.ndarray, np.ndarray, float]:
    """spectrum_of_rate of the population rate binned at bin_ms over the window."""
    _, rate = population_rate_hz(times, num_neurons, window_ms, bin_ms)
    return spectrum_of_rate(rate, bin_ms, segment_ms)


def describe(values: np.ndarray) -> dict:
    """mean, median, std, min, max of the finite values and how many there are."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": None, "median": None, "std": None, "min": None, "max": None,
                "num": 0}
    return {"mean": float(v.mean()), "median": float(np.median(v)), "std": float(v.std()),
            "min": float(v.min()), "max": float(v.max()), "num": int(v.size)}


def histogram(values: np.ndarray, num_bins: int = 30) -> dict:
    """Histogram of the finite values: {"edges": [...], "counts": [...]}."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"edges": [], "counts": []}
    top = float(v.max()) if v.max() > v.min() else float(v.min()) + 1.0
    counts, edges = np.histogram(v, bins=num_bins, range=(float(v.min()), top))
    return {"edges": edges.tolist(), "counts": counts.tolist()}
