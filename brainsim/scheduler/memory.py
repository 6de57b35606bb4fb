"""Will the ranks placed on one node fit its memory? A warning, never a refusal: the
estimate (brainsim.network.estimate) is an estimate."""
from __future__ import annotations

GB_IN_MIB = 1e9 / (1 << 20)


def memory_warning(model, nodes: int, ranks_per_node: int,
                   memory_per_node_gb: float | None, mem_mib: float | None = None,
                   num_ranks: int | None = None) -> str | None:
    """One line when ranks_per_node x the estimated peak memory per rank exceeds the node's
    memory (memory_per_node_gb, GB) or the memory asked for (mem_mib, MiB); else None.
    The estimate is for num_ranks ranks in all (default nodes x ranks_per_node)."""
    from brainsim.network.estimate import estimate_memory
    per_rank = estimate_memory(model, num_ranks or nodes * ranks_per_node).total_mib
    need = per_rank * ranks_per_node
    limits = []
    if memory_per_node_gb is not None:
        limits.append((memory_per_node_gb * GB_IN_MIB,
                       f"run.memory_per_node_gb = {memory_per_node_gb:g} GB"))
    if mem_mib is not None:
        limits.append((mem_mib, f"mem = {mem_mib:,.0f} MiB asked per node"))
    for limit, what in limits:
        if need > limit:
            return (f"warning: {nodes} node(s) x {ranks_per_node} rank(s) per node need about "
                    f"{need:,.0f} MiB per node ({per_rank:,.0f} MiB per rank, estimated) but "
                    f"{what} ({limit:,.0f} MiB): use more nodes, or fewer ranks per node")
    return None


def configured_ranks(run: dict | None, where=None) -> tuple[int, int]:
    """(nodes, ranks per node) of a run config's `run:` mapping, read as brainsim submit
    reads it: nodes (default 1) x ranks_per_node, else `ranks` in all spread over the
    nodes, else one rank per node. where(key) names the source of run.<key> for messages
    (default "run config"); a value that is not a positive integer raises SpecError."""
    from brainsim.spec import SpecError
    run = run or {}
    where = where or (lambda key: "run config")

    def positive_int(key: str) -> int:
        value = run.get(key, 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise SpecError(f"{value!r}; expected a positive integer", file=where(key),
                            path=("run", key))
        return value

    nodes = positive_int("nodes")
    if "ranks_per_node" in run or "ranks" not in run:
        return nodes, positive_int("ranks_per_node")
    total = positive_int("ranks")
    if total % nodes:
        raise SpecError(f"{total}; expected a multiple of nodes = {nodes} (or set "
                        "ranks_per_node)", file=where("ranks"), path=("run", "ranks"))
    return nodes, total // nodes


def config_memory_warning(model, num_ranks: int | None = None, where=None) -> str | None:
    """The warning for `brainsim info --config`: the ranks (num_ranks, e.g. from -n, else
    nodes x ranks per node of the config's `run:` mapping, see configured_ranks), spread
    evenly over at most run.nodes nodes, against run.memory_per_node_gb (GB). None when the
    config gives no node memory; SpecError when a value is not a positive number."""
    from brainsim.spec import SpecError
    run = model.document.get("run") or {}
    nodes, ranks_per_node = configured_ranks(run, where)
    per_node = run.get("memory_per_node_gb")
    if per_node is None:
        return None
    if isinstance(per_node, bool) or not isinstance(per_node, (int, float)) or not per_node > 0:
        label = (where or (lambda key: "run config"))("memory_per_node_gb")
        raise SpecError(f"{per_node!r}; expected a positive number of GB", file=label,
                        path=("run", "memory_per_node_gb"))
    if num_ranks is not None:
        nodes = min(nodes, num_ranks)
        ranks_per_node = -(-num_ranks // nodes)          # the fullest node
    return memory_warning(model, nodes, ranks_per_node, float(per_node),
                          num_ranks=num_ranks)
