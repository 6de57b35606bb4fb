"""Rings of more than two channels (receptor-addressed models, docs/model-format.md
"Receptor ports"): addressed delivery, spike_generator channels, per-receptor Poisson input
and the gathering of every channel, driven directly at the kernels."""
import numpy as np
import pytest

from brainsim.network.inputs import DCTable, PoissonTable, input_plan
from cython_kernels import delivery, iaf_psc_exp, poisson
from cython_kernels.external import ExternalEvents
from cython_kernels.inputs import gather_channels_probe

RING_LEN, N_LOCAL, N_SOURCES = 7, 5, 6


def random_csr(rng, n_syn):
    """A CSR by source gid with random targets, weights of both signs, delays < RING_LEN - 2."""
    sources = np.sort(rng.integers(0, N_SOURCES, n_syn))
    row_ptr = np.zeros(N_SOURCES + 1, dtype=np.int64)
    np.add.at(row_ptr, sources + 1, 1)
    row_ptr = np.cumsum(row_ptr)
    targets = rng.integers(0, N_LOCAL, n_syn).astype(np.uint32)
    weights = rng.normal(0.0, 3.0, n_syn)
    delays = rng.integers(1, RING_LEN - 2, n_syn).astype(np.uint16)
    return row_ptr, targets, weights, delays


def spike_keys(rng, n):
    keys = np.array(sorted((int(lag) << 32) | int(gid) for lag, gid in
                           zip(rng.integers(0, 2, n), rng.integers(0, N_SOURCES, n))),
                    dtype=np.uint64)
    return keys


def reference(keys, first, row_ptr, targets, channels, weights, delays, n_channels):
    """The definition, in Python: each weight into its channel, in key then row order."""
    ring = np.zeros((RING_LEN, N_LOCAL, n_channels))
    for key in keys:
        gid, lag = int(key) & 0xffffffff, int(key) >> 32
        for syn in range(row_ptr[gid], row_ptr[gid + 1]):
            slot = (first + lag + int(delays[syn])) % RING_LEN
            ring[slot, targets[syn], channels[syn]] += weights[syn]
    return ring


@pytest.mark.parametrize("n_channels", [2, 3, 5])
def test_addressed_delivery_adds_each_weight_into_its_named_channel(n_channels):
    rng = np.random.default_rng(n_channels)
    row_ptr, targets, weights, delays = random_csr(rng, 200)
    channels = rng.integers(0, n_channels, targets.shape[0]).astype(np.uint32)
    keys = spike_keys(rng, 40)
    ring = np.zeros((RING_LEN, N_LOCAL, n_channels))
    delivery.deliver_addressed(keys, keys.shape[0], 11, row_ptr,
                               targets * np.uint32(n_channels) + channels, weights, delays,
                               ring)
    expected = reference(keys, 11, row_ptr, targets, channels, weights, delays, n_channels)
    assert np.array_equal(ring, expected)      # same order of additions: the same bits


def test_addressed_delivery_with_the_sign_as_channel_is_delivery_by_sign():
    rng = np.random.default_rng(7)
    row_ptr, targets, weights, delays = random_csr(rng, 500)
    keys = spike_keys(rng, 60)
    by_sign = np.zeros((RING_LEN, N_LOCAL, 2))
    delivery.deliver(keys, keys.shape[0], 3, row_ptr, targets, weights, delays, by_sign)
    for n_channels in (2, 4):
        addressed = np.zeros((RING_LEN, N_LOCAL, n_channels))
        coded = targets * np.uint32(n_channels) + (weights < 0).astype(np.uint32)
        delivery.deliver_addressed(keys, keys.shape[0], 3, row_ptr, coded, weights, delays,
                                   addressed)
        assert np.array_equal(addressed[:, :, :2], by_sign)
        assert not addressed[:, :, 2:].any()


def test_delivery_by_sign_keeps_its_two_channel_ring_and_addressed_needs_two_or_more():
    row_ptr = np.zeros(2, dtype=np.int64)
    empty = (np.zeros(0, np.uint32), np.zeros(0), np.zeros(0, np.uint16))
    keys = np.zeros(1, dtype=np.uint64)
    with pytest.raises(ValueError, match="shape"):
        delivery.deliver(keys, 1, 0, row_ptr, *empty, np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match="channels >= 2"):
        delivery.deliver_addressed(keys, 1, 0, row_ptr, *empty, np.zeros((3, 2, 1)))
    with pytest.raises(ValueError, match="no CSR row"):
        delivery.deliver_addressed(np.array([5], dtype=np.uint64), 1, 0, row_ptr, *empty,
                                   np.zeros((3, 2, 3)))


def test_spike_generator_rows_go_to_their_named_channel_or_by_sign():
    ring = np.zeros((RING_LEN, N_LOCAL, 3))
    events = ExternalEvents(
        broadcast_step=[2, 2, 3], broadcast_weight=[-1.5, 2.0, -4.0], broadcast_begin=[0, 0, 1],
        broadcast_end=[2, 2, 3], single_step=[2, 4], single_target=[4, 3],
        single_weight=[-0.5, 7.0], broadcast_channel=[2, -1, -1], single_channel=[0, 2])
    assert events.deliver_epoch(2, 3, ring) == 5
    expected = np.zeros_like(ring)
    expected[2, 0:2, 2] += -1.5        # named channel 2, whatever the sign
    expected[2, 0:2, 0] += 2.0         # by sign
    expected[3, 1:3, 1] += -4.0        # by sign
    expected[2, 4, 0] += -0.5          # named channel 0 with a negative weight
    expected[4, 3, 2] += 7.0
    assert np.array_equal(ring, expected)
    with pytest.raises(ValueError, match="named channel"):
        events.deliver_epoch(2, 3, np.zeros((RING_LEN, N_LOCAL, 2)))
    with pytest.raises(ValueError, match="one entry per row"):
        ExternalEvents([1], [1.0], [0], [1], [], [], [], broadcast_channel=[0, 1])


