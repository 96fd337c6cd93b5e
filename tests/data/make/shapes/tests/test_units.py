import pytest

from shapes.units import UnitError, describe, to_metres


@pytest.mark.parametrize(
    ("value", "unit", "metres"),
    [(1.0, "km", 1000.0), (250.0, "cm", 2.5), (3.0, " M ", 3.0), (10.0, "mm", 0.01)],
)
def test_to_metres(value: float, unit: str, metres: float) -> None:
    assert to_metres(value, unit) == pytest.approx(metres)


def test_unknown_unit_names_the_known_ones() -> None:
    with pytest.raises(UnitError, match="known: cm, ft"):
        to_metres(1.0, "parsec")


def test_describe() -> None:
    assert describe(2.5, "m") == "2.5 m"
    assert describe(3.0) == "3"
