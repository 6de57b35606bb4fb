"""`neuron_models.<name>.rkf45`: the step control of the adaptive RKF45 used when the
model is not linear (defaults: NEST's aeif_* control, gsl_error_tol = 1e-6)."""
from __future__ import annotations

from brainsim.spec.checker import Checker

from .ir import Rkf45Control

CONTROL_KEYS = ("eps_abs", "eps_rel", "a_y", "a_dydt", "spike_within_step")


def read_rkf45_control(ck: Checker, spec: dict, path) -> Rkf45Control:
    """The control; NEST's iaf_cond_* use {eps_abs: 1e-3, eps_rel: 0, a_y: 1, a_dydt: 0,
    spike_within_step: false}."""
    body = spec.get("rkf45", {})
    ck.mapping(body, path, CONTROL_KEYS)
    default = Rkf45Control()
    numbers = {key: ck.number(body, key, path, default=getattr(default, key), minimum=0.0)
               for key in CONTROL_KEYS[:4]}
    if numbers["eps_abs"] == 0 and numbers["eps_rel"] == 0:
        ck.fail(path, "eps_abs = eps_rel = 0", "a positive tolerance")
    within = ck.boolean(body, "spike_within_step", path, default=default.spike_within_step)
    return Rkf45Control(spike_within_step=within, **numbers)
