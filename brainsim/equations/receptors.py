"""Reading `neuron_models.<name>.receptors`: kernels, kinds, the state variables each
receptor adds and how a spike's weight enters (NEST's kernel definitions).

Kernels (X is the receptor's current, pA, or conductance, nS; dX its derivative):
  delta  no state; the weight jumps the state variable `jump` (weight in its unit)
  exp    X' = -X/tau;                         a spike adds w to X
  alpha  dX' = -dX/tau, X' = dX - X/tau;      a spike adds w*e/tau to dX (peak w at tau)
  beta   dX' = -dX/tau_decay, X' = dX - X/tau_rise;  a spike adds w*g0 to dX, g0 NEST's
         beta_normalization_factor(tau_rise, tau_decay) (peak w; e/tau_decay when equal)
"""
from __future__ import annotations

from brainsim.spec.checker import Checker

from .ir import Receptor
from .units import UNITS

KERNELS = {"delta": (), "exp": ("tau",), "alpha": ("tau",), "beta": ("tau_rise", "tau_decay")}
RECEPTOR_KEYS = ("kernel", "tau", "tau_rise", "tau_decay", "current", "conductance", "E_rev",
                 "jump")
MEMBRANE = "V_m"   # the potential a conductance current drives against E_rev
E = "2.718281828459045"   # the double nearest e, as the built-in iaf_psc_alpha writes it


def read_receptors(ck: Checker, spec: dict, path, parameters: dict, state: dict) -> tuple:
    """Receptor records; `parameters`/`state` map names to internal Units."""
    value = spec.get("receptors", {})
    ck.mapping(value, path, list(value) if isinstance(value, dict) else [],
               what="a mapping of receptor name to its kernel")
    return tuple(_read_one(ck, body, tuple(path) + (name,), name, parameters, state)
                 for name, body in value.items())


def _read_one(ck, body, path, name, parameters, state) -> Receptor:
    ck.mapping(body, path, RECEPTOR_KEYS, required=("kernel",))
    kernel = ck.string(body, "kernel", path, choices=list(KERNELS))
    taus = tuple(_time_constant(ck, body, key, path, parameters) for key in KERNELS[kernel])
    if kernel == "delta":
        jump = ck.name_in(body, "jump", path, list(state), what="state variable")
        return Receptor(name, kernel, "current", (), symbol=None, current_symbol=None,
                        current=None, jump=jump, jump_factor="1.0",
                        weight_unit=str(state[jump]))
    if "conductance" in body:
        symbol = ck.string(body, "conductance", path, identifier=True)
        reversal = ck.name_in(body, "E_rev", path, list(parameters), what="parameter")
        if not parameters[reversal].same_dimension(UNITS["mV"]):
            ck.fail(tuple(path) + ("E_rev",), f"dimension mismatch: '{reversal}' is in "
                    f"{parameters[reversal]}", "a parameter in mV")
        current_name = ck.string(body, "current", path, default=f"I_{name}", identifier=True)
        return Receptor(name, kernel, "conductance", taus, symbol=symbol,
                        current_symbol=current_name,
                        current=f"{symbol} * ({reversal} - {MEMBRANE})", reversal=reversal,
                        **_kernel_state(kernel, symbol, "nS", taus))
    symbol = ck.string(body, "current", path, default=f"I_{name}", identifier=True)
    return Receptor(name, kernel, "current", taus, symbol=symbol, current_symbol=symbol,
                    current=symbol, **_kernel_state(kernel, symbol, "pA", taus))


def _kernel_state(kernel: str, symbol: str, unit: str, taus: tuple) -> dict:
    """The state variables (name, unit), their equations and the jump of one kernel."""
    if kernel == "exp":
        return {"state": ((symbol, unit),), "equations": ((symbol, f"-{symbol} / {taus[0]}"),),
                "jump": symbol, "jump_factor": "1.0", "weight_unit": unit}
    derivative = f"d{symbol}"
    rise, decay = (taus[0], taus[0]) if kernel == "alpha" else taus
    factor = (f"{E} / {taus[0]}" if kernel == "alpha"
              else f"beta_normalization_factor({rise}, {decay})")
    return {"state": ((symbol, unit), (derivative, f"{unit}/ms")),
            "equations": ((derivative, f"-{derivative} / {decay}"),
                          (symbol, f"{derivative} - {symbol} / {rise}")),
            "jump": derivative, "jump_factor": factor, "weight_unit": unit}


def _time_constant(ck, body, key, path, parameters) -> str:
    if key not in body:
        ck.fail(path, f"missing key '{key}'", f"'{key}' to be given (a parameter in ms)")
    tau = ck.name_in(body, key, path, list(parameters), what="parameter")
    if not parameters[tau].same_dimension(UNITS["ms"]):
        ck.fail(tuple(path) + (key,), f"dimension mismatch: '{tau}' is in {parameters[tau]}",
                "a parameter in ms")
    return tau
