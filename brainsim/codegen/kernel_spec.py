"""KernelSpec: the C-level description of one neuron model's per-step update, from which
brainsim.codegen.generate writes a Cython kernel with the built-in kernels' calling
convention (docs/architecture.md §7, §13).

The front end (brainsim.equations) lowers its IR to a KernelSpec; the spec names only
what the kernel sees: state arrays, per-segment constant columns, receptor jumps and the
statements of one step, written as expressions over local scalar copies. Values of the
columns are computed in Python before the run by the lowering's
``segment_constants(params, dt) -> {column name: value}`` (propagators, thresholds,
refractory steps); the spec carries only their names and order.

Expressions are strings in a small Python/Cython subset, checked when the spec is made
(brainsim.codegen.expressions): numbers, names, ``+ - * /``, unary ``-``, one comparison
(``< <= > >= == !=``), ``and``/``or``/``not``, ``a if cond else b`` and calls of
``exp expm1 log log1p sqrt pow fabs fmin fmax floor ceil sin cos tan tanh sinh cosh asin
acos atan``. Integer literals are float64 except in ``refractory_steps`` (an int32
expression); ``**`` is refused (write ``pow``). Evaluation follows the expression tree
exactly (C with ``-ffp-contract=off``), so writing a built-in's expression with the same
grouping gives the same bits. Names visible in a step expression (``threshold``,
``reset``, jumps, exact assignments): the state variables (float64, their current
values), the columns (float64; ``integer_columns`` as int32), ``I_stim`` (pA: the
previous step's DC ``i_0`` plus this step's noise current, NEST's single current buffer)
and ``input_<receptor>`` (this step's summed ring + Poisson input of that receptor's
channel, in the model's weight unit; channel 1 sums negative weights; in a
receptor-addressed spec a channel sums the weights, of either sign, of the connections
that name its receptor). The names of the
RKF45 right-hand side are listed with ``Rkf45Update``.

Every name (state, column, receptor, definition) must be a C identifier that does not
start with ``_``, is not a Python/Cython/C keyword or builtin, not a math function above,
not one of ``update``'s other arguments and not ``I_stim``, ``is_refractory`` or
``input_*`` (``expressions.RESERVED``).
"""
from __future__ import annotations

from dataclasses import dataclass

# Kernel arguments every generated kernel has besides the model's own float64 variables:
# the DC current of the previous step (pA), the refractory counter (int32, steps left),
# and with RKF45 the carried integration step size (ms).
I_0 = "i_0"
REFRACTORY = "refractory"
ODE_H = "ode_h"
# The ring buffer's channels chosen by the weight's sign (delivery.pyx): 0 holds weights
# >= 0, 1 weights < 0. A receptor-addressed spec (KernelSpec.receptor_addressed) reads
# channels 0 .. n-1 instead, one per receptor, which connections name
# (delivery.deliver_addressed); up to MAX_ADDRESSED_CHANNELS (InputPlan's limit).
RING_CHANNELS = 2
MAX_ADDRESSED_CHANNELS = 1024
# Receptor.channel of a model's single receptor: channels 0 and 1 summed (ex + inh, the
# weights of both signs in one input, as the built-in izhikevich reads them).
SUMMED_CHANNELS = -1


@dataclass(frozen=True)
class StateArray:
    """One float64 state array of the kernel (a kernel argument and a local scalar).

    name: the array's name (the declaration's state variable, e.g. V_m).
    offset: None, or a column added when the value is loaded and subtracted when it is
        stored, for a variable stored relative to a parameter but integrated absolute
        (aeif_cond_exp keeps V_m - E_L in the array and integrates V_m: offset "E_L").
        Every expression sees the loaded (offset) value.
    """
    name: str
    offset: str | None = None


