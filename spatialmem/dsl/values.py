"""Runtime values of the query language and their plain-text form (what a model would answer).

Numbers are :class:`Quantity` (value + unit), objects are the memory's
:class:`~spatialmem.memory.scene.ObjectInstance` itself, object sets are :class:`ObjectSet`,
cameras are :class:`~spatialmem.memory.scene.CameraRecord`, lists are tuples, text is ``str``
and booleans are ``bool``. The other kinds have a frozen dataclass here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from spatialmem.dsl.types import Kind
from spatialmem.memory.scene import CameraRecord, ObjectInstance


@dataclass(frozen=True)
class Quantity:
    """A number with a unit (one of :data:`spatialmem.dsl.types.UNITS`)."""

    value: float
    unit: str = "none"


@dataclass(frozen=True, eq=False)
class ObjectSet:
    """An ordered set of memory instances (``Objects``)."""

    items: tuple[ObjectInstance, ...]


@dataclass(frozen=True)
class View:
    """A viewpoint on the floor plane: position (2,) metres, unit facing (2,), eye height z metres."""

    position_xy: tuple[float, float]
    facing_xy: tuple[float, float]
    z: float = 1.5


@dataclass(frozen=True)
class Direction:
    """A direction label under a scheme, with the signed view angle (degrees, + = left)."""

    label: str
    scheme: str
    angle_deg: float


@dataclass(frozen=True)
class Route:
    """Turns (``"turn left"`` ...) before each leg after the first, and the (N, 2) waypoint positions."""

    turns: tuple[str, ...]
    waypoints: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, eq=False)
class Image:
    """An (H, W, 3) uint8 image and what it shows."""

    pixels: np.ndarray
    caption: str = ""


@dataclass(frozen=True)
class Choice:
    """A multiple-choice option picked by ``choose``: its letter and its text."""

    letter: str
    text: str
    detail: str = field(default="", compare=False)


_KINDS: dict[type, Kind] = {
    Quantity: Kind.NUMBER, bool: Kind.BOOL, str: Kind.TEXT, ObjectInstance: Kind.OBJECT, ObjectSet: Kind.OBJECTS,
    CameraRecord: Kind.CAMERA, View: Kind.VIEW, Direction: Kind.DIRECTION, Route: Kind.ROUTE, Image: Kind.IMAGE,
    Choice: Kind.CHOICE, tuple: Kind.LIST,
}


def kind_of(value: object) -> Kind:
    """The kind of a runtime value (``Kind.NUMBER``, ``Kind.OBJECT`` ...; ``Kind.NOTHING`` for None)."""
    if value is None:
        return Kind.NOTHING
    return _KINDS.get(type(value), Kind.ANY)


def type_name(value: object) -> str:
    """Full type name of a runtime value, e.g. ``"Number[m]"`` or ``"List[Text]"``."""
    k = kind_of(value)
    if isinstance(value, Quantity):
        return f"Number[{value.unit}]"
    if isinstance(value, tuple):
        return f"List[{type_name(value[0])}]" if value else "List"
    return k.value


def format_number(x: float, unit: str = "none") -> str:
    """Plain text of a number: counts as integers, otherwise rounded to 2 decimals, no trailing zeros."""
    if not math.isfinite(x):
        return str(x)
    if unit == "count":
        return str(int(round(x)))
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def answer_text(value: object) -> str:
    """What a model would output for ``value``: a plain number, an option letter, a label..."""
    if isinstance(value, Quantity):
        return format_number(value.value, value.unit)
    if isinstance(value, Choice):
        return value.letter
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value
    if isinstance(value, Direction):
        return value.label
    if isinstance(value, Route):
        return ", ".join(t.title() for t in value.turns)
    if isinstance(value, ObjectInstance):
        return value.category
    if isinstance(value, ObjectSet):
        return ", ".join(o.category for o in value.items)
    if isinstance(value, tuple):
        return ", ".join(answer_text(v) for v in value)
    if isinstance(value, View):
        return f"at ({value.position_xy[0]:.2f}, {value.position_xy[1]:.2f}) facing " \
               f"({value.facing_xy[0]:.2f}, {value.facing_xy[1]:.2f})"
    if isinstance(value, CameraRecord):
        return f"camera at {format_number(value.timestamp_s)} s"
    if isinstance(value, Image):
        return f"<image {value.pixels.shape[1]}x{value.pixels.shape[0]}>"
    return "" if value is None else str(value)


def plain(value: object) -> object:
    """The Python value handed out as ``RunResult.answer``: floats/ints for numbers, lists for lists."""
    if isinstance(value, Quantity):
        return int(round(value.value)) if value.unit == "count" else float(value.value)
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return value
