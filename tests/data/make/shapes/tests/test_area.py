import math

import pytest

from shapes.area import Rectangle, circle_area, total_area


@pytest.mark.parametrize(
    "width, height, unit, area",
    [(2.0, 3.0, "m", 6.0), (100.0, 50.0, "cm", 0.5)],
)
def test_rectangle(width: float, height: float, unit: str, area: float) -> None:
    assert Rectangle(width, height, unit).area() == pytest.approx(area)


def test_circle_area() -> None:
    assert circle_area(1.0) == pytest.approx(math.pi)
    assert circle_area(100.0, "cm") == pytest.approx(math.pi)
    with pytest.raises(ValueError):
        circle_area(-1.0)


def test_total_area() -> None:
    assert total_area([Rectangle(1.0, 2.0), Rectangle(3.0, 1.0)]) == pytest.approx(5.0)
    assert total_area([Rectangle(1.0, 1.0)], scale=3) == pytest.approx(3.0)
