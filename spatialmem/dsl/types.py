"""The static type system of the query language: kinds, units of numbers, list and union types.

A :class:`Type` is a :class:`Kind` (``Number``, ``Bool``, ``Text``, ``Object``, ``Objects``, ``Camera``,
``View``, ``Direction``, ``Route``, ``Image``, ``Choice``, ``List``; plus ``Any``, ``Nothing`` and
``Union`` for the checker) with a unit for numbers and an element type for lists. Number units are
``m``, ``m2``, ``m3``, ``cm``, ``deg``, ``s``, ``count`` and ``none`` (a plain number such as a literal,
which combines with any unit). Units never convert implicitly: ``to_cm`` / ``to_m`` do it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import overload

UNITS: tuple[str, ...] = ("m", "m2", "m3", "cm", "deg", "s", "count", "none")
UNIT_WORDS = {"m": "metres", "m2": "square metres", "m3": "cubic metres", "cm": "centimetres",
              "deg": "degrees", "s": "seconds", "count": "a count", "none": "a plain number"}
_POWER = {"m": 1, "m2": 2, "m3": 3}
_BY_POWER = {1: "m", 2: "m2", 3: "m3", 0: "none"}


class Kind(Enum):
    """The kind of a value or static type; its ``value`` is the name shown to users (``"Number"``)."""

    NUMBER = "Number"
    BOOL = "Bool"
    TEXT = "Text"
    OBJECT = "Object"
    OBJECTS = "Objects"
    CAMERA = "Camera"
    VIEW = "View"
    DIRECTION = "Direction"
    ROUTE = "Route"
    IMAGE = "Image"
    CHOICE = "Choice"
    LIST = "List"
    UNION = "Union"
    ANY = "Any"
    NOTHING = "Nothing"

    def __str__(self) -> str:
        return self.value


class Mismatch(Enum):
    """Why a value of one type cannot be passed where another is declared."""

    TYPE = "type"
    UNIT = "unit"


@dataclass(frozen=True)
class Type:
    """A static type. ``unit`` is only for Number (None in a declaration = any unit)."""

    kind: Kind
    unit: str | None = None
    elem: Type | None = None
    options: tuple[Type, ...] = ()

    def __str__(self) -> str:
        if self.kind is Kind.NUMBER:
            return f"Number[{self.unit}]" if self.unit else "Number"
        if self.kind is Kind.LIST:
            return f"List[{self.elem}]" if self.elem else "List"
        if self.kind is Kind.UNION:
            return " | ".join(str(o) for o in self.options)
        return self.kind.value

    def kinds(self) -> set[Kind]:
        """The kinds this type admits: its options' kinds for a union, else its own."""
        return {o.kind for o in self.options} if self.kind is Kind.UNION else {self.kind}


def number(unit: str | None = None) -> Type:
    return Type(Kind.NUMBER, unit)


def list_of(elem: Type) -> Type:
    return Type(Kind.LIST, None, elem)


def union(*options: Type) -> Type:
    return Type(Kind.UNION, options=tuple(options))


ANY = Type(Kind.ANY)
NOTHING = Type(Kind.NOTHING)
BOOL = Type(Kind.BOOL)
TEXT = Type(Kind.TEXT)
OBJECT = Type(Kind.OBJECT)
OBJECTS = Type(Kind.OBJECTS)
CAMERA = Type(Kind.CAMERA)
VIEW = Type(Kind.VIEW)
DIRECTION = Type(Kind.DIRECTION)
ROUTE = Type(Kind.ROUTE)
IMAGE = Type(Kind.IMAGE)
CHOICE = Type(Kind.CHOICE)
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


def mismatch(actual: Type, expected: Type) -> Mismatch | None:
    """Why ``actual`` cannot be passed where ``expected`` is declared: None if it can."""
    if expected.kind is Kind.ANY or actual.kind is Kind.ANY:
        return None
    if expected.kind is Kind.UNION:
        results = [mismatch(actual, o) for o in expected.options]
        if None in results:
            return None
        return Mismatch.UNIT if Mismatch.UNIT in results else Mismatch.TYPE
    if actual.kind is Kind.UNION:
        return None if all(mismatch(o, expected) is None for o in actual.options) else Mismatch.TYPE
    if actual.kind is not expected.kind:
        if expected.kind is Kind.LIST and actual.kind is Kind.OBJECTS and expected.elem is not None \
                and expected.elem.kind in (Kind.OBJECT, Kind.ANY):
            return None
        return Mismatch.TYPE
    if actual.kind is Kind.NUMBER:
        if expected.unit is None or actual.unit is None or actual.unit == expected.unit or actual.unit == "none":
            return None
        return Mismatch.UNIT
    if actual.kind is Kind.LIST:
        if expected.elem is None or actual.elem is None:
            return None
        return mismatch(actual.elem, expected.elem)
    return None


@overload
def add_unit(a: str, b: str) -> str: ...
@overload
def add_unit(a: str | None, b: str | None) -> str | None: ...
def add_unit(a: str | None, b: str | None) -> str | None:
    """Unit of ``a + b`` / ``a - b``; raises ValueError when they differ."""
    if a is None or b is None:
        return a or b
    if a == b or b == "none":
        return a
    if a == "none":
        return b
    raise ValueError(f"cannot add or subtract {UNIT_WORDS.get(a, a)} ({a}) and {UNIT_WORDS.get(b, b)} ({b})")


@overload
def mul_unit(a: str, b: str) -> str: ...
@overload
def mul_unit(a: str | None, b: str | None) -> str | None: ...
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


@overload
def div_unit(a: str, b: str) -> str: ...
@overload
def div_unit(a: str | None, b: str | None) -> str | None: ...
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
        raise ValueError(f"cannot compare {_unit_word(a)} ({a}) with {_unit_word(b)} ({b})") from None


def _unit_word(unit: str | None) -> str | None:
    return UNIT_WORDS.get(unit, unit) if unit is not None else None
