"""Attributes of values (``obj.height``, ``view.position`` ...), each declared once where implemented."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import attribute
from spatialmem.dsl.runtime import Context, Fail, m
from spatialmem.dsl.types import Kind
from spatialmem.dsl.values import Choice, Direction, Quantity, Route, View
from spatialmem.memory.scene import CameraRecord, ObjectInstance


def _pt(values: object, unit: str = "m") -> tuple[Quantity, ...]:
    return tuple(Quantity(float(v), unit) for v in np.asarray(values, dtype=np.float64).reshape(-1))


def _time_or_fail(t: float | None, what: str, o: ObjectInstance) -> Quantity:
    if t is None:
        raise Fail(D.NO_TIMES, f"the {what} time of {o.category} #{o.id} is unknown",
                   "this memory has no observation times (e.g. imported from boxes)")
    return Quantity(float(t), "s")


@attribute(Kind.OBJECT, "center", T.POINT, "Box centre [x, y, z], metres.")
def _center(ctx: Context, o: ObjectInstance) -> tuple[Quantity, ...]:
    return _pt(o.box.center)


@attribute(Kind.OBJECT, "size", T.POINT, "Box size [sx, sy, sz] along its axes, metres.")
def _size(ctx: Context, o: ObjectInstance) -> tuple[Quantity, ...]:
    return _pt(o.box.size)


@attribute(Kind.OBJECT, "height", T.METRES, "Vertical size of the box, metres.")
def _height(ctx: Context, o: ObjectInstance) -> Quantity:
    return m(o.box.z_max - o.box.z_min)


@attribute(Kind.OBJECT, "longest_side", T.METRES, "Longest box side, metres.")
def _longest_side(ctx: Context, o: ObjectInstance) -> Quantity:
    return m(o.box.longest_side)


@attribute(Kind.OBJECT, "volume", T.CU_METRES, "Box volume, cubic metres.")
def _volume(ctx: Context, o: ObjectInstance) -> Quantity:
    return Quantity(o.box.volume, "m3")


@attribute(Kind.OBJECT, "first_seen", T.SECONDS, "When it was first seen, seconds.")
def _first_seen(ctx: Context, o: ObjectInstance) -> Quantity:
    return _time_or_fail(o.first_seen_s, "first-seen", o)


@attribute(Kind.OBJECT, "last_seen", T.SECONDS, "When it was last seen, seconds.")
def _last_seen(ctx: Context, o: ObjectInstance) -> Quantity:
    return _time_or_fail(o.last_seen_s, "last-seen", o)


@attribute(Kind.OBJECT, "category", T.TEXT, "Its category name.")
def _category(ctx: Context, o: ObjectInstance) -> str:
    return o.category


@attribute(Kind.OBJECT, "id", T.PLAIN, "Its id in the memory.")
def _id(ctx: Context, o: ObjectInstance) -> Quantity:
    return Quantity(float(o.id))


@attribute(Kind.VIEW, "position", T.list_of(T.METRES), "[x, y] on the floor plane, metres.")
def _view_position(ctx: Context, v: View) -> tuple[Quantity, ...]:
    return _pt(v.position_xy)


@attribute(Kind.VIEW, "facing", T.list_of(T.PLAIN), "Unit facing direction [x, y].")
def _view_facing(ctx: Context, v: View) -> tuple[Quantity, ...]:
    return _pt(v.facing_xy, "none")


@attribute(Kind.DIRECTION, "label", T.TEXT, "The direction label, e.g. \"front-left\".")
def _direction_label(ctx: Context, d: Direction) -> str:
    return d.label


@attribute(Kind.DIRECTION, "angle", T.DEGREES, "Signed angle, degrees, + = left.")
def _direction_angle(ctx: Context, d: Direction) -> Quantity:
    return Quantity(d.angle_deg, "deg")


@attribute(Kind.ROUTE, "turns", T.TEXTS, "The turns, e.g. [\"turn left\", \"turn back\"].")
def _route_turns(ctx: Context, r: Route) -> tuple[str, ...]:
    return r.turns


@attribute(Kind.CAMERA, "position", T.POINT, "Camera centre [x, y, z], metres.")
def _camera_position(ctx: Context, c: CameraRecord) -> tuple[Quantity, ...]:
    return _pt(np.asarray(c.world_from_camera)[:3, 3])


@attribute(Kind.CAMERA, "time", T.SECONDS, "Timestamp, seconds.")
def _camera_time(ctx: Context, c: CameraRecord) -> Quantity:
    return Quantity(c.timestamp_s, "s")


@attribute(Kind.CHOICE, "letter", T.TEXT, "The option letter.")
def _choice_letter(ctx: Context, c: Choice) -> str:
    return c.letter


@attribute(Kind.CHOICE, "text", T.TEXT, "The option text.")
def _choice_text(ctx: Context, c: Choice) -> str:
    return c.text