def test_spike_generator_without_channels_is_by_sign_on_any_ring_width():
    args = ([1, 1], [3.0, -2.0], [0, 0], [N_LOCAL, N_LOCAL], [1], [2], [-1.0])
    narrow, wide = np.zeros((RING_LEN, N_LOCAL, 2)), np.zeros((RING_LEN, N_LOCAL, 3))
    ExternalEvents(*args).deliver_epoch(0, 2, narrow)
    ExternalEvents(*args).deliver_epoch(0, 2, wide)
    assert np.array_equal(wide[:, :, :2], narrow) and not wide[:, :, 2].any()


def poisson_table(weights, channels):
    """One segment, one Poisson entry per weight, rate 9000 Hz at dt 0.1 ms."""
    lam = 0.9
    table = poisson.cdf_table(lam)
    n = len(weights)
    return PoissonTable(
        seg=np.zeros(n, np.int64), item=np.arange(n, dtype=np.int64),
        weight=np.array(weights, dtype=np.float64), delay_steps=np.ones(n, np.int64),
        first_step=np.zeros(n, np.int64), stop_step=np.full(n, 1 << 40, np.int64),
        cdf=np.tile(table, (n, 1)), table_len=np.full(n, len(table), np.int64),
        lam=np.full(n, lam),
        channel=None if channels is None else np.array(channels, dtype=np.int64))


NO_DC = DCTable(seg=np.zeros(0, np.int64), amplitude=np.zeros(0),
                first_step=np.zeros(0, np.int64), stop_step=np.zeros(0, np.int64))


def gathered(plan, ring, n_channels, first=20, steps=6):
    gids = np.arange(100, 100 + N_LOCAL, dtype=np.int64)
    return gather_channels_probe(plan, ring, gids, 0, 0, N_LOCAL, first, steps, 99,
                                 n_channels)


def test_gathering_copies_and_clears_every_channel():
    rng = np.random.default_rng(3)
    ring = rng.normal(size=(RING_LEN, N_LOCAL, 4))
    before = ring.copy()
    plan = input_plan(poisson_table([], []), NO_DC, 1, num_channels=4)
    out = gathered(plan, ring, 4, first=5, steps=4)
    slots = [(5 + j) % RING_LEN for j in range(4)]
    for c in range(4):
        assert np.array_equal(out[c], before[slots, :, c])
    assert not ring[slots].any()
    others = [s for s in range(RING_LEN) if s not in slots]
    assert np.array_equal(ring[others], before[others])


def test_poisson_input_goes_to_the_channel_it_names_whatever_the_sign():
    """The same draws (same input index) land in the named channel instead of the sign's."""
    by_sign = gathered(input_plan(poisson_table([2.5, -1.25], None), NO_DC, 1,
                                  num_channels=3), np.zeros((RING_LEN, N_LOCAL, 3)), 3)
    named = gathered(input_plan(poisson_table([2.5, -1.25], [2, 0]), NO_DC, 1,
                                num_channels=3), np.zeros((RING_LEN, N_LOCAL, 3)), 3)
    assert by_sign[0].any() and by_sign[1].any() and not by_sign[2].any()
    assert np.array_equal(named[2], by_sign[0])
    assert np.array_equal(named[0], by_sign[1])
    assert not named[1].any()


def test_a_plan_refuses_a_channel_beyond_its_ring_and_too_few_channels():
    with pytest.raises(ValueError, match="channel 3 outside"):
        input_plan(poisson_table([1.0], [3]), NO_DC, 1, num_channels=3)
    with pytest.raises(ValueError, match="num_channels"):
        input_plan(poisson_table([1.0], None), NO_DC, 1, num_channels=1)


def test_a_builtin_kernel_reads_its_two_channels_of_a_wider_ring_bit_for_bit():
    """In a network with a receptor-addressed model every kernel gets the wide ring."""
    from brainsim.catalogue.neurons.iaf_psc_exp import IAF_PSC_EXP
    from brainsim.network.neurons import kernel_model
    bound = kernel_model(IAF_PSC_EXP)
    params = bound.segment_params(dict(IAF_PSC_EXP.defaults), 0.1)
    rng = np.random.default_rng(5)
    inputs = rng.normal(200.0, 300.0, size=(RING_LEN, N_LOCAL, 2))
    results = []
    for n_channels in (2, 3):
        ring = np.zeros((RING_LEN, N_LOCAL, n_channels))
        ring[:, :, :2] = inputs
        state = {name: np.zeros(N_LOCAL, dtype=np.int32 if name == "refractory"
                                else np.float64) for name in bound.update_state}
        plan = input_plan(poisson_table([30.0, -20.0], None), NO_DC, 1)
        keys = np.zeros(N_LOCAL * RING_LEN, dtype=np.uint64)
        n = iaf_psc_exp.update(np.array([0]), np.array([N_LOCAL]),
                               np.array([params]), *[state[k] for k in bound.update_state],
                               ring, np.arange(N_LOCAL, dtype=np.int64), plan, 0, RING_LEN,
                               1, keys, None)
        results.append((keys[:n].tolist(), [state[k].tolist() for k in bound.update_state],
                        ring[:, :, :2].copy()))
    assert results[0][0] == results[1][0] and results[0][1] == results[1][1]
    assert np.array_equal(results[0][2], results[1][2])
