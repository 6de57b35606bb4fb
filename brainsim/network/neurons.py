"""Neuron model groups: the populations of one NEST model on this rank, and their kernel.

Each group owns the local index ranges (segments) of its populations and per-segment
constants (propagators, thresholds in steps), computed once before the run as NEST does,
by the model's declaration (brainsim.catalogue.neurons) and placed by name in the columns
its kernel reads (``bind_kernel`` checks the names both sides use). State lives in the
LocalNetwork's flat per-variable arrays, indexed by local index, so a checkpoint is a set
of arrays keyed by gid whatever the model mix. Refractory periods are whole steps rounded
up, as NEST (brainsim.timesteps.steps_rounded_up).
"""
from __future__ import annotations

import importlib
import inspect
import sys
from dataclasses import dataclass, field
from typing import Iterable, Mapping

import numpy as np

from cython_kernels.inputs import InputPlan
from brainsim.catalogue.neurons import BUILTIN, NeuronModel
from brainsim.catalogue.neurons.declaration import FLOAT64, INT32
from brainsim.network.inputs import DCTable, PoissonTable, input_plan
from brainsim.spec.neuron_params import distinct_rows

# Every kernel's update(seg_begin, seg_end, seg_params, <its STATE_ARGUMENTS>, ring,
# local_gids, plan, first_step, n_steps, seed, spike_keys, i_ext) (docs/architecture.md §7).
LEADING_ARGUMENTS = ("seg_begin", "seg_end", "seg_params")
TRAILING_ARGUMENTS = ("ring", "local_gids", "plan", "first_step", "n_steps", "seed",
                     "spike_keys", "i_ext")
# The ring buffer's first two channels are chosen by the weight's sign (delivery.pyx, the
# built-in kernels' ring[slot, i, 0 / 1]): the (channel, weight sign) ports of a
# sign-chosen model. A receptor-addressed model's ports (weight sign ANY_SIGN) are channels
# 0 .. n-1 that connections name (delivery.deliver_addressed); its kernel exports
# RING_CHANNELS = n, the channels it gathers (block_input.gather_block_channels).
RING_PORTS = frozenset({(0, +1), (1, -1)})
PROBE_DT = 0.1   # ms: the step at which a binding checks the names its packing returns


class KernelMismatch(RuntimeError):
    """A neuron model's declaration and its kernel disagree (names of the segment
    constants or state arguments, receptor ports): refused when the kernel is bound."""


@dataclass(frozen=True)
class KernelModel:
    """A neuron model's declaration bound to its compiled kernel (``bind_kernel``).

    ``update_state`` names the state arrays the kernel's ``update`` takes after
    ``seg_params``, in its argument order (the kernel's STATE_ARGUMENTS, checked against
    its signature); ``columns`` names the seg_params columns (SEGMENT_COLUMNS).
    ``kernel.update(seg_begin, seg_end, seg_params, *state arrays, ring, local_gids, plan,
    first_step, num_steps, seed, spike_keys, i_ext)``, where ``plan`` is the group's
    InputPlan (Poisson and DC inputs, scratch), ``i_ext`` [num_steps, n_local] (pA) is the
    extra current (noise_generator) of each local neuron in the update of each step,
    added where the DC enters, or 0 rows for none; it returns the number of spikes.
    """
    declaration: NeuronModel
    kernel: object
    columns: tuple[str, ...]
    update_state: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.declaration.name

    def segment_params(self, params: Mapping[str, float], dt: float) -> list[float]:
        """One population's seg_params row: the declaration's constants for step dt (ms),
        placed by name in the kernel's column order."""
        constants = self.declaration.segment_constants(params, dt, self.kernel)
        _check_names(self.name, "segment constants", set(constants), set(self.columns))
        return [float(constants[name]) for name in self.columns]


def _check_names(model: str, what: str, declared: set, kernel: set) -> None:
    if declared != kernel:
        raise KernelMismatch(
            f"{model}: {what} of the declaration and the kernel differ (only declared: "
            f"{sorted(declared - kernel)}, only in the kernel: {sorted(kernel - declared)})")


def _update_arguments(name: str, kernel) -> tuple[str, ...]:
    """The state argument names of kernel.update, read from its signature."""
    try:
        names = tuple(inspect.signature(kernel.update).parameters)
    except (AttributeError, TypeError, ValueError) as exc:
        raise KernelMismatch(f"{name}: the kernel's update has no readable signature "
                             f"({exc})") from None
    lead, trail = len(LEADING_ARGUMENTS), len(TRAILING_ARGUMENTS)
    if names[:lead] != LEADING_ARGUMENTS or names[-trail:] != TRAILING_ARGUMENTS:
        raise KernelMismatch(f"{name}: update{names} does not follow the calling convention "
                             f"update{LEADING_ARGUMENTS + ('<state>',) + TRAILING_ARGUMENTS}")
    return names[lead:-trail]


