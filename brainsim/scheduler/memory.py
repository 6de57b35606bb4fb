"""Will the ranks placed on one node fit its memory? A warning, never a refusal: the
estimate (brainsim.network.estimate) is an estimate."""
from __future__ import annotations

GB_IN_MIB = 1e9 / (1 << 20)


def memory_warning(model, nodes: int, ranks_per_node: int,
                   memory_per_node_gb: float | None, mem_mib: float | None = None
                   ) -> str | None:
    """One line when ranks_per_node x the estimated peak memory per rank exceeds the node's
    memory (memory_per_node_gb, GB) or the memory asked for (mem_mib, MiB); else None."""
    from brainsim.network.estimate import estimate_memory
    per_rank = estimate_memory(model, nodes * ranks_per_node).total_mib
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


def config_memory_warning(model) -> str | None:
    """The warning for `brainsim info --config`: nodes x ranks per node from the config's
    `run:` mapping (ranks_per_node, else ranks on one node) against run.memory_per_node_gb.
    None when the config says nothing about node memory or the values are not numbers."""
    run = model.document.get("run") or {}
    per_node = run.get("memory_per_node_gb")
    nodes = run.get("nodes", 1)
    ranks_per_node = run.get("ranks_per_node", run.get("ranks", 1))
    numbers = (per_node, nodes, ranks_per_node)
    if per_node is None or any(isinstance(v, bool) or not isinstance(v, (int, float))
                               for v in numbers) or min(numbers) <= 0:
        return None
    if "ranks_per_node" not in run and "ranks" in run:
        ranks_per_node = max(1, int(ranks_per_node) // int(nodes))
    return memory_warning(model, int(nodes), int(ranks_per_node), float(per_node))