@dataclass(frozen=True)
class Receptor:
    """One receptor port: which ring channel it reads and what its input does each step.

    name: the port name (e.g. "ex"); its step input is visible as ``input_<name>``.
    channel: the ring channel it reads (0: weights >= 0, 1: weights < 0), or
        SUMMED_CHANNELS: both, summed (a model's only receptor takes every weight); in a
        receptor-addressed spec channel k for its k-th receptor, weights of any sign.
    target: the state variable its input jumps after the subthreshold update,
        ``target = target + factor * input`` (factor "1.0": ``target + input``, "-1.0":
        ``target - input``, as the built-ins write them), or None: the input is only read
        in expressions (izhikevich adds it inside its V update).
    factor: expression over columns, the jump per unit of input (exp current kernels
        "1.0" (pA/pA); alpha kernels jump the derivative variable by e/tau_syn (1/ms);
        conductances on channel 1 "-1.0", as inhibitory weights are negative nS).
    """
    name: str
    channel: int
    target: str | None
    factor: str = "1.0"


@dataclass(frozen=True)
class ExactUpdate:
    """Subthreshold update by exact propagators (NEST's iaf_psc_* order). Per step:

        if refractory == 0:  every assignment, simultaneously; then ``after`` in order
        else:                refractory -= 1; the assignments of the variables not in
                             ``clamped``, simultaneously (clamped ones keep their value)
        receptor jumps (in receptor order), then the threshold test (KernelSpec): in
        every step (``test_while_refractory``), or only in a step that began with
        refractory == 0 (NEST's mat2_psc_exp, whose V_m is not clamped)

    assignments: (state variable, expression) pairs; every right-hand side reads the
        values before the step (simultaneous update), e.g. ("V_m", "V_m * P22 + i_syn_ex
        * P21ex + i_syn_in * P21in + (I_e + I_stim) * P20"), ("i_syn_ex", "i_syn_ex *
        P11ex"). Variables without an assignment keep their value.
    clamped: the variables held while refractory (NEST: V_m).
    after: (state variable, expression) applied in order after the assignments, only
        when not refractory (iaf_psc_alpha's lower bound: ("V_m", "V_min if V_m < V_min
        else V_m")).
    test_while_refractory: True: the threshold is tested in every step (NEST's
        iaf_psc_*, where the clamped V_m holds V_reset); False: not in a step that began
        refractory (mat2_psc_exp: if r == 0: test, else: --r).
    """
    assignments: tuple[tuple[str, str], ...]
    clamped: tuple[str, ...] = ()
    after: tuple[tuple[str, str], ...] = ()
    test_while_refractory: bool = True


@dataclass(frozen=True)
class Rkf45Update:
    """Subthreshold update by GSL's adaptive RKF45 (cython_kernels/rkf45.pxd), the step
    size carried between steps in the ``ode_h`` state array (ms; 0 or less: start at dt,
    NEST 3.10). Per step:

        t = 0; while t < dt: one accepted RKF45 step (evolve_apply); the instability
            check; if spike_within_step: (if refractory > 0: ``held`` else threshold test)
        if spike_within_step: if refractory > 0: refractory -= 1
        receptor jumps
        if not spike_within_step: if refractory > 0: refractory -= 1; ``held``
                                  else: threshold test

    spike_within_step True is NEST's aeif_* (spikes handled after every accepted step);
    False its iaf_cond_* (after the whole step and the jumps).

    derivatives: (variable, d variable/dt) per integrated variable, in the order of the
        ODE vector y (at most 8); units: the variable's unit per ms. The right-hand side
        sees the integrated variables (their values inside the Runge-Kutta stage), the
        columns, ``I_stim`` (pA, fixed over the step), ``is_refractory`` (refractory > 0
        at the start of this RKF45 step) and the ``definitions``; not the step inputs.
        State variables that are not integrated are invisible to it.
    definitions: (name, expression) local values computed in order before the
        derivatives (aeif: ("V", "V_reset if is_refractory else (V_m if V_m < V_peak
        else V_peak)")); each may use the earlier ones.
    dt: the column holding the simulation step (ms).
    eps_abs, eps_rel, a_y, a_dydt: GSL's standard control (expressions over columns):
        D_i = eps_rel (a_y |y_i| + a_dydt h |y'_i|) + eps_abs (aeif: tol, tol, 0, 1 with
        tol = gsl_error_tol; iaf_cond_exp: 1e-3, 0, 1, 0).
    held: (state variable, expression) applied in order while refractory after the
        integration (NEST: ("V_m", "V_reset")).
    unstable: None, or a condition over state variables and columns checked after every
        accepted RKF45 step; when true the call stops and ``update`` raises
        FloatingPointError (aeif: "V_m < -1e3 or w < -1e6 or w > 1e6").
    """
    derivatives: tuple[tuple[str, str], ...]
    dt: str
    eps_abs: str
    eps_rel: str
    a_y: str
    a_dydt: str
    spike_within_step: bool
    definitions: tuple[tuple[str, str], ...] = ()
    held: tuple[tuple[str, str], ...] = ()
    unstable: str | None = None


