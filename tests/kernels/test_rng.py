"""Philox4x32-10 and the distributions drawn from it."""
import math

import numpy as np
import pytest

from cython_kernels import rng
import kernel_twins as tw

# Random123 kat_vectors, philox4x32_10
KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff,) * 4, (0xffffffff,) * 2, (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


@pytest.mark.parametrize("ctr,key,expected", KAT)
def test_philox_known_answers(ctr, key, expected):
    assert rng.philox4x32(ctr, key) == expected
    assert tw.philox4x32_py(*ctr, *key) == expected
    got = tw.philox4x32_np(*([x] for x in ctr), *([x] for x in key))
    assert tuple(int(w[0]) for w in got) == expected


def test_stream_kinds_are_plain_ints():
    kinds = (rng.SOURCE, rng.WEIGHT, rng.DELAY, rng.INIT, rng.POISSON, rng.BERNOULLI)
    assert kinds == (1, 2, 3, 4, 5, 6)
    assert all(type(k) is int for k in kinds)


def test_philox_matches_numpy_twin_on_random_counters():
    r = np.random.default_rng(1)
    words = r.integers(0, 2**32, size=(200, 6), dtype=np.uint64)
    twin = tw.philox4x32_np(*words.T)
    for n in range(200):
        got = rng.philox4x32(tuple(int(x) for x in words[n, :4]), tuple(int(x) for x in words[n, 4:]))
        assert got == tuple(int(w[n]) for w in twin)


def test_uniform_array_matches_twin_and_is_in_unit_interval():
    seed = 0x1234_5678_9abc_def0
    gids = np.arange(0, 50_000, 7, dtype=np.int64)
    u = rng.uniform_array(seed, rng.INIT, 3, gids, 11)
    np.testing.assert_array_equal(u, tw.uniform_array_np(seed, rng.INIT, 3, gids, 11))
    assert u.min() >= 0.0 and u.max() < 1.0
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / len(u))
    # a different kind, item or c0 gives a different stream
    assert not np.array_equal(u, rng.uniform_array(seed, rng.INIT, 4, gids, 11))
    assert not np.array_equal(u, rng.uniform_array(seed, rng.WEIGHT, 3, gids, 11))
    assert not np.array_equal(u, rng.uniform_array(seed, rng.INIT, 3, gids, 12))


@pytest.mark.parametrize("code,params", [
    (0, (-65.0, 0.0, 0.0, 0.0)),
    (1, (-58.0, 10.0, -80.0, -50.0)),
    (2, (-70.0, -55.0, -np.inf, np.inf)),
    (3, (0.5, 0.3, 1.0, 2.5)),
])
def test_draw_distribution_array_matches_twin(code, params):
    seed = 99
    gids = np.arange(100, 400, dtype=np.int64)
    got = rng.draw_distribution_array(seed, rng.INIT, 0, gids, code, params)
    want = [tw.draw_distribution(seed, rng.INIT, 0, int(g), 0, code, params) for g in gids]
    np.testing.assert_array_equal(got, np.array(want))
    if code:
        assert np.all((got >= params[2]) & (got <= params[3]))


def test_normal_mean_and_std():
    n = 200_000
    z = rng.draw_distribution_array(7, rng.INIT, 1, np.arange(n, dtype=np.int64), 1,
                                    (0.0, 1.0, -np.inf, np.inf))
    assert abs(z.mean()) < 4 / math.sqrt(n)
    assert abs(z.std() - 1.0) < 4 * math.sqrt(0.5 / n)
    # fourth moment of a normal is 3
    assert abs(np.mean(z ** 4) - 3.0) < 0.1


def test_redraw_failure_raises():
    with pytest.raises(ValueError, match="inside"):
        rng.draw_distribution_array(1, rng.INIT, 0, np.arange(3, dtype=np.int64), 1,
                                    (0.0, 1.0, 50.0, 51.0))


def test_bad_arguments_raise():
    with pytest.raises(ValueError):
        rng.draw_distribution_array(1, rng.INIT, 0, np.arange(3, dtype=np.int64), 7,
                                    (0.0, 1.0, 0.0, 1.0))
    with pytest.raises(ValueError):
        rng.uniform_array(1, rng.INIT, 1 << 24, np.arange(3, dtype=np.int64), 0)
    with pytest.raises(ValueError):
        rng.philox4x32((0, 0, 0), (0, 0))
