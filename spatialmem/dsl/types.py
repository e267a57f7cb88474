"""The static type system of the query language: kinds, units of numbers, list and union types.

A :class:`Type` is a kind (``Number``, ``Bool``, ``Text``, ``Object``, ``Objects``, ``Camera``,
``View``, ``Direction``, ``Route``, ``Image``, ``Choice``, ``List``; plus ``Any`` and ``Nothing``
for the checker) with a unit for numbers and an element type for lists. Number units are ``m``,
``m2``, ``m3``, ``cm``, ``deg``, ``s``, ``count`` and ``none`` (a plain number such as a literal,
which combines with any unit). Units never convert implicitly: ``to_cm`` / ``to_m`` do it.
"""

from __future__ import annotations

from dataclasses import dataclass

UNITS: tuple[str, ...] = ("m", "m2", "m3", "cm", "deg", "s", "count", "none")
UNIT_WORDS = {"m": "metres", "m2": "square metres", "m3": "cubic metres", "cm": "centimetres",
              "deg": "degrees", "s": "seconds", "count": "a count", "none": "a plain number"}
_POWER = {"m": 1, "m2": 2, "m3": 3}
_BY_POWER = {1: "m", 2: "m2", 3: "m3", 0: "none"}


@dataclass(frozen=True)
class Type:
    """A static type. ``unit`` is only for Number (None in a declaration = any unit)."""

    kind: str
    unit: str | None = None
    elem: Type | None = None
    options: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if self.kind == "Number":
            return f"Number[{self.unit}]" if self.unit else "Number"
        if self.kind == "List":
            return f"List[{self.elem}]" if self.elem else "List"
        if self.kind == "Union":
            return " | ".join(str(o) for o in self.options)
        return self.kind


def number(unit: str | None = None) -> Type:
    return Type("Number", unit)


def list_of(elem: Type) -> Type:
    return Type("List", None, elem)


def union(*options: Type) -> Type:
    return Type("Union", options=tuple(options))


ANY = Type("Any")
NOTHING = Type("Nothing")
BOOL = Type("Bool")
TEXT = Type("Text")
OBJECT = Type("Object")
OBJECTS = Type("Objects")
CAMERA = Type("Camera")
VIEW = Type("View")
DIRECTION = Type("Direction")
ROUTE = Type("Route")
IMAGE = Type("Image")
CHOICE = Type("Choice")
NUM = number()
METRES = number("m")
SQ_METRES = number("m2")
CU_METRES = number("m3")
CENTIMETRES = number("cm")
DEGREES = number("deg")
SECONDS = number("s")
COUNT = number("count")
PLAIN = number("none")
POINT = list_of(METRES)
TEXTS = list_of(TEXT)


def compatible(actual: Type, expected: Type) -> str | None:
    """Why ``actual`` cannot be passed where ``expected`` is declared: None if it can, else ``"type"``/``"unit"``."""
    if expected.kind == "Any" or actual.kind == "Any":
        return None
    if expected.kind == "Union":
        results = [compatible(actual, o) for o in expected.options]
        if None in results:
            return None
        return "unit" if "unit" in results else "type"
    if actual.kind == "Union":
        return None if all(compatible(o, expected) is None for o in actual.options) else "type"
    if actual.kind != expected.kind:
        if expected.kind == "List" and actual.kind == "Objects" and expected.elem is not None \
                and expected.elem.kind in ("Object", "Any"):
            return None
        return "type"
    if actual.kind == "Number":
        if expected.unit is None or actual.unit is None or actual.unit == expected.unit or actual.unit == "none":
            return None
        return "unit"
    if actual.kind == "List":
        if expected.elem is None or actual.elem is None:
            return None
        return compatible(actual.elem, expected.elem)
    return None


def add_unit(a: str | None, b: str | None) -> str | None:
    """Unit of ``a + b`` / ``a - b``; raises ValueError when they differ."""
    if a is None or b is None:
        return a or b
    if a == b or b == "none":
        return a
    if a == "none":
        return b
    raise ValueError(f"cannot add or subtract {UNIT_WORDS.get(a, a)} ({a}) and {UNIT_WORDS.get(b, b)} ({b})")


def mul_unit(a: str | None, b: str | None) -> str | None:
    """Unit of ``a * b``; raises ValueError for products that have no unit here (e.g. m * s)."""
    if a is None or b is None:
        return None
    if a in ("none", "count"):
        return b if b != "count" or a == "none" else "count"
    if b in ("none", "count"):
        return a
    if a in _POWER and b in _POWER and _POWER[a] + _POWER[b] <= 3:
        return _BY_POWER[_POWER[a] + _POWER[b]]
    raise ValueError(f"the product of {a} and {b} has no unit in this language")


def div_unit(a: str | None, b: str | None) -> str | None:
    """Unit of ``a / b``; raises ValueError for quotients that have no unit here (e.g. m / s)."""
    if a is None or b is None:
        return None
    if a == b:
        return "none"
    if b in ("none", "count"):
        return a
    if a in _POWER and b in _POWER and _POWER[a] > _POWER[b]:
        return _BY_POWER[_POWER[a] - _POWER[b]]
    raise ValueError(f"the quotient of {a} by {b} has no unit in this language")


def compare_unit(a: str | None, b: str | None) -> None:
    """Raise ValueError when numbers in ``a`` and ``b`` cannot be compared."""
    try:
        add_unit(a, b)
    except ValueError:
        raise ValueError(f"cannot compare {UNIT_WORDS.get(a, a)} ({a}) with {UNIT_WORDS.get(b, b)} ({b})") from None
