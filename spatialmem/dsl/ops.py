"""THE operation table of the query language: every operation and attribute is declared once here.

Each :class:`Op` has a typed signature (positional-or-keyword :class:`Param` s with defaults), a return
type, a one-line description, an example and its implementation (in :mod:`.impls`). The checker
(:mod:`.check`), the interpreter (:mod:`.interpreter`), ``docs/dsl.md`` and the text given to language
models (:mod:`.docs`) are all generated from :data:`OPS` and :data:`ATTRIBUTES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from spatialmem.dsl import impls as I
from spatialmem.dsl import types as T
from spatialmem.dsl.values import Quantity
from spatialmem.geometry.directions import SCHEMES

REQUIRED = object()
MAX_LIST_ITEMS = 64


@dataclass(frozen=True)
class Param:
    """One parameter. ``category``: its text (or list of texts) names memory categories, checked statically.

    ``choices``: the allowed values of a Text parameter. ``max_items``: the largest list accepted.
    """

    name: str
    type: T.Type
    default: object = REQUIRED
    category: bool = False
    choices: tuple[str, ...] = ()
    max_items: int = MAX_LIST_ITEMS

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class Op:
    """One operation: name, parameters, return type, section, one-line doc, example, implementation.

    ``unit_from``: name of a parameter whose number unit (or list element unit) the result takes.
    """

    name: str
    params: tuple[Param, ...]
    returns: T.Type
    section: str
    doc: str
    example: str
    impl: Callable
    unit_from: str | None = None

    def signature(self) -> str:
        parts = []
        for p in self.params:
            if p.default is None:  # optional: may be left out
                shown = [o for o in p.type.options if o.kind != "Nothing"] if p.type.kind == "Union" else [p.type]
                parts.append(f"[{p.name}: {' | '.join(str(o) for o in shown)}]")
                continue
            s = f"{p.name}: {p.type}"
            if not p.required:
                s += f" = {_literal(p.default)}"
            parts.append(s)
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"


@dataclass(frozen=True)
class Attribute:
    """``value.name`` for values of kind ``owner``."""

    owner: str
    name: str
    type: T.Type
    doc: str
    impl: Callable


def _literal(v) -> str:
    if v is None:
        return "none"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Quantity):
        return f"{v.value:g}"
    return str(v)


def P(name, type_, default=REQUIRED, **kw) -> Param:
    return Param(name, type_, default, **kw)


_CAT = T.TEXT
_CATS = T.TEXTS
_OBJ_OR_CATS = T.union(T.OBJECTS, T.TEXTS)
_OPT_OBJ = T.union(T.OBJECT, T.NOTHING)
_OPT_M = T.union(T.METRES, T.NOTHING)
_METRIC = P("metric", T.TEXT, "closest", choices=("closest", "center"))

_OP_LIST: tuple[Op, ...] = (
    # ---------------------------------------------------------------- objects
    Op("objects", (P("category", _CAT, category=True),), T.OBJECTS, "Objects",
       "All remembered objects of a category (possibly none).", 'chairs = objects("chair")', I.op_objects),
    Op("all_objects", (), T.OBJECTS, "Objects", "Every remembered object.", "n = count(all_objects())",
       I.op_all_objects),
    Op("the", (P("category", _CAT, category=True),), T.OBJECT, "Objects",
       "The single object of a category; a runtime error (R400) lists them when there is not exactly one.",
       'sofa = the("sofa")', I.op_the),
    Op("object", (P("id", T.PLAIN),), T.OBJECT, "Objects", "The object with this id.", "o = object(3)",
       I.op_object),
    Op("count", (P("what", T.union(T.OBJECTS, _CAT), category=True),), T.COUNT, "Objects",
       "How many objects: of a set, or of a category name.", 'answer(count(objects("chair")))', I.op_count),
    Op("categories", (), T.TEXTS, "Objects", "The category names in the memory, sorted.", "cats = categories()",
       I.op_categories),
    Op("first", (P("objects", T.OBJECTS),), T.OBJECT, "Objects", "The first object of a (sorted) set.",
       'first(sort_by(objects("chair"), key="height"))', I.op_first),
    Op("nearest", (P("to", T.OBJECT), P("among", _OBJ_OR_CATS, category=True), _METRIC), T.OBJECT, "Objects",
       "The candidate closest to `to` (closest-point distance; a category counts by its nearest instance).",
       'nearest(the("bed"), among=["chair", "lamp"])', I.op_nearest),
    Op("farthest", (P("to", T.OBJECT), P("among", _OBJ_OR_CATS, category=True), _METRIC), T.OBJECT, "Objects",
       "The candidate farthest from `to` (a category counts by its nearest instance).",
       'farthest(the("bed"), among=objects("chair"))', I.op_farthest),
    Op("sort_by", (P("objects", T.OBJECTS), P("key", T.TEXT, "distance", choices=I._SORT_KEYS),
                   P("to", _OPT_OBJ, None), P("descending", T.BOOL, False)), T.OBJECTS, "Objects",
       "Objects sorted by a key (distance/center_distance need `to`), ascending unless descending=true.",
       'sort_by(objects("chair"), key="distance", to=the("tv"))', I.op_sort_by),
    Op("where", (P("objects", T.OBJECTS), P("category", T.union(_CAT, T.NOTHING), None, category=True),
                 P("near", _OPT_OBJ, None), P("within", _OPT_M, None), P("beyond", _OPT_M, None)),
       T.OBJECTS, "Objects",
       "Objects filtered by category and/or closest-point distance to `near` (within: <=, beyond: >).",
       'where(objects("chair"), near=the("table"), within=1.0)', I.op_where),
    # ---------------------------------------------------------------- geometry
    Op("distance", (P("a", T.OBJECT), P("b", T.OBJECT)), T.METRES, "Geometry",
       "Closest-point distance between two objects' geometry (VSI-Bench definition), metres.",
       'distance(the("sofa"), the("tv"))', I.op_distance),
    Op("center_distance", (P("a", T.OBJECT), P("b", T.OBJECT)), T.METRES, "Geometry",
       "Distance between two objects' box centres, metres.", 'center_distance(the("sofa"), the("tv"))',
       I.op_center_distance),
    Op("room_area", (), T.SQ_METRES, "Geometry", "Floor area of the room, square metres.", "answer(room_area())",
       I.op_room_area),
    Op("room_extent", (), T.list_of(T.METRES), "Geometry", "[x size, y size] of the floor's bounding box, metres.",
       "e = room_extent()", I.op_room_extent),
    Op("room_height", (), T.METRES, "Geometry", "Floor-to-ceiling height, metres.", "h = room_height()",
       I.op_room_height),
    Op("to_cm", (P("x", T.union(T.METRES, T.CENTIMETRES)),), T.CENTIMETRES, "Geometry",
       "Convert a length to centimetres.", 'to_cm(the("sofa").longest_side)', I.op_to_cm),
    Op("to_m", (P("x", T.union(T.METRES, T.CENTIMETRES)),), T.METRES, "Geometry", "Convert a length to metres.",
       "to_m(to_cm(1.5))", I.op_to_m),
    Op("abs", (P("x", T.NUM),), T.NUM, "Geometry", "Absolute value (keeps the unit).",
       'abs(the("bed").height - the("sofa").height)', I.op_abs, unit_from="x"),
    Op("min", (P("values", T.list_of(T.NUM)),), T.NUM, "Geometry", "Smallest number of a list (same units).",
       'min([distance(the("bed"), the("tv")), distance(the("sofa"), the("tv"))])', I.op_min, unit_from="values"),
    Op("max", (P("values", T.list_of(T.NUM)),), T.NUM, "Geometry", "Largest number of a list (same units).",
       'max(room_extent())', I.op_max, unit_from="values"),
    # ---------------------------------------------------------------- cameras and time
    Op("camera", (P("t", T.SECONDS),), T.CAMERA, "Cameras and time", "The camera pose closest to time t seconds.",
       "c = camera(2.5)", I.op_camera),
    Op("cameras", (), T.list_of(T.CAMERA), "Cameras and time", "The whole camera trajectory, in time order.",
       "cs = cameras()", I.op_cameras),
    Op("trajectory_length", (), T.METRES, "Cameras and time", "Length of the camera path, metres.",
       "answer(trajectory_length())", I.op_trajectory_length),
    Op("first_seen", (P("category", _CAT, category=True),), T.SECONDS, "Cameras and time",
       "When any object of the category was first seen, seconds.", 'first_seen("tv")', I.op_first_seen),
    Op("last_seen", (P("category", _CAT, category=True),), T.SECONDS, "Cameras and time",
       "When any object of the category was last seen, seconds.", 'last_seen("tv")', I.op_last_seen),
    Op("appearance_order", (P("categories", _CATS, category=True),), T.TEXTS, "Cameras and time",
       "The categories sorted by when they were first seen.", 'appearance_order(["chair", "tv", "lamp"])',
       I.op_appearance_order),
    Op("view_from", (P("camera", T.CAMERA),), T.VIEW, "Viewpoints",
       "The viewpoint of a camera (its position, facing its horizontal viewing direction).",
       "v = view_from(camera(0))", I.op_view_from),
    # ---------------------------------------------------------------- viewpoints
    Op("stand_at", (P("obj", T.OBJECT), P("facing", T.OBJECT)), T.VIEW, "Viewpoints",
       "Stand at an object's centre (floor plane, eye height 1.5 m) facing another object's centre.",
       'v = stand_at(the("sofa"), facing=the("tv"))', I.op_stand_at),
    Op("turn", (P("view", T.VIEW), P("degrees", T.DEGREES)), T.VIEW, "Viewpoints",
       "Turn in place; positive degrees turn left (counter-clockwise).", "v2 = turn(v, 90)", I.op_turn),
    Op("move", (P("view", T.VIEW), P("metres", T.METRES)), T.VIEW, "Viewpoints", "Walk forward (metres).",
       "v2 = move(v, 1.5)", I.op_move),
    Op("egocentric", (P("view", T.VIEW), P("obj", T.OBJECT)), T.list_of(T.METRES), "Viewpoints",
       "[right, forward] metres of an object's centre in the viewer's frame.", 'egocentric(v, the("lamp"))',
       I.op_egocentric),
    Op("angle", (P("view", T.VIEW), P("obj", T.OBJECT)), T.DEGREES, "Viewpoints",
       "Signed angle of an object from the facing direction, degrees in (-180, 180], + = left.",
       'angle(v, the("lamp"))', I.op_angle),
    Op("direction", (P("view", T.VIEW), P("obj", T.OBJECT),
                     P("scheme", T.TEXT, "left_right", choices=tuple(SCHEMES))), T.DIRECTION, "Viewpoints",
       "Where an object is for the viewer: left_right, left_right_back (back if >= 135 deg), quadrant, clock.",
       'direction(v, the("lamp"), scheme="quadrant")', I.op_direction),
    Op("route", (P("view", T.VIEW), P("waypoints", T.list_of(T.OBJECT))), T.ROUTE, "Viewpoints",
       "Walk from the view to each waypoint's centre in turn; the turns made before each leg after the first.",
       'route(v, [the("door"), the("table"), the("sofa")])', I.op_route),
    Op("face", (P("view", T.VIEW), P("obj", T.OBJECT), P("at", T.TEXT, "centre", choices=I.POINTS_ON_OBJECT)),
       T.VIEW, "Viewpoints", "Turn in place to face a point of an object (centre, or the foot / head of a bed).",
       'face(v, the("door"))', I.op_face),
    Op("turn_to", (P("view", T.VIEW), P("obj", T.OBJECT), P("at", T.TEXT, "centre", choices=I.POINTS_ON_OBJECT)),
       T.TEXT, "Viewpoints", "The turn that faces an object: 'turn left'/'turn right', 'turn back' if >= 135 deg.",
       'turn_to(v, the("door"))', I.op_turn_to),
    Op("walk_to", (P("view", T.VIEW), P("obj", T.OBJECT), P("at", T.TEXT, "centre", choices=I.POINTS_ON_OBJECT)),
       T.VIEW, "Viewpoints", "Walk straight to a point of an object; the new view faces the way walked.",
       'v2 = walk_to(v, the("bed"), at="foot")', I.op_walk_to),
    Op("nearest_from", (P("view", T.VIEW), P("category", T.TEXT, category=True)), T.OBJECT, "Viewpoints",
       "The instance of a category whose centre is nearest the viewer (floor plane).",
       'nearest_from(v, "sofa")', I.op_nearest_from),
    # ---------------------------------------------------------------- rendering
    Op("render", (P("view", T.VIEW), P("width", T.PLAIN, Quantity(320.0)), P("height", T.PLAIN, Quantity(240.0))),
       T.IMAGE, "Rendering", "Image of the memory (points, labelled boxes) seen from a viewpoint.",
       "look(render(v, width=320, height=240))", I.op_render),
    Op("topdown", (), T.IMAGE, "Rendering", "Labelled bird's-eye map of the memory.", "look(topdown())",
       I.op_topdown),
    Op("keyframe", (P("obj", T.OBJECT),), T.IMAGE, "Rendering", "The stored video frame that best shows an object.",
       'look(keyframe(the("tv")))', I.op_keyframe),
    Op("look", (P("image", T.IMAGE),), T.NOTHING, "Rendering", "Show an image to the model that asked.",
       "look(topdown())", I.op_look),
    # ---------------------------------------------------------------- answers
    Op("answer", (P("value", T.ANY),), T.NOTHING, "Answers", "Set the program's answer (required, exactly once; "
       "takes a value, not look(...) or answer(...)).",
       'answer(distance(the("sofa"), the("tv")))', I.op_answer),
    Op("choose", (P("options", T.TEXTS), P("value", T.ANY)), T.CHOICE, "Answers",
       "Map a computed value (number, direction, route, object, ordered list, yes/no) onto an option letter.",
       'choose(["A. left", "B. right"], direction(v, the("lamp")))', I.op_choose),
)

OPS: dict[str, Op] = {op.name: op for op in _OP_LIST}
SECTIONS: tuple[str, ...] = ("Objects", "Geometry", "Cameras and time", "Viewpoints", "Rendering", "Answers")


def _center(ctx, o):
    return tuple(I.m(v) for v in o.box.center)


def _pt(values, unit="m"):
    return tuple(Quantity(float(v), unit) for v in values)


def _time_or_fail(t, what, o):
    if t is None:
        raise I.Fail("R404", f"the {what} time of {o.category} #{o.id} is unknown",
                     "this memory has no observation times (e.g. imported from boxes)")
    return Quantity(float(t), "s")


_ATTR_LIST: tuple[Attribute, ...] = (
    Attribute("Object", "center", T.POINT, "Box centre [x, y, z], metres.", _center),
    Attribute("Object", "size", T.POINT, "Box size [sx, sy, sz] along its axes, metres.",
              lambda ctx, o: _pt(o.box.size)),
    Attribute("Object", "height", T.METRES, "Vertical size of the box, metres.",
              lambda ctx, o: I.m(o.box.z_max - o.box.z_min)),
    Attribute("Object", "longest_side", T.METRES, "Longest box side, metres.",
              lambda ctx, o: I.m(o.box.longest_side)),
    Attribute("Object", "volume", T.CU_METRES, "Box volume, cubic metres.",
              lambda ctx, o: Quantity(o.box.volume, "m3")),
    Attribute("Object", "first_seen", T.SECONDS, "When it was first seen, seconds.",
              lambda ctx, o: _time_or_fail(o.first_seen_s, "first-seen", o)),
    Attribute("Object", "last_seen", T.SECONDS, "When it was last seen, seconds.",
              lambda ctx, o: _time_or_fail(o.last_seen_s, "last-seen", o)),
    Attribute("Object", "category", T.TEXT, "Its category name.", lambda ctx, o: o.category),
    Attribute("Object", "id", T.PLAIN, "Its id in the memory.", lambda ctx, o: Quantity(float(o.id))),
    Attribute("View", "position", T.list_of(T.METRES), "[x, y] on the floor plane, metres.",
              lambda ctx, v: _pt(v.position_xy)),
    Attribute("View", "facing", T.list_of(T.PLAIN), "Unit facing direction [x, y].",
              lambda ctx, v: _pt(v.facing_xy, "none")),
    Attribute("Direction", "label", T.TEXT, "The direction label, e.g. \"front-left\".", lambda ctx, d: d.label),
    Attribute("Direction", "angle", T.DEGREES, "Signed angle, degrees, + = left.",
              lambda ctx, d: Quantity(d.angle_deg, "deg")),
    Attribute("Route", "turns", T.TEXTS, "The turns, e.g. [\"turn left\", \"turn back\"].", lambda ctx, r: r.turns),
    Attribute("Camera", "position", T.POINT, "Camera centre [x, y, z], metres.",
              lambda ctx, c: _pt(np.asarray(c.world_from_camera)[:3, 3])),
    Attribute("Camera", "time", T.SECONDS, "Timestamp, seconds.", lambda ctx, c: Quantity(c.timestamp_s, "s")),
    Attribute("Choice", "letter", T.TEXT, "The option letter.", lambda ctx, c: c.letter),
    Attribute("Choice", "text", T.TEXT, "The option text.", lambda ctx, c: c.text),
)

ATTRIBUTES: dict[tuple[str, str], Attribute] = {(a.owner, a.name): a for a in _ATTR_LIST}


def attributes_of(kind: str) -> list[str]:
    """Attribute names available on values of ``kind``."""
    return [n for (k, n) in ATTRIBUTES if k == kind]
