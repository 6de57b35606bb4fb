from fractions import Fraction

import pytest

from brainsim.equations.units import UNITS, UnitError, parse_quantity, parse_unit


@pytest.mark.parametrize("text, value, unit", [
    ("250 pF", 250.0, "pF"), ("0.25 nF", 250.0, "pF"), ("-70 mV", -70.0, "mV"),
    ("-0.07 V", -70.0, "mV"), ("2 ms", 2.0, "ms"), ("0.002 s", 2.0, "ms"),
    ("20 pA", 20.0, "pA"), ("0.02 nA", 20.0, "pA"), ("4 nS", 4.0, "nS"),
    ("0.004 uS", 4.0, "nS"), ("10 Hz", 0.01, "1/ms"), ("0.01 1/ms", 0.01, "1/ms"),
    ("40 MOhm", 0.04, "GOhm"), ("1 GOhm", 1.0, "GOhm"), ("3", 3.0, "1")])
def test_quantities_are_converted_to_internal_units(text, value, unit):
    number, found = parse_quantity(text)
    assert number == pytest.approx(value) and str(found) == unit


def test_products_quotients_and_powers_combine_dimensions():
    assert (UNITS["pF"] * UNITS["mV"] / UNITS["ms"]).same_dimension(UNITS["pA"])
    assert (UNITS["nS"] * UNITS["mV"]).same_dimension(UNITS["pA"])
    assert (UNITS["MOhm"] * UNITS["nA"]).scale == pytest.approx(1.0)   # 1 MOhm*nA = 1 mV
    assert parse_unit("ms**-1").same_dimension(UNITS["Hz"])
    assert (UNITS["mV"] ** 2) ** Fraction(1, 2) == UNITS["mV"]
    assert str(parse_unit("mV/ms")) == "mV/ms"


def test_unknown_unit_is_refused():
    with pytest.raises(UnitError, match="unknown unit 'furlong'"):
        parse_quantity("3 furlong")
