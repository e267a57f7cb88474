"""Viewpoint operations: stand somewhere facing something, turn, walk, and where things are for the viewer."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import VIEWPOINTS, P, op
from spatialmem.dsl.runtime import EYE_HEIGHT_M, Context, Fail, instances, m, unit_vector, xy
from spatialmem.dsl.values import Direction, ObjectSet, Quantity, Route, View
from spatialmem.geometry import directions as dirs
from spatialmem.memory.scene import CameraRecord, ObjectInstance


def _view(position: np.ndarray, facing: np.ndarray, z: float) -> View:
    return View((float(position[0]), float(position[1])), (float(facing[0]), float(facing[1])), float(z))


def _floor_z(ctx: Context) -> float:
    return float(ctx.memory.room.floor_z) if ctx.memory.room is not None else 0.0


@op("view_from", P("camera", T.CAMERA), returns=T.VIEW, section=VIEWPOINTS,
    doc="The viewpoint of a camera (its position, facing its horizontal viewing direction).",
    example="v = view_from(camera(0))")
def view_from(ctx: Context, camera: CameraRecord) -> View:
    pose = np.asarray(camera.world_from_camera, dtype=np.float64)
    facing = unit_vector(pose[:2, 2], "the camera's viewing direction")
    return _view(pose[:2, 3], facing, pose[2, 3])


@op("stand_at", P("obj", T.OBJECT), P("facing", T.OBJECT), returns=T.VIEW, section=VIEWPOINTS,
    doc="Stand at an object's centre (floor plane, eye height 1.5 m) facing another object's centre.",
    example='v = stand_at(the("sofa"), facing=the("tv"))')
def stand_at(ctx: Context, obj: ObjectInstance, facing: ObjectInstance) -> View:
    pos = xy(obj)
    f = unit_vector(xy(facing) - pos, f"facing {facing.category} from {obj.category}")
    return _view(pos, f, _floor_z(ctx) + EYE_HEIGHT_M)


@op("turn", P("view", T.VIEW), P("degrees", T.DEGREES), returns=T.VIEW, section=VIEWPOINTS,
    doc="Turn in place; positive degrees turn left (counter-clockwise).", example="v2 = turn(v, 90)")
def turn(ctx: Context, view: View, degrees: Quantity) -> View:
    a = np.radians(degrees.value)
    c, s = np.cos(a), np.sin(a)
    fx, fy = view.facing_xy
    return View(view.position_xy, (float(c * fx - s * fy), float(s * fx + c * fy)), view.z)


@op("move", P("view", T.VIEW), P("metres", T.METRES), returns=T.VIEW, section=VIEWPOINTS,
    doc="Walk forward (metres).", example="v2 = move(v, 1.5)")
def move(ctx: Context, view: View, metres: Quantity) -> View:
    fx, fy = view.facing_xy
    px, py = view.position_xy
    return View((px + fx * metres.value, py + fy * metres.value), view.facing_xy, view.z)


@op("egocentric", P("view", T.VIEW), P("obj", T.OBJECT), returns=T.list_of(T.METRES), section=VIEWPOINTS,
    doc="[right, forward] metres of an object's centre in the viewer's frame.", example='egocentric(v, the("lamp"))')
def egocentric(ctx: Context, view: View, obj: ObjectInstance) -> tuple[Quantity, Quantity]:
    right, forward = dirs.egocentric(view.position_xy, view.facing_xy, xy(obj))
    return (m(right), m(forward))


@op("angle", P("view", T.VIEW), P("obj", T.OBJECT), returns=T.DEGREES, section=VIEWPOINTS,
    doc="Signed angle of an object from the facing direction, degrees in (-180, 180], + = left.",
    example='angle(v, the("lamp"))')
def angle(ctx: Context, view: View, obj: ObjectInstance) -> Quantity:
    return Quantity(dirs.view_angle_deg(view.position_xy, view.facing_xy, xy(obj)), "deg")


@op("direction", P("view", T.VIEW), P("obj", T.OBJECT), P("scheme", T.TEXT, "left_right", choices=tuple(dirs.SCHEMES)),
    returns=T.DIRECTION, section=VIEWPOINTS,
    doc="Where an object is for the viewer: left_right, left_right_back (back if >= 135 deg), quadrant, clock.",
    example='direction(v, the("lamp"), scheme="quadrant")')
def direction(ctx: Context, view: View, obj: ObjectInstance, scheme: str) -> Direction:
    a = dirs.view_angle_deg(view.position_xy, view.facing_xy, xy(obj))
    return Direction(dirs.classify_direction(a, scheme), scheme, a)


@op("route", P("view", T.VIEW), P("waypoints", T.list_of(T.OBJECT)), returns=T.ROUTE, section=VIEWPOINTS,
    doc="Walk from the view to each waypoint's centre in turn; the turns made before each leg after the first.",
    example='route(v, [the("door"), the("table"), the("sofa")])')
def route(ctx: Context, view: View, waypoints: ObjectSet | tuple[ObjectInstance, ...]) -> Route:
    items = waypoints.items if isinstance(waypoints, ObjectSet) else waypoints
    if not items:
        raise Fail(D.EMPTY, "route(...) needs at least one waypoint", "e.g. route(v, [the(\"door\"), the(\"sofa\")])")
    pts = [np.asarray(view.position_xy, dtype=np.float64)] + [xy(o) for o in items]
    legs = [pts[i + 1] - pts[i] for i in range(len(pts) - 1)]
    turns = []
    for i in range(1, len(legs)):
        if np.linalg.norm(legs[i - 1]) < 1e-9 or np.linalg.norm(legs[i]) < 1e-9:
            raise Fail(D.DEGENERATE, f"waypoints {i} and {i + 1} of the route are at the same place",
                       "list each place once, in walking order")
        turns.append(dirs.classify_turn(dirs.signed_angle_deg(legs[i - 1], legs[i])))
    return Route(tuple(turns), tuple((float(p[0]), float(p[1])) for p in pts[1:]))


# ------------------------------------------------------------------ walking (route questions, docs/benchmark.md)
POINTS_ON_OBJECT: tuple[str, ...] = ("centre", "foot", "head")


def _nearest_wall_m(ctx: Context, point_xy: np.ndarray) -> float:
    """Floor-plane distance (m) from a point to the room outline; inf when the memory has no room."""
    room = ctx.memory.room
    if room is None or len(room.floor_polygon) < 3:
        return float("inf")
    a = np.asarray(room.floor_polygon, dtype=np.float64)
    d = np.roll(a, -1, axis=0) - a
    t = np.clip(np.einsum("ij,ij->i", point_xy - a, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-12), 0.0, 1.0)
    return float(np.min(np.linalg.norm(a + t[:, None] * d - point_xy, axis=1)))


def point_on(ctx: Context, obj: ObjectInstance, at: str) -> np.ndarray:
    """(2,) floor point of ``obj``: its centre, or the middle of the foot / head end of its longest floor side.

    The head end is the end of the long axis nearer a wall (a bed's headboard stands against one); with
    no room outline, the end nearer the memory's other objects. The foot is the opposite end.
    """
    c = xy(obj)
    if at == "centre":
        return c
    box = obj.box.gravity_aligned()
    k = int(np.argmax(box.size[:2]))
    axis = box.axes[k, :2] / max(float(np.linalg.norm(box.axes[k, :2])), 1e-12)
    ends = [c + axis * box.size[k] / 2.0, c - axis * box.size[k] / 2.0]
    walls = [_nearest_wall_m(ctx, e) for e in ends]
    if not np.isfinite(walls).all():
        others = [xy(o) for o in ctx.memory.instances if o.id != obj.id] or [c]
        walls = [float(min(np.linalg.norm(e - q) for q in others)) for e in ends]
    head = 0 if walls[0] <= walls[1] else 1
    return ends[head] if at == "head" else ends[1 - head]


_AT = P("at", T.TEXT, "centre", choices=POINTS_ON_OBJECT)


@op("face", P("view", T.VIEW), P("obj", T.OBJECT), _AT, returns=T.VIEW, section=VIEWPOINTS,
    doc="Turn in place to face a point of an object (centre, or the foot / head of a bed).",
    example='face(v, the("door"))')
def face(ctx: Context, view: View, obj: ObjectInstance, at: str) -> View:
    f = unit_vector(point_on(ctx, obj, at) - np.asarray(view.position_xy), f"facing {obj.category} from the view")
    return _view(np.asarray(view.position_xy), f, view.z)


@op("turn_to", P("view", T.VIEW), P("obj", T.OBJECT), _AT, returns=T.TEXT, section=VIEWPOINTS,
    doc="The turn that faces an object: 'turn left' / 'turn right', 'turn back' from 135 deg.",
    example='turn_to(v, the("door"))')
def turn_to(ctx: Context, view: View, obj: ObjectInstance, at: str) -> str:
    return dirs.classify_turn(dirs.view_angle_deg(view.position_xy, view.facing_xy, point_on(ctx, obj, at)))


@op("walk_to", P("view", T.VIEW), P("obj", T.OBJECT), _AT, returns=T.VIEW, section=VIEWPOINTS,
    doc="Walk straight to a point of an object; the new view faces the way walked.",
    example='v2 = walk_to(v, the("bed"), at="foot")')
def walk_to(ctx: Context, view: View, obj: ObjectInstance, at: str) -> View:
    target = point_on(ctx, obj, at)
    step = target - np.asarray(view.position_xy)
    n = float(np.linalg.norm(step))
    return _view(target, step / n if n > 1e-9 else np.asarray(view.facing_xy), view.z)


@op("nearest_from", P("view", T.VIEW), P("category", T.TEXT, category=True), returns=T.OBJECT, section=VIEWPOINTS,
    doc="The instance of a category whose centre is nearest the viewer (floor plane).",
    example='nearest_from(v, "sofa")')
def nearest_from(ctx: Context, view: View, category: str) -> ObjectInstance:
    insts = instances(ctx, category)
    if not insts:
        raise Fail(D.EMPTY, f'there is no "{category}" in the memory', "see categories() for what exists")
    p = np.asarray(view.position_xy)
    return min(insts, key=lambda o: (float(np.linalg.norm(xy(o) - p)), o.id))