def bind_kernel(declaration: NeuronModel) -> KernelModel:
    """Import (if named) and check the declaration's kernel: its STATE_ARGUMENTS are its
    update's state arguments and exactly the declared state arrays, its SEGMENT_COLUMNS
    exactly the names the declaration's segment constants return, and the declared
    receptor ports those the ring buffer has. KernelMismatch otherwise."""
    name = declaration.name
    kernel = declaration.kernel
    if isinstance(kernel, str):
        kernel = importlib.import_module(kernel)
    elif hasattr(kernel, "load"):        # an equation model's generated kernel
        kernel = kernel.load()
    try:
        columns = tuple(kernel.SEGMENT_COLUMNS)
        state = tuple(kernel.STATE_ARGUMENTS)
    except AttributeError as exc:
        raise KernelMismatch(f"{name}: the kernel exports no {exc.name}") from None
    if _update_arguments(name, kernel) != state:
        raise KernelMismatch(f"{name}: STATE_ARGUMENTS {state} are not the state arguments "
                             f"of update{_update_arguments(name, kernel)}")
    if len(set(state)) != len(state):
        raise KernelMismatch(f"{name}: STATE_ARGUMENTS {state} repeat a name")
    _check_names(name, "state arrays", set(declaration.state_arrays), set(state))
    probe = declaration.segment_constants(dict(declaration.defaults), PROBE_DT, kernel)
    _check_names(name, "segment constants", set(probe), set(columns))
    _check_ports(declaration, kernel)
    return KernelModel(declaration, kernel, columns, state)


def _check_ports(declaration: NeuronModel, kernel) -> None:
    """A sign-chosen model has exactly the ring's two sign ports; a receptor-addressed one
    has ports on channels 0 .. n-1 (the declaration checks that) and a kernel that reads
    exactly those n channels (its RING_CHANNELS)."""
    name = declaration.name
    ports = {(port.channel, port.weight_sign) for port in declaration.receptors}
    if not declaration.receptor_addressed:
        if ports != RING_PORTS:
            raise KernelMismatch(f"{name}: receptor ports (channel, weight sign) "
                                 f"{sorted(ports)}; the ring buffer and delivery have "
                                 f"{sorted(RING_PORTS)}")
        return
    channels = getattr(kernel, "RING_CHANNELS", None)
    if channels != len(ports):
        raise KernelMismatch(f"{name}: {len(ports)} receptor ports reached by name, but the "
                             f"kernel reads {channels} ring channels (its RING_CHANNELS)")


# The built-ins, bound and checked at import: a declaration that disagrees with its
# kernel stops brainsim here, not in a wrong simulation.
KERNEL_MODELS = {model.name: bind_kernel(model) for model in BUILTIN}


def kernel_model(declaration: NeuronModel) -> KernelModel:
    """The bound kernel of a declaration: the built-in binding, or a new one (a model
    file's own model)."""
    bound = KERNEL_MODELS.get(declaration.name)
    if bound is not None and bound.declaration is declaration:
        return bound
    return bind_kernel(declaration)


def load_generated_kernels(declarations: Iterable[NeuronModel], comm,
                           cache_dir: str | None = None,
                           announce: bool = False) -> dict | None:
    """Compile or load the generated kernels of these declarations' equation models, on
    every rank of `comm` together (rank 0 compiles first; a failure is raised on all
    ranks, brainsim.codegen.cache.load_kernel). cache_dir: run.kernel_cache, else
    $BRAINSIM_KERNEL_CACHE, else the private per-user folder. announce: rank 0 says on
    stderr which kernels it is about to compile (it takes ~10-20 s each).

    Returns None without equation models, else what rank 0 did (for run.json): models,
    compiled (how many it compiled), seconds (wall time of compiling and loading), cache."""
    import time
    from brainsim.codegen.cache import STATS, cache_directory
    generated = [d.kernel for d in sorted(declarations, key=lambda m: m.name)
                 if hasattr(d.kernel, "load")]
    if not generated:
        return None
    started, compiled_before = time.perf_counter(), STATS.compiled
    if comm.rank == 0:
        from brainsim.equations.declare import compile_in_parallel, uncached_models
        missing = uncached_models(generated, cache_dir)
        if missing and announce:
            sys.stderr.write(f"brainsim: compiling the kernels of {', '.join(missing)} "
                             "(first use; later runs load them from the cache)\n")
            sys.stderr.flush()
        compile_in_parallel(generated, cache_dir)
    for kernel in generated:
        kernel.load(cache_dir, comm)
    return {"models": [k.spec.model for k in generated],
            "compiled": STATS.compiled - compiled_before,
            "seconds": round(time.perf_counter() - started, 3),
            "cache": cache_directory(cache_dir)}


