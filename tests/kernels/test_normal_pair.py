"""Normal weights and normal delays of a synapse are drawn as one polar-method pair with
joint redraw: each must still be its own (truncated) normal, and the two independent."""
from __future__ import annotations

import math

import numpy as np

from cython_kernels import connect


def build(weight_params, delay_params, n_targets=2000, indegree=100):
    n_sources = 500
    targets = np.arange(n_targets, dtype=np.int64) + n_sources
    common = dict(rule=0, seed=7, projection_index=3, source_offset=0, source_size=n_sources,
                  target_gids=targets, target_local=np.arange(n_targets, dtype=np.uint32),
                  counts=np.full(n_targets, indegree, dtype=np.int64), probability=0.0,
                  allow_autapses=True, allow_multapses=True, weight_code=1,
                  weight_params=np.array(weight_params, dtype=float), delay_code=1,
                  delay_params=np.array(delay_params, dtype=float), dt=0.1)
    total = n_neurons = n_sources + n_targets
    counts = np.zeros(n_neurons, dtype=np.int64)
    connect.connect_projection(0, **common, source_counts=counts, fill_ptr=None,
                               out_target=None, out_weight=None, out_delay=None)
    row_ptr = np.concatenate([[0], np.cumsum(counts)])
    total = int(row_ptr[-1])
    weights, delays = np.empty(total), np.empty(total, dtype=np.uint16)
    connect.connect_projection(1, **common, source_counts=None, fill_ptr=row_ptr[:-1].copy(),
                               out_target=np.empty(total, dtype=np.uint32), out_weight=weights,
                               out_delay=delays)
    return weights, delays


def test_paired_normals_have_their_moments_and_are_independent():
    weights, delays = build([87.8, 8.78, -math.inf, math.inf], [5.0, 1.0, -math.inf, math.inf])
    assert weights.size == 200_000
    assert abs(weights.mean() - 87.8) < 4 * 8.78 / math.sqrt(weights.size)
    assert abs(weights.std() / 8.78 - 1.0) < 0.01
    assert abs(np.corrcoef(weights, delays.astype(float))[0, 1]) < 0.01
    # Delays are normal(5 ms, 1 ms) rounded to 0.1 ms steps: mean 50 steps, sd 10 steps.
    assert abs(delays.mean() - 50.0) < 0.1 and abs(delays.std() - 10.0) < 0.2


def test_joint_redraw_truncates_each_to_its_bounds():
    weights, delays = build([0.0, 1.0, 0.0, math.inf], [1.5, 0.75, 0.05, math.inf])
    assert weights.min() >= 0.0 and delays.min() >= 1
    # Half-normal: mean sqrt(2/pi) for the weights, whatever the delay bound rejected.
    assert abs(weights.mean() - math.sqrt(2 / math.pi)) < 0.01
