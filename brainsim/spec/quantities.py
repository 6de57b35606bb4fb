"""Quantities: a constant or a distribution with NEST redraw bounds (weights, delays,
initial values), read from the document into `Distribution`s."""
from __future__ import annotations

import math

from .checker import MISSING, Checker, fmt
from .model import Distribution

DISTRIBUTIONS = {"constant": ("value",), "normal": ("mean", "std", "std_rel"),
                 "uniform": ("low", "high"), "lognormal": ("mu", "sigma")}

# Redraw bounds that accept fewer than this fraction of draws would make construction
# loop (almost) forever; they are refused.
MIN_ACCEPTANCE = 1e-6


def scale_distribution(dist: Distribution, factor: float) -> Distribution:
    """The distribution of factor * X for factor > 0 (lognormal included)."""
    if dist.kind != "lognormal":
        return dist.scaled(factor)
    return Distribution(kind="lognormal", mu=dist.mu + math.log(factor), sigma=dist.sigma,
                        min=dist.min * factor, max=dist.max * factor)


def _normal_cdf(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def acceptance(dist: Distribution) -> float:
    """Probability that one draw lies inside [min, max] (1 for unbounded)."""
    lo, hi = dist.min, dist.max
    if dist.kind == "constant":
        return 1.0 if lo <= dist.value <= hi else 0.0
    if dist.kind == "normal":
        if dist.std == 0:
            return 1.0 if lo <= dist.mean <= hi else 0.0
        return _normal_cdf((hi - dist.mean) / dist.std) - _normal_cdf((lo - dist.mean) / dist.std)
    if dist.kind == "uniform":
        if dist.high == dist.low:
            return 1.0 if lo <= dist.low <= hi else 0.0
        inside = min(hi, dist.high) - max(lo, dist.low)
        return max(0.0, inside) / (dist.high - dist.low)
    if dist.sigma == 0:
        return 1.0 if lo <= math.exp(dist.mu) <= hi else 0.0
    def log_cdf(x):
        if x <= 0:
            return 0.0
        if math.isinf(x):
            return 1.0
        return _normal_cdf((math.log(x) - dist.mu) / dist.sigma)
    return log_cdf(hi) - log_cdf(lo)


def read_quantity(ck: Checker, container: dict, key: str, path, *, unit: str,
                  default=MISSING, units: tuple = (), constant_only: bool = False
                  ) -> tuple[Distribution, str]:
    """container[key] as (Distribution, unit).

    A plain number (or expression) is a constant. A mapping gives `distribution`
    (default constant) and its parameters, optional `min`/`max` redraw bounds and, where
    `units` is non-empty, a `unit` among them (default `unit`).
    """
    p = tuple(path) + (key,)
    if key not in container:
        if default is MISSING:
            ck.fail(path, f"missing key '{key}'", f"'{key}' to be given")
        return Distribution(kind="constant", value=default), unit
    value = container[key]
    if not isinstance(value, dict):
        number = ck.number(container, key, path, unit=unit)
        return Distribution(kind="constant", value=number), unit

    kind = ck.string(value, "distribution", p, default="constant",
                     choices=["constant"] if constant_only else list(DISTRIBUTIONS))
    keys = ["distribution", *DISTRIBUTIONS[kind], "min", "max"] + (["unit"] if units else [])
    ck.mapping(value, p, keys)
    chosen = ck.string(value, "unit", p, default=unit, choices=units) if units else unit
    num = lambda k, **kw: ck.number(value, k, p, unit=chosen, **kw)  # noqa: E731
    fields = {}
    if kind == "constant":
        fields["value"] = num("value")
    elif kind == "normal":
        fields["mean"] = num("mean")
        if ("std" in value) == ("std_rel" in value):
            ck.fail(p, "both 'std' and 'std_rel'" if "std" in value else "neither 'std' nor "
                    "'std_rel'", "exactly one of them for a normal distribution")
        if "std" in value:
            fields["std"] = num("std", minimum=0.0)
        else:
            rel = ck.number(value, "std_rel", p, minimum=0.0, unit="relative to |mean|")
            fields["std"] = rel * abs(fields["mean"])
    elif kind == "uniform":
        fields["low"] = num("low")
        fields["high"] = num("high")
        if fields["low"] > fields["high"]:
            ck.fail(p + ("high",), f"high = {fmt(fields['high'])} {chosen}".rstrip(),
                    f">= low = {fmt(fields['low'])} {chosen}".rstrip())
    else:
        fields["mu"] = ck.number(value, "mu", p, unit=f"log of {chosen}" if chosen else "")
        fields["sigma"] = ck.number(value, "sigma", p, minimum=0.0)
    lo = num("min", default=-math.inf, allow_inf=True)
    hi = num("max", default=math.inf, allow_inf=True)
    if lo > hi:
        ck.fail(p + ("max",), f"max = {fmt(hi)} {chosen}".rstrip(),
                f">= min = {fmt(lo)} {chosen}".rstrip())
    dist = Distribution(kind=kind, min=lo, max=hi, **fields)
    if acceptance(dist) < MIN_ACCEPTANCE:
        ck.fail(p, f"redraw bounds [{fmt(lo)}, {fmt(hi)}] {chosen} reject (almost) every draw "
                f"of this {kind} distribution".replace("  ", " "),
                "bounds that contain the bulk of the distribution")
    return dist, chosen


