"""Reading `neuron_models.<name>.receptors`: kernels, kinds and the symbols they define."""
from __future__ import annotations

from brainsim.spec.checker import Checker

from .ir import Receptor
from .units import UNITS

KERNELS = {"delta": (), "exp": ("tau",), "alpha": ("tau",), "beta": ("tau_rise", "tau_decay")}
RECEPTOR_KEYS = ("kernel", "tau", "tau_rise", "tau_decay", "current", "conductance", "E_rev",
                 "jump")
MEMBRANE = "V_m"   # the potential a conductance current drives against E_rev


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
                        current=None, jump=jump)
    if "conductance" in body:
        symbol = ck.string(body, "conductance", path, identifier=True)
        reversal = ck.name_in(body, "E_rev", path, list(parameters), what="parameter")
        if not parameters[reversal].same_dimension(UNITS["mV"]):
            ck.fail(tuple(path) + ("E_rev",), f"dimension mismatch: '{reversal}' is in "
                    f"{parameters[reversal]}", "a parameter in mV")
        current_name = ck.string(body, "current", path, default=f"I_{name}", identifier=True)
        return Receptor(name, kernel, "conductance", taus, symbol=symbol,
                        current_symbol=current_name,
                        current=f"{symbol} * ({reversal} - {MEMBRANE})", reversal=reversal)
    symbol = ck.string(body, "current", path, default=f"I_{name}", identifier=True)
    return Receptor(name, kernel, "current", taus, symbol=symbol, current_symbol=symbol,
                    current=symbol)


def _time_constant(ck, body, key, path, parameters) -> str:
    if key not in body:
        ck.fail(path, f"missing key '{key}'", f"'{key}' to be given (a parameter in ms)")
    tau = ck.name_in(body, key, path, list(parameters), what="parameter")
    if not parameters[tau].same_dimension(UNITS["ms"]):
        ck.fail(tuple(path) + (key,), f"dimension mismatch: '{tau}' is in {parameters[tau]}",
                "a parameter in ms")
    return tau
