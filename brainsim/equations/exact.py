"""Exact propagators of a linear time-invariant system dx/dt = A x + b (b constant over
a step) from the matrix exponential: x(t+h) = exp(A h) x(t) + Q b with
Q = integral_0^h exp(A s) ds. Each column is computed on the variables it can reach
(exp of a small block: sympy's exp of the full 5x5 iaf_psc_alpha matrix takes ~13 s,
its blocks well under a second together)."""
from __future__ import annotations

from .symbolic import sympy


def reachable(matrix, source: int) -> list:
    """Indices x_source can affect (itself first, then in index order): i is reached
    from j when A[i, j] != 0, transitively."""
    seen, todo = {source}, [source]
    while todo:
        j = todo.pop()
        for i in range(matrix.rows):
            if i not in seen and matrix[i, j] != 0:
                seen.add(i)
                todo.append(i)
    return sorted(seen)


def _block_exponential(matrix, indices, h, cache):
    key = tuple(indices)
    if key not in cache:
        block = matrix.extract(indices, indices)
        cache[key] = _exponential(block * h)
    return cache[key]


def _exponential(block):
    sp = sympy()
    if block.is_diagonal():
        return sp.diag(*[sp.exp(block[i, i]) for i in range(block.rows)])
    return sp.simplify(block.exp())


def propagator_matrix(matrix, h, skip=()) -> dict:
    """{(i, j): exp(A h)[i, j]} for the nonzero entries, columns j not in `skip`."""
    cache, out = {}, {}
    for j in range(matrix.cols):
        if j in skip:
            continue
        indices = reachable(matrix, j)
        exponential = _block_exponential(matrix, indices, h, cache)
        column = indices.index(j)
        for row, i in enumerate(indices):
            value = exponential[row, column]
            if value != 0:
                out[(i, j)] = value
    return out


def drive_matrix(matrix, drive, h, skip=()) -> dict:
    """{(i, k): Q[i, k]} for the rows k with b_k != 0 (not in `skip`): Q b = sum over k of
    Q[:, k] b_k, from the exponential of the block [[A, e_k], [0, 0]] h."""
    sp = sympy()
    out = {}
    for k in range(matrix.rows):
        if drive[k] == 0 or k in skip:
            continue
        indices = reachable(matrix, k)
        block = matrix.extract(indices, indices)
        unit = sp.zeros(len(indices), 1)
        unit[indices.index(k), 0] = 1
        augmented = sp.zeros(len(indices) + 1, len(indices) + 1)
        augmented[:len(indices), :len(indices)] = block
        augmented[:len(indices), len(indices)] = unit
        exponential = _exponential(augmented * h)
        for row, i in enumerate(indices):
            value = sp.simplify(exponential[row, len(indices)])
            if value != 0:
                out[(i, k)] = value
    return out


def equal_rate_pairs(matrix) -> tuple:
    """Pairs of diagonal entries (as (a, b) sympy expressions) of variables connected in
    the system whose values may coincide: there the general formula divides by zero."""
    pairs = []
    for j in range(matrix.cols):
        for i in reachable(matrix, j):
            a, b = matrix[i, i], matrix[j, j]
            if i != j and a != b and (b, a) not in pairs and (a, b) not in pairs:
                pairs.append((a, b))
    return tuple(pairs)
