"""Positions of spatial populations (mm), computed identically on every rank.

grid (NEST's spatial.grid): shape [nx, ny(, nz)], neuron n at grid index in column-major
order, x slowest: 2D (i, j) = (n // ny, n % ny), 3D (i, j, l) = (n // (ny nz), (n // nz) % ny,
n % nz); spacing extent / shape; x grows with i from the left edge, y *falls* with j from
the top edge (NEST numbers grid nodes column-wise, top to bottom), z grows with l:
    x = cx - ex/2 + (i + 0.5) ex/nx,  y = cy + ey/2 - (j + 0.5) ey/ny,  z = cz - ez/2 + (l + 0.5) ez/nz.
random (NEST's spatial.free with uniform positions): coordinate a of neuron gid is
c_a - e_a/2 + e_a * U, U = uniform01(seed, POSITION = 8, item = a, c2 = gid, c0 = 0):
a pure function of the gid, whatever the rank or the number of ranks.
"""
from __future__ import annotations

import numpy as np

from cython_kernels import rng
from brainsim.spec.model import Population, ResolvedModel

POSITION_STREAM = 8


def population_positions(pop: Population, seed: int) -> np.ndarray:
    """float64 [size, dims] positions (mm) of every neuron of `pop` (which has positions)."""
    pos = pop.positions
    extent = np.asarray(pos.extent, dtype=np.float64)
    center = np.asarray(pos.center, dtype=np.float64)
    dims = extent.shape[0]
    if pos.kind == "grid":
        shape = np.asarray(pos.shape, dtype=np.int64)
        n = np.arange(pop.size, dtype=np.int64)
        index = np.empty((pop.size, dims), dtype=np.int64)
        rest = n
        for a in range(dims - 1, -1, -1):
            index[:, a] = rest % shape[a]
            rest = rest // shape[a]
        spacing = extent / shape
        out = center - 0.5 * extent + (index + 0.5) * spacing
        out[:, 1] = center[1] + 0.5 * extent[1] - (index[:, 1] + 0.5) * spacing[1]
        return out
    gids = np.arange(pop.offset, pop.offset + pop.size, dtype=np.int64)
    out = np.empty((pop.size, dims), dtype=np.float64)
    for a in range(dims):
        out[:, a] = center[a] - 0.5 * extent[a] + extent[a] * rng.uniform_array(
            seed, POSITION_STREAM, a, gids, 0)
    return out


def all_positions(model: ResolvedModel) -> dict[str, np.ndarray]:
    """Population name -> positions [size, dims] (mm) for every spatial population."""
    seed = model.simulation.seed
    return {p.name: population_positions(p, seed) for p in model.populations
            if p.positions is not None}


def displacement(source: np.ndarray, target: np.ndarray, extent, edge_wrap: bool) -> np.ndarray:
    """source - target (mm), the nearest periodic image when edge_wrap (NumPy twin of the
    kernel's rule, for tests and analysis)."""
    d = np.asarray(source, dtype=np.float64) - np.asarray(target, dtype=np.float64)
    if edge_wrap:
        e = np.asarray(extent, dtype=np.float64)
        d = d - e * np.floor(d / e + 0.5)
    return d
