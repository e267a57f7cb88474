"""Viewpoint operations: stand somewhere facing something, turn, walk, and where things are for the viewer."""

from __future__ import annotations

import numpy as np

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import VIEWPOINTS, P, op
from spatialmem.dsl.runtime import EYE_HEIGHT_M, Context, Fail, m, unit_vector, xy
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
