"""The batched x ** y of the power-law STDP delivery (cython_kernels/powers.pxd): accuracy
against libm, identical bits on every instruction set, libm's special values."""
import numpy as np
import pytest

from cython_kernels.stdp import power_batch

LEVELS = (0, 1, 2)       # baseline, at most AVX2, best available


def log_uniform(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


@pytest.mark.parametrize("lo, hi, y, max_ulp", [
    (1e-3, 1e4, 0.4, 4),        # synaptic weights in pA, hpc_benchmark's mu
    (0.5, 2.0, 0.4, 2),
    (1.0, 1e3, -0.9, 8),
    (1e-5, 1e5, 1.7, 24),
])
def test_accuracy_against_libm(lo, hi, y, max_ulp):
    x = log_uniform(np.random.default_rng(3), lo, hi, 200_000)
    exact = x ** y
    ulps = np.abs(power_batch(x, y) - exact) / np.spacing(exact)
    assert ulps.max() <= max_ulp


def test_relative_error_over_the_whole_normal_range():
    x = log_uniform(np.random.default_rng(5), 1e-300, 1e300, 200_000)
    exact = x ** 0.4
    assert np.max(np.abs(power_batch(x, 0.4) - exact) / exact) < 5e-14


def test_every_instruction_set_gives_the_same_bits():
    rng = np.random.default_rng(9)
    x = np.concatenate([log_uniform(rng, 1e-300, 1e300, 50_001), [0.0, 1.0, np.inf]])
    results = [power_batch(x, 0.4, level) for level in LEVELS]
    for other in results[1:]:
        assert np.array_equal(results[0].view(np.uint64), other.view(np.uint64))


def test_special_values_follow_libm():
    x = np.array([0.0, 5e-324, 2.2e-308, np.inf, np.nan, 1.0, 1e-320])
    with np.errstate(invalid="ignore"):
        expected = x ** 0.4
    np.testing.assert_array_equal(power_batch(x, 0.4), expected)


def test_exponent_one_is_exact_and_zero_gives_one():
    x = log_uniform(np.random.default_rng(1), 1e-3, 1e4, 1000)
    assert np.array_equal(power_batch(x, 1.0), x)
    assert np.array_equal(power_batch(x, 0.0), np.ones_like(x))


def test_far_exponents_fall_back_to_libm():
    x = np.array([1e200, 1e-200])          # |y ln x| > 700: overflow / underflow as libm
    with np.errstate(over="ignore", under="ignore"):
        np.testing.assert_array_equal(power_batch(x, 4.0), x ** 4.0)
