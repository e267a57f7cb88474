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


_KINDS: dict[type, str] = {
    Quantity: "Number", bool: "Bool", str: "Text", ObjectInstance: "Object", ObjectSet: "Objects",
    CameraRecord: "Camera", View: "View", Direction: "Direction", Route: "Route", Image: "Image",
    Choice: "Choice", tuple: "List",
}


def kind_of(value) -> str:
    """The type kind of a runtime value (``"Number"``, ``"Object"`` ...; ``"Nothing"`` for None)."""
    if value is None:
        return "Nothing"
    return _KINDS.get(type(value), "Any")


def type_name(value) -> str:
    """Full type name of a runtime value, e.g. ``"Number[m]"`` or ``"List[Text]"``."""
    k = kind_of(value)
    if k == "Number":
        return f"Number[{value.unit}]"
    if k == "List":
        return f"List[{type_name(value[0])}]" if value else "List"
    return k


def format_number(x: float, unit: str = "none") -> str:
    """Plain text of a number: counts as integers, otherwise rounded to 2 decimals, no trailing zeros."""
    if not math.isfinite(x):
        return str(x)
    if unit == "count":
        return str(int(round(x)))
    text = f"{round(float(x), 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def answer_text(value) -> str:
    """What a model would output for ``value``: a plain number, an option letter, a label..."""
    k = kind_of(value)
    if k == "Number":
        return format_number(value.value, value.unit)
    if k == "Choice":
        return value.letter
    if k == "Bool":
        return "yes" if value else "no"
    if k == "Text":
        return value
    if k == "Direction":
        return value.label
    if k == "Route":
        return ", ".join(t.title() for t in value.turns)
    if k == "Object":
        return value.category
    if k == "Objects":
        return ", ".join(o.category for o in value.items)
    if k == "List":
        return ", ".join(answer_text(v) for v in value)
    if k == "View":
        return f"at ({value.position_xy[0]:.2f}, {value.position_xy[1]:.2f}) facing " \
               f"({value.facing_xy[0]:.2f}, {value.facing_xy[1]:.2f})"
    if k == "Camera":
        return f"camera at {format_number(value.timestamp_s)} s"
    if k == "Image":
        return f"<image {value.pixels.shape[1]}x{value.pixels.shape[0]}>"
    return "" if value is None else str(value)


def plain(value):
    """The Python value handed out as ``RunResult.answer``: floats/ints for numbers, lists for lists."""
    k = kind_of(value)
    if k == "Number":
        return int(round(value.value)) if value.unit == "count" else float(value.value)
    if k == "List":
        return [plain(v) for v in value]
    return value
