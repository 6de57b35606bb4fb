"""Two-pass construction of incoming synapses (count, then fill a CSR by source gid)."""
import math

import numpy as np
import pytest

from cython_kernels.connect import connect_projection
import kernel_twins as tw

N_TOTAL = 300                 # neurons in the network: two populations
POP_A = (0, 120)              # (offset, size)
POP_B = (120, 180)
DT = 0.1
W_NORMAL = (87.8, 8.8, -np.inf, np.inf)
W_CONST = (-351.2, 0.0, 0.0, 0.0)
D_NORMAL = (1.5, 0.75, 0.1, np.inf)
D_CONST = (0.8, 0.0, 0.0, 0.0)


def build(rule, targets, counts=None, probability=0.0, autapses=True, multapses=True,
          source=POP_A, weight=(1, W_NORMAL), delay=(1, D_NORMAL), seed=12345, proj=3,
          target_offset=None):
    """Run count then fill; return (row_ptr, targets, weights, delays, result tuples)."""
    targets = np.asarray(targets, dtype=np.int64)
    local = np.arange(len(targets), dtype=np.uint32)
    counts = None if counts is None else np.asarray(counts, dtype=np.int64)
    kw = dict(target_offset=target_offset) if target_offset is not None else {}
    source_counts = np.zeros(N_TOTAL, dtype=np.int64)
    res0 = connect_projection(0, rule, seed, proj, source[0], source[1], targets, local,
                              counts, probability, autapses, multapses, weight[0], weight[1],
                              delay[0], delay[1], DT, source_counts, None, None, None, None, **kw)
    row_ptr = np.zeros(N_TOTAL + 1, dtype=np.int64)
    np.cumsum(source_counts, out=row_ptr[1:])
    n = int(row_ptr[-1])
    fill_ptr = row_ptr[:-1].copy()
    out_t = np.zeros(n, np.uint32)
    out_w = np.zeros(n, np.float64)
    out_d = np.zeros(n, np.uint16)
    res1 = connect_projection(1, rule, seed, proj, source[0], source[1], targets, local,
                              counts, probability, autapses, multapses, weight[0], weight[1],
                              delay[0], delay[1], DT, None, fill_ptr, out_t, out_w, out_d, **kw)
    assert res0[0] == res1[0] == n
    assert res0[1:] == (0, 0)
    np.testing.assert_array_equal(fill_ptr, row_ptr[1:])   # count and fill agree
    return row_ptr, out_t, out_w, out_d, res1


def per_target(targets, row_ptr, out_t, out_w, out_d):
    """{target gid: sorted [(source, weight, delay)]} from a CSR."""
    targets = np.asarray(targets)
    syn = {int(g): [] for g in targets}
    for src in range(N_TOTAL):
        for p in range(row_ptr[src], row_ptr[src + 1]):
            syn[int(targets[out_t[p]])].append((src, float(out_w[p]), int(out_d[p])))
    return {g: sorted(v) for g, v in syn.items()}


def csr_in_twin_order(targets, twin):
    """The CSR a kernel must fill: rows by source, entries in (target order, k) order."""
    rows = {s: [] for s in range(N_TOTAL)}
    for t, g in enumerate(targets):
        for src, w, d in twin[int(g)]:
            rows[src].append((t, w, d))
    return [e for s in range(N_TOTAL) for e in rows[s]]


CASES = [
    dict(rule=0, counts=12, autapses=True, multapses=True),
    dict(rule=0, counts=12, autapses=False, multapses=True),
    dict(rule=0, counts=40, autapses=False, multapses=False),
    dict(rule=0, counts=119, autapses=False, multapses=False),   # every other source
    dict(rule=1, probability=0.1, autapses=False),
    dict(rule=1, probability=1.0, autapses=False),
    dict(rule=3, autapses=False),
    dict(rule=3, autapses=True),
]


@pytest.mark.parametrize("case", CASES)
def test_matches_twin_exactly(case):
    targets = np.arange(100, 140, dtype=np.int64)    # straddles the end of POP_A: self-range
    case = dict(case)
    n_per = case.pop("counts", None)
    counts = None if n_per is None else np.full(len(targets), n_per)
    row_ptr, out_t, out_w, out_d, res = build(targets=targets, counts=counts, **case)
    twin = tw.connect_twin(case["rule"], 12345, 3, POP_A[0], POP_A[1], targets, counts,
                           case.get("probability", 0.0), case.get("autapses", True),
                           case.get("multapses", True), 1, W_NORMAL, 1, D_NORMAL, DT)
    want = csr_in_twin_order(targets, twin)
    got = [(int(out_t[p]), float(out_w[p]), int(out_d[p])) for p in range(len(out_t))]
    assert got == want
    if got:
        assert res[1] == min(d for _, _, d in got) and res[2] == max(d for _, _, d in got)


@pytest.mark.parametrize("case", CASES)
def test_same_synapses_on_any_number_of_ranks(case):
    targets = np.arange(POP_A[0], POP_A[0] + 60, dtype=np.int64)
    case = dict(case)
    n_per = case.pop("counts", None)
    whole = per_target(targets, *build(targets=targets, counts=None if n_per is None else
                                       np.full(len(targets), n_per), **case)[:4])
    for n_ranks in (2, 3):
        for rank in range(n_ranks):
            mine = targets[rank::n_ranks]
            part = per_target(mine, *build(targets=mine, counts=None if n_per is None else
                                           np.full(len(mine), n_per), **case)[:4])
            for g in mine:
                assert part[int(g)] == whole[int(g)]