@dataclass(frozen=True)
class KernelSpec:
    """One neuron model's kernel, everything the generator needs.

    model: the model's name (a C identifier; in messages and the module name).
    variables: the float64 state arrays besides i_0 and ode_h (StateArray), e.g. V_m,
        i_syn_ex, i_syn_in; their units are the declaration's (mV, pA, nS, ...).
    state_arguments: every state array in ``update``'s argument order after seg_params:
        the variables' names, "i_0" (pA, the DC of the previous step) and "refractory"
        (int32, steps left) always, plus "ode_h" (ms) with Rkf45Update, e.g. ("V_m",
        "g_ex", "g_in", "w", "i_0", "refractory", "ode_h"); see default_arguments.
    columns: the seg_params column names in column order (the kernel's SEGMENT_COLUMNS;
        the names segment_constants returns), each read once per segment into a local.
    integer_columns: the columns read as int32 (refractory steps), a subset of columns.
    receptors: Receptor per port, in the order their jumps are applied.
    update: ExactUpdate or Rkf45Update, the subthreshold update of one step.
    threshold: condition over step names, tested once per step after the jumps (exact,
        RKF45 with spike_within_step False) or after every accepted RKF45 step
        (spike_within_step True), only when not refractory in the RKF45 forms.
    reset: (state variable, expression) applied in order on a spike (e.g. ("V_m",
        "V_reset"), ("w", "w + b")).
    refractory_steps: None (no refractoriness: the counter stays 0), or the int32
        expression over columns the counter is set to on a spike, before the reset
        ("refractory_counts"; aeif, which decrements in the same step:
        "refractory_counts + 1 if refractory_counts > 0 else 0").
    receptor_addressed: the receptors are reached by name (NEST's receptor_type of
        iaf_psc_exp_multisynapse), receptor k on ring channel k whatever the weight's
        sign; the kernel gathers every channel (block_input.gather_block_channels, each
        Poisson input into the channel of the receptor it names) and exports
        RING_CHANNELS. False: channels 0 / 1 by sign (gather_block), as the built-ins.
    previous: (name, state variable) pairs: ``name`` is a float64 local set to the
        variable's value at the start of each step (before the subthreshold update and
        the jumps), visible in ``threshold`` only (hh_psc_alpha's U_old: the spike
        condition "V_m >= 0 and prev_V_m > V_m"). The value is the one the step
        expressions see (after a StateArray offset is added).
    Every step ends with i_0 = the DC current of this step (InputPlan), read by the next.
    """
    model: str
    variables: tuple[StateArray, ...]
    state_arguments: tuple[str, ...]
    columns: tuple[str, ...]
    receptors: tuple[Receptor, ...]
    update: ExactUpdate | Rkf45Update
    threshold: str
    reset: tuple[tuple[str, str], ...]
    refractory_steps: str | None
    integer_columns: tuple[str, ...] = ()
    previous: tuple[tuple[str, str], ...] = ()
    receptor_addressed: bool = False

    def __post_init__(self):
        from brainsim.codegen.expressions import check_spec
        check_spec(self)

    @property
    def variable_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)

    @property
    def uses_rkf45(self) -> bool:
        return isinstance(self.update, Rkf45Update)


def default_arguments(variables, rkf45: bool) -> tuple[str, ...]:
    """The built-ins' usual state argument order: the variables, i_0, refractory, then
    ode_h for RKF45 models (iaf_psc_exp, aeif_cond_exp)."""
    names = tuple(v.name if isinstance(v, StateArray) else v for v in variables)
    return names + (I_0, REFRACTORY) + ((ODE_H,) if rkf45 else ())
