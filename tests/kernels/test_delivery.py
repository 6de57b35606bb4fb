"""Spike delivery into ring buffers agrees with its twin and with NEST's channel rule."""
import numpy as np
import pytest

from cython_kernels.delivery import deliver
import kernel_twins as tw


def random_csr(rng, n_sources, n_local, max_row):
    lengths = rng.integers(0, max_row, n_sources)
    row_ptr = np.zeros(n_sources + 1, np.int64)
    np.cumsum(lengths, out=row_ptr[1:])
    n = int(row_ptr[-1])
    targets = rng.integers(0, n_local, n).astype(np.uint32)
    weights = rng.normal(0.0, 50.0, n)
    weights[::7] = 0.0                                       # 0 is excitatory (channel 0)
    delays = rng.integers(1, 16, n).astype(np.uint16)
    return row_ptr, targets, weights, delays


def test_deliver_matches_twin():
    rng = np.random.default_rng(4)
    row_ptr, targets, weights, delays = random_csr(rng, 50, 9, 12)
    ring_len = 21
    lags = rng.integers(0, 5, 80).astype(np.uint64)
    gids = rng.integers(0, 50, 80).astype(np.uint64)
    keys = np.sort((lags << np.uint64(32)) | gids)
    capacity = np.zeros(100, np.uint64)
    capacity[:80] = keys
    ring = rng.normal(size=(ring_len, 9, 2))
    ring_t = ring.copy()
    deliver(capacity, 80, 1234, row_ptr, targets, weights, delays, ring)
    tw.deliver_twin(keys, 1234, row_ptr, targets, weights, delays, ring_t)
    np.testing.assert_array_equal(ring, ring_t)


def test_slot_and_channel():
    row_ptr = np.array([0, 2], np.int64)
    targets = np.array([1, 0], np.uint32)
    weights = np.array([-2.5, 3.0])
    delays = np.array([4, 1], np.uint16)
    ring = np.zeros((6, 2, 2))
    keys = np.array([(np.uint64(2) << np.uint64(32)) | np.uint64(0)], np.uint64)
    deliver(keys, 1, 10, row_ptr, targets, weights, delays, ring)
    assert ring[(10 + 2 + 4) % 6, 1, 1] == -2.5
    assert ring[(10 + 2 + 1) % 6, 0, 0] == 3.0
    assert np.count_nonzero(ring) == 2


def test_unknown_source_raises():
    with pytest.raises(ValueError, match="CSR"):
        deliver(np.array([5], np.uint64), 1, 0, np.array([0, 0], np.int64),
                np.zeros(0, np.uint32), np.zeros(0), np.zeros(0, np.uint16), np.zeros((3, 1, 2)))
