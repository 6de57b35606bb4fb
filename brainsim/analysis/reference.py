"""Reference rates to compare a run with, and the comparison itself.

Accepted reference files (JSON):
  {"populations": [names], "rates_hz": [rates]}
  {"rates_hz": {name: rate}}                      (a brainsim run.json is one)
  {"populations": [names], KEY: {label: [rates], ...}}   e.g. tests/reference/
      pd14_nest_rates.json with KEY "scale_0.1": the mean over its entries (seeds);
      KEY defaults to "scale_<the run's scale>".
"""
from __future__ import annotations

import os

import numpy as np

from brainsim.analysis.errors import AnalysisError

SHAPES = ('{"populations": [...], "rates_hz": [...]}, {"rates_hz": {population: rate}} '
          'or {"populations": [...], "<key>": {label: [...]}}')


def scale_keys(scale: float | None) -> list[str]:
    if scale is None:
        return []
    return list(dict.fromkeys([f"scale_{scale:g}", f"scale_{float(scale)!r}"]))


def _rate(path: str, name, value) -> float:
    """A reference rate: a finite number >= 0 (AnalysisError otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not np.isfinite(value) or value < 0:
        raise AnalysisError(f"{path}: rate of {str(name)[:60]!r} is {value!r:.60}; expected "
                            "a finite rate >= 0 (Hz)")
    return float(value)


def _named(path: str, populations, values, where: str) -> dict[str, float]:
    if not isinstance(populations, list) or not isinstance(values, list) \
            or len(populations) != len(values):
        raise AnalysisError(f"{path}: '{where}' must be a list as long as 'populations' "
                            f"({len(populations) if isinstance(populations, list) else '?'})")
    return {str(name): _rate(path, name, rate) for name, rate in zip(populations, values)}


def load_reference_rates(path: str, key: str | None = None, scale: float | None = None
                         ) -> tuple[dict[str, float], str]:
    """({population: reference rate Hz}, a description of what was taken) from a JSON file."""
    from brainsim.analysis.run_output import read_json
    if not os.path.lexists(path):
        raise AnalysisError(f"{path}: no such reference file")
    data = read_json(path, "a JSON reference file")
    if not isinstance(data, dict):
        raise AnalysisError(f"{path}: expected a JSON object, one of {SHAPES}")
    populations = data.get("populations")
    if key is None and "rates_hz" in data:
        rates = data["rates_hz"]
        if isinstance(rates, dict):
            return {str(k): _rate(path, k, v) for k, v in rates.items()}, "rates_hz"
        return _named(path, populations, rates, "rates_hz"), "rates_hz"
    candidates = [key] if key is not None else scale_keys(scale)
    found = next((k for k in candidates if k in data), None)
    if found is None or populations is None:
        keys = [k for k, v in data.items() if isinstance(v, (dict, list)) and k != "populations"]
        wanted = f"key '{key}'" if key else (
            f"a key for the run's scale ({', '.join(candidates)})" if candidates else "rates")
        raise AnalysisError(f"{path}: no {wanted}; found keys {', '.join(keys) or 'none'}; "
                            f"expected one of {SHAPES}")
    entry = data[found]
    if isinstance(entry, list):
        return _named(path, populations, entry, found), found
    if not isinstance(entry, dict) or not entry:
        raise AnalysisError(f"{path}: '{found}' must be a list of rates or an object of lists")
    rows = [_named(path, populations, values, f"{found}.{label}") for label, values in
            entry.items()]
    mean = {name: float(np.mean([row[name] for row in rows])) for name in rows[0]}
    return mean, f"{found} (mean of {len(rows)}: {', '.join(entry)})"


def compare_rates(measured_hz: dict[str, float], reference_hz: dict[str, float],
                  tolerance: float) -> dict:
    """Relative difference (measured - reference) / reference per population; a population
    is flagged when |relative difference| > tolerance (with a zero reference: when the
    measured rate is not zero too)."""
    rows, flagged = {}, []
    for name, rate in measured_hz.items():
        if name not in reference_hz:
            continue
        ref = reference_hz[name]
        if ref != 0:
            relative = (rate - ref) / ref
            outside = abs(relative) > tolerance
        else:
            relative = 0.0 if rate == 0 else float("inf")
            outside = rate != 0
        rows[name] = {"rate_hz": rate, "reference_hz": ref, "relative_difference": relative,
                      "outside_tolerance": bool(outside)}
        if outside:
            flagged.append(name)
    return {"tolerance": tolerance, "populations": rows, "flagged": flagged,
            "missing_in_reference": [n for n in measured_hz if n not in reference_hz],
            "missing_in_run": [n for n in reference_hz if n not in measured_hz]}
