"""Poisson counts by CDF-table inversion agree with sequential inversion."""
import numpy as np
import pytest

from cython_kernels import poisson, rng
import kernel_twins as tw


@pytest.mark.parametrize("lam", [0.0, 1e-4, 0.05, 1.6, 8.0, 30.0, 60.0, 150.0])
def test_table_inversion_equals_sequential(lam):
    cdf = poisson.cdf_table(lam)
    assert 1 <= len(cdf) <= 64
    assert np.all(np.diff(cdf) >= 0)
    r = np.random.default_rng(int(lam * 1000) + 1)
    u = np.concatenate([
        r.random(3000),
        cdf, np.nextafter(cdf, 0.0), np.nextafter(cdf, 2.0),  # on and around every entry
        [0.0, np.nextafter(1.0, 0.0), 1.0 - 1e-12, 1.0 - 1e-15],  # far tail
    ])
    u = u[(u >= 0.0) & (u < 1.0)]
    got = poisson.count_from_uniform(u, cdf, lam)
    want = np.array([tw.poisson_sequential(float(x), lam) for x in u])
    np.testing.assert_array_equal(got, want)


def test_table_stops_at_one_or_64():
    short = poisson.cdf_table(1.6)
    assert short[-1] == 1.0 and short[-2] < 1.0 and len(short) < 64
    assert len(poisson.cdf_table(60.0)) == 64


@pytest.mark.parametrize("lam", [0.3, 1.6, 25.0, 70.0])
def test_counts_mean_and_variance(lam):
    n = 100_000
    u = rng.uniform_array(5, rng.POISSON, 0, np.arange(n, dtype=np.int64), 17)
    k = poisson.count_from_uniform(u, poisson.cdf_table(lam), lam)
    assert abs(k.mean() - lam) < 4 * np.sqrt(lam / n)
    # var of the sample variance ~ (mu4 - sigma^4)/n with mu4 = lam + 3 lam^2
    assert abs(k.var() - lam) < 4 * np.sqrt((lam + 2 * lam * lam) / n)


def test_bad_lambda_raises():
    for lam in (-1.0, np.inf, np.nan, 800.0):
        with pytest.raises(ValueError):
            poisson.cdf_table(lam)


@pytest.mark.parametrize("lam", [0.16, 8.0])
def test_table_cut_where_the_sum_stalls_below_one(lam):
    cdf = poisson.cdf_table(lam)
    assert len(cdf) < 64 and cdf[-1] > 1.0 - 1e-15
    assert np.all(np.diff(cdf)[-1:] > 0)     # no repeated last entry


def test_batched_draw_variants_agree_with_scalar_definition():
    """The AVX-512 / AVX2 / baseline builds of the batched draw give the same uniforms as
    rng.uniform01 and the same table counts (those this CPU can run)."""
    from cython_kernels.inputs import poisson_batch_variants
    lam = 1.6
    cdf = poisson.cdf_table(lam)
    gids = np.arange(3, 3 + 64 * 5, 5, dtype=np.uint32)
    for step in (0, 17, (1 << 32) + 9):
        variants = poisson_batch_variants(77, 2, step, gids, cdf)
        assert "baseline" in variants
        want_u = np.array([tw.uniform01(77, tw.POISSON, 2, int(g), step & 0xFFFFFFFF, step >> 32)
                           for g in gids])
        want_c = np.array([min(tw.poisson_sequential(x, lam), len(cdf)) for x in want_u])
        for name, (u, c) in variants.items():
            np.testing.assert_array_equal(u, want_u, err_msg=name)
            np.testing.assert_array_equal(c, want_c, err_msg=name)


def test_vector_variants_equal_baseline_for_every_batch_length():
    """The hand-vectorised AVX-512 (16 lanes) and AVX2 (8 lanes) Philox and their scalar
    remainders equal the baseline bit for bit, for batches of 1..64 lanes."""
    from cython_kernels.inputs import poisson_batch_variants
    rng = np.random.default_rng(1)
    compared = 0
    for n in range(1, 65):
        gids = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
        cdf = np.sort(rng.uniform(0.0, 1.0, int(rng.integers(1, 12))))
        variants = poisson_batch_variants(int(rng.integers(0, 2**63)), int(rng.integers(0, 1000)),
                                          int(rng.integers(0, 2**40)), gids, cdf)
        base_u, base_c = variants["baseline"]
        for name, (u, c) in variants.items():
            assert np.array_equal(u.view(np.uint64), base_u.view(np.uint64)), (name, n)
            assert np.array_equal(c, base_c), (name, n)
            compared += 1
    assert compared >= 64