def population_segments(bound: KernelModel, pop, begin: int, end: int,
                        local_gids: np.ndarray, dt: float, subsets=()) -> tuple:
    """Segments of one population's local index range [begin, end): (begins, ends,
    seg_params rows, members). One segment when its parameters are numbers and no input
    takes a subset (as always); else one per run of neurons with equal parameters and
    equal membership in `subsets` (bool arrays [pop.size]: the targets of inputs with
    node_ids), each distinct row's constants computed once. members[k]: the segments
    (indices into the returned lists) inside subsets[k]. local_gids: the rank's gids
    (population-local index = gid - pop.offset)."""
    rows, row_of = distinct_rows(pop.params, pop.size)
    if (len(rows) == 1 and not subsets) or begin == end:
        inside = [[0] if begin < end and subset[local_gids[begin] - pop.offset] else []
                  for subset in subsets]
        return [begin], [end], [bound.segment_params(rows[0], dt)], inside
    local = local_gids[begin:end] - pop.offset
    which = row_of[local]
    labels = np.stack([which] + [subset[local] for subset in subsets])
    changed = np.any(labels[:, 1:] != labels[:, :-1], axis=0)
    starts = np.flatnonzero(np.r_[True, changed])
    stops = np.r_[starts[1:], which.size]
    constants = {int(r): bound.segment_params(rows[r], dt) for r in np.unique(which)}
    members = [np.flatnonzero(subset[local[starts]]).tolist() for subset in subsets]
    return ((begin + starts).tolist(), (begin + stops).tolist(),
            [constants[int(which[s])] for s in starts], members)


# Arrays every network has, whatever its models: the engine's population activity averages
# V_m over every neuron (0 where the model has none, e.g. parrot_neuron), and a checkpoint
# holds the same three for every model mix.
NETWORK_STATE = {"V_m": FLOAT64, "i_0": FLOAT64, "refractory": INT32}


def state_layout(declarations: Iterable[NeuronModel]) -> dict[str, str]:
    """name -> dtype of every state array of a network of these models: NETWORK_STATE,
    then each model's declared arrays (models by name, arrays in declaration order)."""
    layout = dict(NETWORK_STATE)
    for declaration in sorted(declarations, key=lambda m: m.name):
        for name, dtype in declaration.state_arrays.items():
            layout.setdefault(name, dtype)   # one dtype per name: registry.check_shared_state
    return layout


# i_ext of a group update without noise_generator input: no rows, no per-step work.
NO_CURRENT = np.zeros((0, 0), dtype=np.float64)


@dataclass
class NeuronGroup:
    """All local neurons of one model: segments [begin, end) of local indices, and the
    InputPlan of their Poisson and DC inputs (built once, with the group)."""
    model: KernelModel
    populations: list[int]
    seg_begin: np.ndarray
    seg_end: np.ndarray
    seg_params: np.ndarray
    poisson: PoissonTable
    dc: DCTable
    plan: InputPlan = field(init=False, repr=False)

    def __post_init__(self):
        # scratch for one-step epochs; the first longer epoch grows it once
        self.plan = input_plan(self.poisson, self.dc, len(self.seg_begin),
                               num_channels=self.model.declaration.ring_channels)

    def update(self, state: dict, ring: np.ndarray, local_gids: np.ndarray,
               first_step: int, num_steps: int, seed: int, spike_keys: np.ndarray,
               i_ext: np.ndarray = NO_CURRENT) -> int:
        """Advance every neuron of the group num_steps steps; returns the number n of spikes.

        Spike keys ((lag << 32) | gid, lag in steps after first_step) go to spike_keys; when
        n > len(spike_keys) (several spikes per neuron and step) the rest wait in the plan:
        ``with_spilled`` collects them. i_ext: [num_steps, n_local] pA, row j = the noise
        current each local neuron gets in the update of step first_step + j
        (NoiseCurrents.epoch_currents), or 0 rows: none.
        """
        return self.model.kernel.update(
            self.seg_begin, self.seg_end, self.seg_params,
            *[state[name] for name in self.model.update_state],
            ring, local_gids, self.plan, first_step, num_steps, seed, spike_keys, i_ext)

    def with_spilled(self, keys: np.ndarray, begin: int, n: int) -> np.ndarray:
        """After ``update(..., keys[begin:], ...)`` returned n > len(keys) - begin: a copy
        of keys, grown by doubling, with all n spikes of that update at [begin, begin + n)."""
        grown = np.zeros(max(2 * keys.shape[0], begin + n), dtype=np.uint64)
        grown[:keys.shape[0]] = keys
        grown[keys.shape[0]:begin + n] = self.plan.spilled_keys()
        return grown
