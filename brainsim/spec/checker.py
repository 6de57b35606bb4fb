"""Typed access to the merged document: every read checks the type, the range and unknown
keys, evaluates expressions (writing the value back into the document) and raises a
SpecError that names the file, line and YAML path."""
from __future__ import annotations

import math
import re
from typing import Iterable, Mapping, NoReturn

from .errors import Sources
from .expressions import ExpressionError, evaluate, suggest

MISSING = object()
LARGEST_INTEGER_BITS = 64        # integers from 2**64 up are refused by Checker.number
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_NAME_LENGTH = 255            # a file name's limit on common file systems


def fmt(value: float) -> str:
    """A number as users wrote it (0.05, 1500, -inf)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        text = format(value, ".12g")
        return text
    return repr(value)


def describe(value) -> str:
    """How a found value is shown in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{fmt(value)} (a boolean)"
    if isinstance(value, (int, float)):
        return fmt(value)
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f"'{shown}' (a string)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def with_unit(value, unit: str) -> str:
    return f"{fmt(value)} {unit}" if unit else fmt(value)


class Checker:
    """Reads values out of the merged document, checking each one."""

    def __init__(self, sources: Sources):
        self.sources = sources
        self.names: dict[str, float] = {}  # evaluated `parameters`, for expressions

    def fail(self, path, found: str, expected: str | None = None) -> NoReturn:
        message = f"{found}; expected {expected}" if expected else found
        raise self.sources.error(tuple(path), message)

    # -- containers -------------------------------------------------------------------
    def mapping(self, value, path, keys: Iterable[str], required: Iterable[str] = (),
                what: str = "a mapping") -> dict:
        """`value` as a dict whose keys are all in `keys` and include `required`."""
        if not isinstance(value, dict):
            self.fail(path, describe(value), what)
        keys = list(keys)
        for key in value:
            if not isinstance(key, str):
                self.fail(path, f"key {describe(key)}", "a name")
            if key not in keys:
                self.fail(tuple(path) + (key,), f"unknown key '{key}'{suggest(key, keys)}",
                          "one of " + ", ".join(keys))
        for key in required:
            if key not in value:
                self.fail(path, f"missing key '{key}'", f"'{key}' to be given")
        return value

    def list_of(self, container: dict, key: str, path, default=MISSING) -> list:
        value = container.get(key, MISSING)
        if value is MISSING or (value is None and default is not MISSING):
            return [] if default is MISSING else default
        if not isinstance(value, list):
            self.fail(tuple(path) + (key,), describe(value), "a list")
        return value

    # -- scalars ----------------------------------------------------------------------
    def string(self, container: dict, key: str, path, default=MISSING,
               choices: Iterable[str] | None = None, identifier: bool = False) -> str:
        p = tuple(path) + (key,)
        if key not in container:
            if default is MISSING:
                self.fail(path, f"missing key '{key}'", f"'{key}' to be given")
            return default
        value = container[key]
        choices = list(choices) if choices is not None else None
        if not isinstance(value, str):
            want = ("one of " + ", ".join(choices)) if choices else "a string"
            self.fail(p, describe(value), want)
        if choices is not None and value not in choices:
            self.fail(p, f"'{value}'{suggest(value, choices)}", "one of " + ", ".join(choices))
        if identifier and not IDENTIFIER.match(value):
            self.fail(p, describe(value).replace(" (a string)", ""), "an identifier "
                      "(letters, digits, _; not starting with a digit)")
        if identifier and len(value) > MAX_NAME_LENGTH:   # names become file and HDF5 names
            self.fail(p, f"a name of {len(value)} characters",
                      f"at most {MAX_NAME_LENGTH}")
        return value

    def boolean(self, container: dict, key: str, path, default=MISSING) -> bool:
        p = tuple(path) + (key,)
        if key not in container:
            if default is MISSING:
                self.fail(path, f"missing key '{key}'", f"'{key}' to be given")
            return default
        value = container[key]
        if not isinstance(value, bool):
            self.fail(p, describe(value), "true or false")
        return value

    def evaluate(self, value, path):
        """A number, or the value of an expression string (else SpecError)."""
        if isinstance(value, str):
            try:
                return evaluate(value, self.names)
            except ExpressionError as err:
                self.fail(path, err.found, err.expected)
        return value

    def number(self, container: dict, key: str, path, default=MISSING, *, unit: str = "",
               what: str = "", minimum: float | None = None, above: float | None = None,
               maximum: float | None = None, below: float | None = None,
               allow_inf: bool = False, allow_minus_inf: bool = False,
               integer: bool = False, nullable: bool = False):
        """container[key] as a float (or int with integer=True), checked.

        minimum/maximum are inclusive bounds, above/below exclusive ones. A string is an
        expression; its value is written back into the container. A missing key (or null
        when nullable) gives `default`; without a default it is an error.
        """
        p = tuple(path) + (key,)
        if key not in container or (nullable and container[key] is None):
            if default is MISSING:
                self.fail(path, f"missing key '{key}'", f"'{key}' to be given")
            return default
        value = self.evaluate(container[key], p)
        kind = what or ("an integer" if integer else "a number")
        unit_note = f" ({unit})" if unit else ""
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(p, describe(value), kind + unit_note)
        if isinstance(value, int) and value.bit_length() > LARGEST_INTEGER_BITS:
            # float() of it would overflow; nothing brainsim counts comes near 2**64
            limit = f"2**{LARGEST_INTEGER_BITS}"
            self.fail(p, f"an integer of {len(str(abs(value)))} digits",
                      f"{kind}{unit_note}" if limit in kind
                      else f"{kind}{unit_note} below {limit} in magnitude")
        if isinstance(value, float) and math.isnan(value):
            self.fail(p, "nan", f"{kind}{unit_note}, not NaN")
        if math.isinf(value):
            if not ((value > 0 and allow_inf) or (value < 0 and (allow_minus_inf or allow_inf))):
                self.fail(p, fmt(value), f"a finite number{unit_note}")
        if integer:
            if isinstance(value, float):
                if abs(value - round(value)) > 1e-9 * max(1.0, abs(value)):
                    self.fail(p, fmt(value), kind)
                value = int(round(value))
        else:
            value = float(value)
        container[key] = value
        for bound, ok, sign in ((minimum, lambda v, b: v >= b, ">="),
                                (above, lambda v, b: v > b, ">"),
                                (maximum, lambda v, b: v <= b, "<="),
                                (below, lambda v, b: v < b, "<")):
            if bound is not None and not ok(value, bound):
                self.fail(p, with_unit(value, unit), what or f"{sign} {with_unit(bound, unit)}")
        return value

    def name_in(self, container: dict, key: str, path, names: Mapping | list,
                what: str = "population") -> str:
        """A string that must be one of `names` (e.g. a population name)."""
        p = tuple(path) + (key,)
        if key not in container:
            self.fail(path, f"missing key '{key}'", f"'{key}' to be given")
        value = container[key]
        names = list(names)
        if not isinstance(value, str) or value not in names:
            shown = f"'{value}'" if isinstance(value, str) else describe(value)
            self.fail(p, f"unknown {what} {shown}{suggest(value, names)}",
                      f"one of {', '.join(names)}")
        return value