def test_fixed_indegree_without_multapses_or_autapses():
    targets = np.arange(0, 120, dtype=np.int64)       # same population as the sources
    syn = per_target(targets, *build(0, targets, counts=np.full(120, 100), autapses=False,
                                     multapses=False)[:4])
    for g, lst in syn.items():
        sources = [s for s, _, _ in lst]
        assert len(sources) == 100 and len(set(sources)) == 100
        assert g not in sources
        assert all(POP_A[0] <= s < POP_A[0] + POP_A[1] for s in sources)


def test_no_autapses_when_forbidden_with_multapses_and_bernoulli():
    targets = np.arange(0, 120, dtype=np.int64)
    for kw in (dict(rule=0, counts=np.full(120, 300), multapses=True),
               dict(rule=1, probability=0.5), dict(rule=3)):
        syn = per_target(targets, *build(targets=targets, autapses=False, **kw)[:4])
        assert all(g not in [s for s, _, _ in lst] for g, lst in syn.items())


def test_one_to_one_and_all_to_all_exact():
    targets = np.arange(POP_B[0], POP_B[0] + 120, dtype=np.int64)
    syn = per_target(targets, *build(2, targets, target_offset=POP_B[0], weight=(0, W_CONST),
                                     delay=(0, D_CONST))[:4])
    assert all(lst == [(g - POP_B[0], -351.2, 8)] for g, lst in syn.items())
    # within one population without autapses: nothing
    same = np.arange(0, 120, dtype=np.int64)
    assert build(2, same, target_offset=0, autapses=False)[4][0] == 0
    syn = per_target(targets[:10], *build(3, targets[:10], weight=(0, W_CONST),
                                          delay=(0, D_CONST))[:4])
    assert all([s for s, _, _ in lst] == list(range(120)) for lst in syn.values())


def test_bernoulli_mean_indegree():
    p = 0.1
    targets = np.arange(POP_B[0], POP_B[0] + 180, dtype=np.int64)
    n = build(1, targets, probability=p, source=(0, 300))[4][0]
    trials = 180 * 300
    assert abs(n - p * trials) < 4 * math.sqrt(trials * p * (1 - p))
    assert build(1, targets, probability=0.0)[4][0] == 0


def test_delay_rounding_nest_style():
    targets = np.arange(120, 125, dtype=np.int64)
    # NEST: ld_round(delay_ms * STEPS_PER_MS); 0.15 / 0.1 + 0.5 would floor to 1
    for delay_ms, steps in [(0.1, 1), (0.15, 2), (0.149999, 1), (0.05, 1), (1.0, 10),
                            (1.25, 13), (6553.5, 65535)]:
        res = build(3, targets, delay=(0, (delay_ms, 0, 0, 0)))
        assert res[4][1] == res[4][2] == steps
        assert np.all(res[3] == steps)


@pytest.mark.parametrize("delay_ms", [0.04, 0.0, 6553.6, -1.0])
def test_delay_out_of_range_raises(delay_ms):
    with pytest.raises(ValueError, match="delay"):
        build(3, np.arange(120, 122), delay=(0, (delay_ms, 0, 0, 0)))


def test_error_cases_raise_valueerror():
    targets = np.arange(0, 10, dtype=np.int64)
    with pytest.raises(ValueError, match="too few sources"):
        build(0, targets, counts=np.full(10, 120), autapses=False, multapses=False)
    with pytest.raises(ValueError, match="weight distribution"):
        build(0, targets, counts=np.full(10, 2), weight=(1, (0.0, 1.0, 50.0, 51.0)))
    with pytest.raises(ValueError, match="target_offset"):
        build(2, targets)
    with pytest.raises(ValueError, match="probability"):
        build(1, targets, probability=1.5)
    with pytest.raises(ValueError, match=">= 0"):
        build(0, targets, counts=np.full(10, -1))
    with pytest.raises(ValueError, match="one count per target"):
        build(0, targets, counts=np.full(9, 1))


def test_fixed_total_counts_is_an_equal_multinomial():
    from cython_kernels.connect import fixed_total_counts
    counts = fixed_total_counts(55, 3, 2_000_000, 1000)
    assert counts.dtype == np.int64 and counts.sum() == 2_000_000
    # multinomial with p = 1/1000: mean 2000, variance 2000 (1 - 1/1000)
    assert abs(counts.var() / (2000 * 0.999) - 1.0) < 0.15
    chi2 = float(np.sum((counts - 2000.0) ** 2 / 2000.0))
    assert 850 < chi2 < 1150                               # 999 degrees of freedom
    assert np.array_equal(counts, fixed_total_counts(55, 3, 2_000_000, 1000))
    assert not np.array_equal(counts, fixed_total_counts(55, 4, 2_000_000, 1000))
    assert not np.array_equal(counts, fixed_total_counts(56, 3, 2_000_000, 1000))
    assert fixed_total_counts(1, 0, 0, 5).tolist() == [0] * 5
    assert fixed_total_counts(1, 0, 7, 1).tolist() == [7]
    with pytest.raises(ValueError):
        fixed_total_counts(1, 0, 10, 0)
