"""Names of a neuron kernel's per-segment constants, tied to the enum the kernel reads.

Every neuron kernel exports ``SEGMENT_COLUMNS`` (the seg_params columns by name, in column
order) and ``STATE_ARGUMENTS`` (the state arrays its ``update`` takes after ``seg_params``,
in argument order). The network packs each segment's constants by name from the model's
declaration (brainsim.catalogue.neurons) and passes the state arrays by name, and checks
both against the kernel when it binds them (brainsim.network.neurons.bind_kernel), so a
renamed, missing or reordered column or argument fails at import, never silently.
"""
from __future__ import annotations


def columns_in_order(count: int, **index_of: int) -> tuple[str, ...]:
    """The column names sorted by their seg_params index (the kernel's enum values).

    count: the enum's NUM_PARAMS; every index 0 .. count - 1 must be named exactly once,
    so that a column added to the enum but not named here (or named twice) fails when the
    kernel module is imported.
    """
    names = tuple(sorted(index_of, key=index_of.__getitem__))
    if [index_of[name] for name in names] != list(range(count)):
        raise ValueError(f"seg_params columns {dict(index_of)} do not name each index "
                         f"0..{count - 1} exactly once")
    return names
