import math

import pytest

from shapes.perimeter import circle_perimeter, square_perimeter


@pytest.mark.parametrize(
    ("side", "unit", "perimeter"), [(1.0, "m", 4.0), (50.0, "cm", 2.0)]
)
def test_square_perimeter(side: float, unit: str, perimeter: float) -> None:
    assert square_perimeter(side, unit) == pytest.approx(perimeter)


def test_circle_perimeter() -> None:
    assert circle_perimeter(1.0) == pytest.approx(2 * math.pi)
    with pytest.raises(ValueError):
        circle_perimeter(-2.0)
