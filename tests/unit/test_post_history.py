"""PostHistory.export / load (the checkpoint form of the postsynaptic spike histories):
vectorised, oldest entry first per neuron, equal to a per-neuron loop, and a round trip
export -> load -> export returns the same arrays for wrapped (head != 0) and grown rings."""
from __future__ import annotations

import numpy as np

from brainsim.network.plasticity import PostHistory


def history(num: int, capacity: int, seed: int = 1) -> PostHistory:
    """Rings filled with distinct entries, random heads (most wrapped) and counts."""
    rng = np.random.default_rng(seed)
    h = PostHistory(np.arange(10, 10 + num, dtype=np.int64), np.ones(num, np.uint8),
                    np.full(num, 20.0), 0.1, capacity=capacity)
    h.step[:] = np.arange(num * capacity, dtype=np.int64).reshape(num, capacity) * 3 + 7
    h.k[:] = rng.random((num, capacity))
    h.head[:] = rng.integers(0, capacity, num)
    h.count[:] = rng.integers(0, capacity + 1, num)
    h.count[0], h.head[0] = capacity, capacity - 1       # full and wrapped
    h.count[1] = 0                                        # empty
    return h


def looped_export(h: PostHistory):
    """The per-neuron loop the vectorised export replaced (test oracle)."""
    cap = h.step.shape[1]
    idx = [(h.head[i] + np.arange(h.count[i])) % cap for i in range(h.count.shape[0])]
    steps = np.concatenate([h.step[i, c] for i, c in enumerate(idx)])
    ks = np.concatenate([h.k[i, c] for i, c in enumerate(idx)])
    return h.count.copy(), steps.astype(np.int64), ks.astype(np.float64)


def assert_same(a, b):
    for x, y in zip(a, b):
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes()


def test_export_equals_the_per_neuron_loop_on_wrapped_rings():
    h = history(50, 8)
    assert np.any((h.head + h.count) > 8), "some rings must wrap"
    assert_same(h.export(), looped_export(h))


def test_round_trip_with_wrapped_and_grown_rings():
    h = history(50, 8, seed=2)
    exported = h.export()
    h.grow()                                  # unrolled into 16 columns, heads back to 0
    assert h.step.shape[1] == 16 and not h.head.any()
    assert_same(h.export(), exported)
    # a fresh history with a smaller ring must grow while loading
    fresh = PostHistory(h.local_gids, h.archiving, h.tau_minus, h.dt, capacity=2)
    fresh.head[:] = 1
    fresh.load(np.arange(50), *exported)
    assert fresh.step.shape[1] >= 8 and not fresh.head.any()
    assert_same(fresh.export(), exported)


def test_load_into_a_subset_in_any_order():
    h = history(20, 4, seed=3)
    count, steps, ks = h.export()
    ends = np.cumsum(count)
    order = np.array([5, 0, 19, 7])
    pick = [np.arange(ends[i] - count[i], ends[i]) for i in order]
    target = PostHistory(h.local_gids, h.archiving, h.tau_minus, h.dt, capacity=4)
    target.count[:] = 3                       # stale entries must be dropped
    target.load(order, count[order], steps[np.concatenate(pick)], ks[np.concatenate(pick)])
    got = target.export()
    want_count = np.zeros(20, np.int64)
    want_count[order] = count[order]
    keep = np.sort(order)
    assert got[0].tolist() == want_count.tolist()
    sel = np.concatenate([np.arange(ends[i] - count[i], ends[i]) for i in keep])
    assert got[1].tolist() == steps[sel].tolist() and got[2].tolist() == ks[sel].tolist()


def test_empty_history():
    h = PostHistory(np.zeros(0, np.int64), np.zeros(0, np.uint8), np.zeros(0), 0.1)
    count, steps, ks = h.export()
    assert count.shape == steps.shape == ks.shape == (0,)
    assert steps.dtype == np.int64 and ks.dtype == np.float64
    h.load(np.zeros(0, np.int64), count, steps, ks)
