"""Each statistic on synthetic spike trains whose answer is known."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
from analysis_synthetic import modulated_trains, poisson_trains, regular_trains

from brainsim.analysis import statistics as st
from brainsim.analysis.run_output import display_order, search_sorted_dataset

WINDOW = (0.0, 10_000.0)


def test_rates_are_exact_and_count_silent_neurons():
    ids = np.array([0, 0, 2, 0, 2])        # spikes at 1, 2, 3, 500, 999.9 ms
    rates = st.firing_rates_hz(ids, 4, (0.0, 1000.0))
    np.testing.assert_array_equal(rates, [3.0, 0.0, 2.0, 0.0])
    assert rates.mean() == pytest.approx(5 / 4)


def test_poisson_trains_have_cv_lv_fano_near_one(rng):
    times, ids = poisson_trains(200, 20.0, *WINDOW, rng)
    cv = st.cv_isi(times, ids, 200)
    lv = st.local_variation(times, ids, 200)
    fano = st.fano_factors(times, ids, 200, WINDOW, 10.0)
    assert np.isfinite(cv).all() and np.isfinite(lv).all()
    assert np.mean(cv) == pytest.approx(1.0, abs=0.03)
    assert np.mean(lv) == pytest.approx(1.0, abs=0.03)
    assert np.mean(fano) == pytest.approx(1.0, abs=0.03)


def test_regular_trains_have_cv_and_lv_zero(rng):
    times, ids = regular_trains(50, 25.0, *WINDOW, rng)
    np.testing.assert_allclose(st.cv_isi(times, ids, 50), 0.0, atol=1e-9)
    np.testing.assert_allclose(st.local_variation(times, ids, 50), 0.0, atol=1e-9)


def test_regular_train_with_period_equal_to_bin_has_fano_zero():
    times = 3.0 + 10.0 * np.arange(100)        # one spike in every 10 ms bin of (0, 1000]
    fano = st.fano_factors(times, np.zeros(100, np.int64), 1, (0.0, 1000.0), 10.0)
    assert fano[0] == pytest.approx(0.0, abs=1e-12)


def test_cv_and_lv_need_three_spikes_and_match_a_direct_loop(rng):
    times, ids = poisson_trains(30, 3.0, 0.0, 1000.0, rng)
    cv, lv = st.cv_isi(times, ids, 30), st.local_variation(times, ids, 30)
    for neuron in range(30):
        t = np.sort(times[ids == neuron])
        if t.size < 3:
            assert np.isnan(cv[neuron]) and np.isnan(lv[neuron])
            continue
        isi = np.diff(t)
        assert cv[neuron] == pytest.approx(isi.std() / isi.mean())
        expected_lv = 3 * np.mean(((isi[:-1] - isi[1:]) / (isi[:-1] + isi[1:])) ** 2)
        assert lv[neuron] == pytest.approx(expected_lv)


def test_fano_matches_dense_counts(rng):
    times, ids = poisson_trains(40, 15.0, 0.0, 2000.0, rng)
    dense = st.binned_counts(times, ids, np.arange(40), (0.0, 2000.0), 10.0)
    expected = dense.var(axis=1, ddof=1) / dense.mean(axis=1)
    np.testing.assert_allclose(st.fano_factors(times, ids, 40, (0.0, 2000.0), 10.0), expected)


def test_bins_are_closed_on_the_right():
    index, num_bins = st.bin_index(np.array([0.0, 10.0, 10.1, 100.0]), (0.0, 100.0), 10.0)
    assert num_bins == 10
    np.testing.assert_array_equal(index, [-1, 0, 1, 9])


def test_correlation_near_zero_for_independent_and_one_for_identical(rng):
    times, ids = poisson_trains(300, 10.0, *WINDOW, rng)
    independent = st.pairwise_correlations(times, ids, 300, WINDOW, 10.0, 100, 200,
                                           np.random.default_rng(1))
    assert independent.size == 200
    assert abs(independent.mean()) < 0.01
    one_t, _ = poisson_trains(1, 10.0, *WINDOW, rng)
    same_times = np.tile(one_t, 20)
    same_ids = np.repeat(np.arange(20), one_t.size)
    identical = st.pairwise_correlations(same_times, same_ids, 20, WINDOW, 10.0, 100, 200,
                                         np.random.default_rng(1))
    assert identical.size == 190                       # all pairs of 20 neurons
    np.testing.assert_allclose(identical, 1.0)


def test_correlation_sample_is_reproducible(rng):
    times, ids = poisson_trains(300, 10.0, 0.0, 2000.0, rng)
    a = st.pairwise_correlations(times, ids, 300, (0.0, 2000.0), rng=np.random.default_rng(5))
    b = st.pairwise_correlations(times, ids, 300, (0.0, 2000.0), rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)


def test_psd_peaks_at_the_modulation_frequency(rng):
    times, _ = modulated_trains(500, 10.0, 0.8, 40.0, 0.0, 4000.0, rng)
    freqs, psd, peak = st.rate_spectrum(times, 500, (0.0, 4000.0), bin_ms=1.0, segment_ms=256)
    assert peak == pytest.approx(40.0, abs=1000 / 256)
    assert freqs[-1] == pytest.approx(500.0)


def test_welch_matches_scipy(rng):
    signal = pytest.importorskip("scipy.signal", reason="scipy not installed")
    x = rng.normal(size=3000) + np.sin(np.arange(3000) * 0.3)
    f_ref, p_ref = signal.welch(x, fs=1000.0, nperseg=256)
    f, p = st.welch_psd(x, 1000.0, 256)
    np.testing.assert_allclose(f, f_ref)
    np.testing.assert_allclose(p, p_ref, rtol=1e-10)


def test_population_rate_integrates_to_the_spike_count(rng):
    times, _ = poisson_trains(100, 5.0, 0.0, 1000.0, rng)
    centres, rate = st.population_rate_hz(times, 100, (0.0, 1000.0), 5.0)
    assert centres[0] == 2.5 and centres.size == 200
    assert rate.sum() * 100 * 5e-3 == pytest.approx(times.size)


def test_search_on_dataset_matches_numpy(tmp_path, rng):
    values = np.sort(np.round(rng.uniform(0, 100, 1000), 1))      # many duplicates
    with h5py.File(tmp_path / "sorted.h5", "w") as f:
        dataset = f.create_dataset("t", data=values, chunks=(64,))
        for query in list(rng.uniform(-5, 105, 200)) + list(values[::37]) + [-1.0, 200.0]:
            for side in ("left", "right"):
                assert search_sorted_dataset(dataset, query, side, block=7) == \
                    np.searchsorted(values, query, side), (query, side)


def test_cortical_populations_are_ordered_by_layer():
    assert display_order(["L4E", "L23I", "L6I", "L23E", "L5E", "L4I", "L6E", "L5I"]) == \
        ["L23E", "L23I", "L4E", "L4I", "L5E", "L5I", "L6E", "L6I"]
    assert display_order(["I", "E"]) == ["I", "E"]
