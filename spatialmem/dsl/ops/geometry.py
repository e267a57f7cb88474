"""Measuring operations: distances, the room's size, unit conversion and number helpers."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import GEOMETRY, P, op
from spatialmem.dsl.runtime import Context, Fail, center_distance, closest_distance, m
from spatialmem.dsl.values import Quantity
from spatialmem.memory.scene import ObjectInstance, Room

_LENGTH = T.union(T.METRES, T.CENTIMETRES)


def room(ctx: Context) -> Room:
    """The memory's room; ``R402`` when it has none."""
    if ctx.memory.room is None:
        raise Fail(D.NO_ROOM, "the room (floor extent) of this memory is unknown",
                   "room_area()/room_extent() need a memory with a room; answer from objects instead")
    return ctx.memory.room


@op("distance", P("a", T.OBJECT), P("b", T.OBJECT), returns=T.METRES, section=GEOMETRY,
    doc="Closest-point distance between two objects' geometry (VSI-Bench definition), metres.",
    example='distance(the("sofa"), the("tv"))')
def distance(ctx: Context, a: ObjectInstance, b: ObjectInstance) -> Quantity:
    return m(closest_distance(ctx, a, b))


@op("center_distance", P("a", T.OBJECT), P("b", T.OBJECT), returns=T.METRES, section=GEOMETRY,
    doc="Distance between two objects' box centres, metres.", example='center_distance(the("sofa"), the("tv"))')
def center_distance_op(ctx: Context, a: ObjectInstance, b: ObjectInstance) -> Quantity:
    return m(center_distance(a, b))


@op("room_area", returns=T.SQ_METRES, section=GEOMETRY, doc="Floor area of the room, square metres.",
    example="answer(room_area())")
def room_area(ctx: Context) -> Quantity:
    return Quantity(float(room(ctx).area_m2), "m2")


@op("room_extent", returns=T.list_of(T.METRES), section=GEOMETRY,
    doc="[x size, y size] of the floor's bounding box, metres.", example="e = room_extent()")
def room_extent(ctx: Context) -> tuple[Quantity, Quantity]:
    poly = np.asarray(room(ctx).floor_polygon, dtype=np.float64).reshape(-1, 2)
    ext = poly.max(axis=0) - poly.min(axis=0)
    return (m(ext[0]), m(ext[1]))


@op("room_height", returns=T.METRES, section=GEOMETRY, doc="Floor-to-ceiling height, metres.",
    example="h = room_height()")
def room_height(ctx: Context) -> Quantity:
    r = room(ctx)
    if r.ceiling_z is None:
        raise Fail(D.NO_ROOM, "the ceiling height of this memory is unknown", "answer from object heights instead")
    return m(r.ceiling_z - r.floor_z)


@op("floor_height", returns=T.METRES, section=GEOMETRY,
    doc="Height (z) of the floor in the memory's frame, metres: subtract it for heights above the floor.",
    example="h = camera(0).position[2] - floor_height()")
def floor_height(ctx: Context) -> Quantity:
    return m(room(ctx).floor_z)


@op("to_cm", P("x", _LENGTH), returns=T.CENTIMETRES, section=GEOMETRY, doc="Convert a length to centimetres.",
    example='to_cm(the("sofa").longest_side)')
def to_cm(ctx: Context, x: Quantity) -> Quantity:
    return Quantity(x.value if x.unit == "cm" else x.value * 100.0, "cm")


@op("to_m", P("x", _LENGTH), returns=T.METRES, section=GEOMETRY, doc="Convert a length to metres.",
    example="to_m(to_cm(1.5))")
def to_m(ctx: Context, x: Quantity) -> Quantity:
    return m(x.value / 100.0 if x.unit == "cm" else x.value)


@op("abs", P("x", T.NUM), returns=T.NUM, section=GEOMETRY, doc="Absolute value (keeps the unit).",
    example='abs(the("bed").height - the("sofa").height)', unit_from="x")
def abs_op(ctx: Context, x: Quantity) -> Quantity:
    return Quantity(abs(x.value), x.unit)


def _numbers(values: tuple[Quantity, ...], what: str) -> tuple[Quantity, ...]:
    if not values:
        raise Fail(D.EMPTY, f"{what}(...) of an empty list", "pass at least one number")
    return values


@op("min", P("values", T.list_of(T.NUM)), returns=T.NUM, section=GEOMETRY,
    doc="Smallest number of a list (same units).",
    example='min([distance(the("bed"), the("tv")), distance(the("sofa"), the("tv"))])', unit_from="values")
def min_op(ctx: Context, values: tuple[Quantity, ...]) -> Quantity:
    return min(_numbers(values, "min"), key=lambda q: q.value)


@op("max", P("values", T.list_of(T.NUM)), returns=T.NUM, section=GEOMETRY,
    doc="Largest number of a list (same units).", example="max(room_extent())", unit_from="values")
def max_op(ctx: Context, values: tuple[Quantity, ...]) -> Quantity:
    return max(_numbers(values, "max"), key=lambda q: q.value)
