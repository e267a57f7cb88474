"""Implementations of the query-language operations (declared, typed and documented in :mod:`.ops`).

Every function takes the run context first and then the arguments in declared order, already
type-checked. Failures raise :class:`Fail` (a runtime diagnostic code, message and hint); the
interpreter attaches the source position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from spatialmem.dsl import measure
from spatialmem.dsl.measure import memory_cache
from spatialmem.dsl.values import Choice, Direction, Image, ObjectSet, Quantity, Route, View, answer_text, kind_of
from spatialmem.geometry import directions as dirs
from spatialmem.memory.scene import ObjectInstance, SceneMemory
from spatialmem.vocab import category_hint

MAX_IMAGE_SIDE = 2048
MAX_LOOKS = 8
EYE_HEIGHT_M = 1.5


class Fail(Exception):
    """A runtime failure of an operation: diagnostic ``code``, message and repair hint."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint


@dataclass
class Context:
    """What operations may touch while a program runs: the memory, the answer and the shown images."""

    memory: SceneMemory
    images: list = field(default_factory=list)
    answer: object = None
    answered: bool = False

    @property
    def cache(self) -> dict:
        return memory_cache(self.memory)


def closest_distance(ctx: Context, a: ObjectInstance, b: ObjectInstance) -> float:
    """Closest-point distance (m) between two instances of the run's memory (cached per memory)."""
    return measure.closest_distance(ctx.memory, a, b)


# ------------------------------------------------------------------ helpers
def m(x: float) -> Quantity:
    return Quantity(float(x), "m")


def _describe(o: ObjectInstance) -> str:
    c = o.box.center
    return f"{o.category} #{o.id} at ({c[0]:.2f}, {c[1]:.2f}, {c[2]:.2f})"


def _instances(ctx: Context, category: str) -> list[ObjectInstance]:
    insts = ctx.memory.by_category(str(category))
    if not insts:
        cats = ctx.memory.categories()
        name = str(category).strip().lower()
        if name not in cats:
            raise Fail("E240", f'category "{category}" is not in this memory', category_hint(name, cats))
    return insts


def _center_distance(a: ObjectInstance, b: ObjectInstance) -> float:
    return float(np.linalg.norm(a.box.center - b.box.center))


def _candidates(ctx: Context, to: ObjectInstance, among) -> list[list[ObjectInstance]]:
    """Groups of candidates: one group per category for a category list, one per object otherwise."""
    if isinstance(among, ObjectSet):
        groups = [[o] for o in among.items if o is not to]
    else:
        groups = []
        for cat in among:
            insts = [o for o in _instances(ctx, cat) if o is not to]
            if insts:
                groups.append(insts)
    if not groups:
        raise Fail("R401", "there is nothing to choose from (no candidate objects other than the reference)",
                    "check the candidate categories with categories() or count(...)")
    return groups


def _extreme(ctx: Context, to, among, metric: str, farthest: bool) -> ObjectInstance:
    dist = closest_distance if metric == "closest" else (lambda _c, a, b: _center_distance(a, b))
    best, best_d = None, None
    for group in _candidates(ctx, to, among):
        ds = [dist(ctx, to, o) for o in group]
        i = int(np.argmin(ds))
        d = ds[i]
        if best is None or (d > best_d if farthest else d < best_d):
            best, best_d = group[i], d
    return best


def _first_seen(o: ObjectInstance) -> float:
    if o.first_seen_s is None:
        raise Fail("R404", f"the first time {_describe(o)} was seen is unknown",
                   "this memory has no observation times (e.g. imported from boxes); use another cue")
    return float(o.first_seen_s)


def _category_first_seen(ctx: Context, category: str) -> float:
    insts = _instances(ctx, category)
    if not insts:
        raise Fail("R401", f'there is no "{category}" in the memory', "see categories() for what exists")
    return min(_first_seen(o) for o in insts)


def _xy(o: ObjectInstance) -> np.ndarray:
    return np.asarray(o.box.center[:2], dtype=np.float64)


def _unit(v: np.ndarray, what: str) -> np.ndarray:
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise Fail("R404", f"{what} has no direction (the two positions coincide on the floor plane)",
                   "pick a different reference object to face")
    return v / n


def _view_tuple(position: np.ndarray, facing: np.ndarray, z: float) -> View:
    return View((float(position[0]), float(position[1])), (float(facing[0]), float(facing[1])), float(z))


def _floor_z(ctx: Context) -> float:
    return float(ctx.memory.room.floor_z) if ctx.memory.room is not None else 0.0


def _room(ctx: Context):
    if ctx.memory.room is None:
        raise Fail("R402", "the room (floor extent) of this memory is unknown",
                   "room_area()/room_extent() need a memory with a room; answer from objects instead")
    return ctx.memory.room


# ------------------------------------------------------------------ objects
def op_objects(ctx, category):
    return ObjectSet(tuple(_instances(ctx, category)))


def op_all_objects(ctx):
    return ObjectSet(tuple(ctx.memory.instances))


def op_the(ctx, category):
    insts = _instances(ctx, category)
    if len(insts) == 1:
        return insts[0]
    if not insts:
        raise Fail("R401", f'there is no "{category}" in the memory', "see categories() for what exists")
    listing = "; ".join(_describe(o) for o in insts[:8])
    raise Fail("R400", f'the("{category}") needs exactly one {category} but the memory has {len(insts)}: {listing}',
               f'use objects("{category}") with nearest(...), farthest(...), sort_by(...) or where(...), '
               f'or count(objects("{category}"))')


def op_object(ctx, ident):
    want = int(round(ident.value))
    for o in ctx.memory.instances:
        if o.id == want:
            return o
    ids = ", ".join(str(o.id) for o in ctx.memory.instances[:20])
    raise Fail("R404", f"there is no object with id {want}", f"existing ids: {ids}")


def op_count(ctx, what):
    n = len(what.items) if isinstance(what, ObjectSet) else len(_instances(ctx, what))
    return Quantity(float(n), "count")


def op_categories(ctx):
    return tuple(ctx.memory.categories())


def op_first(ctx, objs):
    if not objs.items:
        raise Fail("R401", "first(...) of an empty set of objects", "check count(...) first")
    return objs.items[0]


def op_nearest(ctx, to, among, metric):
    return _extreme(ctx, to, among, metric, farthest=False)


def op_farthest(ctx, to, among, metric):
    return _extreme(ctx, to, among, metric, farthest=True)


_SORT_KEYS = ("distance", "center_distance", "height", "volume", "longest_side", "first_seen", "last_seen",
              "x", "y", "z")


def op_sort_by(ctx, objs, key, to, descending):
    if key in ("distance", "center_distance") and to is None:
        raise Fail("R404", f"sort_by(..., key={key!r}) needs a reference object: to=the(...)",
                   'e.g. sort_by(objects("chair"), key="distance", to=the("bed"))')

    def k(o: ObjectInstance) -> float:
        if key == "distance":
            return closest_distance(ctx, to, o)
        if key == "center_distance":
            return _center_distance(to, o)
        if key == "height":
            return float(o.box.size[2])
        if key == "volume":
            return o.box.volume
        if key == "longest_side":
            return o.box.longest_side
        if key == "first_seen":
            return _first_seen(o)
        if key == "last_seen":
            return float(o.last_seen_s) if o.last_seen_s is not None else float("inf")
        return float(o.box.center["xyz".index(key)])

    ranked = sorted(objs.items, key=lambda o: (k(o), o.id))
    return ObjectSet(tuple(reversed(ranked)) if descending else tuple(ranked))


def op_where(ctx, objs, category, near, within, beyond):
    if (within is not None or beyond is not None) and near is None:
        raise Fail("R404", "where(..., within=/beyond=) needs a reference object: near=the(...)",
                   'e.g. where(objects("chair"), near=the("table"), within=1.0)')
    out = []
    for o in objs.items:
        if category is not None and o.category != str(category).strip().lower():
            continue
        if near is not None and o is near:
            continue
        if near is not None and (within is not None or beyond is not None):
            d = closest_distance(ctx, near, o)
            if within is not None and d > within.value:
                continue
            if beyond is not None and d <= beyond.value:
                continue
        out.append(o)
    return ObjectSet(tuple(out))


# ------------------------------------------------------------------ geometry
def op_distance(ctx, a, b):
    return m(closest_distance(ctx, a, b))


def op_center_distance(ctx, a, b):
    return m(_center_distance(a, b))


def op_room_area(ctx):
    return Quantity(float(_room(ctx).area_m2), "m2")


def op_room_extent(ctx):
    poly = np.asarray(_room(ctx).floor_polygon, dtype=np.float64).reshape(-1, 2)
    ext = poly.max(axis=0) - poly.min(axis=0)
    return (m(ext[0]), m(ext[1]))


def op_room_height(ctx):
    room = _room(ctx)
    if room.ceiling_z is None:
        raise Fail("R402", "the ceiling height of this memory is unknown", "answer from object heights instead")
    return m(room.ceiling_z - room.floor_z)


def op_to_cm(ctx, x):
    return Quantity(x.value if x.unit == "cm" else x.value * 100.0, "cm")


def op_to_m(ctx, x):
    return m(x.value / 100.0 if x.unit == "cm" else x.value)


def op_abs(ctx, x):
    return Quantity(abs(x.value), x.unit)


def _numbers(xs, what: str):
    if not xs:
        raise Fail("R401", f"{what}(...) of an empty list", "pass at least one number")
    return xs


def op_min(ctx, xs):
    return min(_numbers(xs, "min"), key=lambda q: q.value)


def op_max(ctx, xs):
    return max(_numbers(xs, "max"), key=lambda q: q.value)


# ------------------------------------------------------------------ cameras and time
def _cameras(ctx):
    if not ctx.memory.cameras:
        raise Fail("R407", "this memory has no camera trajectory", "imported memories have no cameras")
    return ctx.memory.cameras


def op_camera(ctx, t):
    cams = _cameras(ctx)
    return min(cams, key=lambda c: (abs(c.timestamp_s - t.value), c.timestamp_s))


def op_cameras(ctx):
    return tuple(_cameras(ctx))


def op_trajectory_length(ctx):
    cams = _cameras(ctx)
    pos = np.array([np.asarray(c.world_from_camera)[:3, 3] for c in cams], dtype=np.float64)
    return m(float(np.linalg.norm(np.diff(pos, axis=0), axis=1).sum()) if len(pos) > 1 else 0.0)


def op_first_seen(ctx, category):
    return Quantity(_category_first_seen(ctx, category), "s")


def op_last_seen(ctx, category):
    insts = _instances(ctx, category)
    times = [o.last_seen_s for o in insts if o.last_seen_s is not None]
    if not times:
        raise Fail("R404", f"when {category!r} was last seen is unknown", "the memory has no observation times")
    return Quantity(float(max(times)), "s")


def op_appearance_order(ctx, cats):
    keyed = [(_category_first_seen(ctx, c), i, c) for i, c in enumerate(cats)]
    return tuple(c for _, _, c in sorted(keyed))


def op_view_from(ctx, cam):
    T = np.asarray(cam.world_from_camera, dtype=np.float64)
    facing = _unit(T[:2, 2], "the camera's viewing direction")
    return _view_tuple(T[:2, 3], facing, T[2, 3])


# ------------------------------------------------------------------ viewpoints
def op_stand_at(ctx, obj, facing):
    pos = _xy(obj)
    f = _unit(_xy(facing) - pos, f"facing {facing.category} from {obj.category}")
    return _view_tuple(pos, f, _floor_z(ctx) + EYE_HEIGHT_M)


def op_turn(ctx, view, degrees):
    a = np.radians(degrees.value)
    c, s = np.cos(a), np.sin(a)
    fx, fy = view.facing_xy
    return View(view.position_xy, (float(c * fx - s * fy), float(s * fx + c * fy)), view.z)


def op_move(ctx, view, metres):
    fx, fy = view.facing_xy
    px, py = view.position_xy
    return View((px + fx * metres.value, py + fy * metres.value), view.facing_xy, view.z)


def op_egocentric(ctx, view, obj):
    right, forward = dirs.egocentric(view.position_xy, view.facing_xy, _xy(obj))
    return (m(right), m(forward))


def op_angle(ctx, view, obj):
    return Quantity(dirs.view_angle_deg(view.position_xy, view.facing_xy, _xy(obj)), "deg")


def op_direction(ctx, view, obj, scheme):
    a = dirs.view_angle_deg(view.position_xy, view.facing_xy, _xy(obj))
    return Direction(dirs.classify_direction(a, scheme), scheme, a)


def op_route(ctx, view, waypoints):
    items = waypoints.items if isinstance(waypoints, ObjectSet) else waypoints
    if not items:
        raise Fail("R401", "route(...) needs at least one waypoint", "e.g. route(v, [the(\"door\"), the(\"sofa\")])")
    pts = [np.asarray(view.position_xy, dtype=np.float64)] + [_xy(o) for o in items]
    legs = [pts[i + 1] - pts[i] for i in range(len(pts) - 1)]
    turns = []
    for i in range(1, len(legs)):
        if np.linalg.norm(legs[i - 1]) < 1e-9 or np.linalg.norm(legs[i]) < 1e-9:
            raise Fail("R404", f"waypoints {i} and {i + 1} of the route are at the same place",
                       "list each place once, in walking order")
        turns.append(dirs.classify_turn(dirs.signed_angle_deg(legs[i - 1], legs[i])))
    return Route(tuple(turns), tuple((float(p[0]), float(p[1])) for p in pts[1:]))


# ------------------------------------------------------------------ walking (route questions, docs/benchmark.md)
POINTS_ON_OBJECT: tuple[str, ...] = ("centre", "foot", "head")


def _nearest_wall_m(ctx: Context, xy: np.ndarray) -> float:
    room = ctx.memory.room
    if room is None or len(room.floor_polygon) < 3:
        return float("inf")
    poly = np.asarray(room.floor_polygon, dtype=np.float64)
    a, b = poly, np.roll(poly, -1, axis=0)
    d = b - a
    t = np.clip(np.einsum("ij,ij->i", xy - a, d) / np.maximum(np.einsum("ij,ij->i", d, d), 1e-12), 0.0, 1.0)
    return float(np.min(np.linalg.norm(a + t[:, None] * d - xy, axis=1)))


def point_on(ctx: Context, obj: ObjectInstance, at: str) -> np.ndarray:
    """(2,) floor point of ``obj``: its centre, or the middle of the foot / head end of its longest floor side.

    The head end is the end of the long axis nearer a wall (a bed's headboard stands against one); with
    no room outline, the end nearer the memory's other objects. The foot is the opposite end.
    """
    c = _xy(obj)
    if at == "centre":
        return c
    box = obj.box.gravity_aligned()
    k = int(np.argmax(box.size[:2]))
    axis = box.axes[k, :2] / max(float(np.linalg.norm(box.axes[k, :2])), 1e-12)
    ends = [c + axis * box.size[k] / 2.0, c - axis * box.size[k] / 2.0]
    walls = [_nearest_wall_m(ctx, e) for e in ends]
    if not np.isfinite(walls).all():
        others = [_xy(o) for o in ctx.memory.instances if o.id != obj.id] or [c]
        walls = [float(min(np.linalg.norm(e - q) for q in others)) for e in ends]
    head = 0 if walls[0] <= walls[1] else 1
    return ends[head] if at == "head" else ends[1 - head]


def op_face(ctx, view, obj, at):
    f = _unit(point_on(ctx, obj, at) - np.asarray(view.position_xy), f"facing {obj.category} from the view")
    return _view_tuple(np.asarray(view.position_xy), f, view.z)


def op_turn_to(ctx, view, obj, at):
    a = dirs.view_angle_deg(view.position_xy, view.facing_xy, point_on(ctx, obj, at))
    return dirs.classify_turn(a)


def op_walk_to(ctx, view, obj, at):
    target = point_on(ctx, obj, at)
    step = target - np.asarray(view.position_xy)
    f = step / float(np.linalg.norm(step)) if np.linalg.norm(step) > 1e-9 else np.asarray(view.facing_xy)
    return _view_tuple(target, f, view.z)


def op_nearest_from(ctx, view, category):
    insts = _instances(ctx, category)
    if not insts:
        raise Fail("R401", f'there is no "{category}" in the memory', "see categories() for what exists")
    p = np.asarray(view.position_xy)
    return min(insts, key=lambda o: (float(np.linalg.norm(_xy(o) - p)), o.id))


# ------------------------------------------------------------------ rendering
def _side(q, name: str) -> int:
    v = int(round(q.value))
    if not 16 <= v <= MAX_IMAGE_SIDE:
        raise Fail("R412", f"{name}={v} is outside 16..{MAX_IMAGE_SIDE} pixels", "use e.g. width=320, height=240")
    return v


def op_render(ctx, view, width, height):
    from spatialmem.geometry.splat import render_view

    w, h = _side(width, "width"), _side(height, "height")
    px = render_view(ctx.memory, view.position_xy, view.facing_xy, view.z, w, h)
    return Image(px, f"view from ({view.position_xy[0]:.2f}, {view.position_xy[1]:.2f})")


def op_topdown(ctx):
    try:
        from spatialmem.memory.topdown import render_topdown
    except ImportError as exc:  # pragma: no cover - depends on a teammate's module
        raise Fail("R413", f"the bird's-eye renderer is unavailable: {exc}", "use render(view) instead") from None
    return Image(np.asarray(render_topdown(ctx.memory)), "top-down map")


def op_keyframe(ctx, obj):
    frames = ctx.memory.keyframes
    by_index = {k.frame_index: k for k in frames}
    for idx in obj.keyframe_indices:
        if idx in by_index:
            return Image(by_index[idx].rgb, f"frame {idx} showing {obj.category} #{obj.id}")
    for k in frames:
        if obj.id in k.instance_ids:
            return Image(k.rgb, f"frame {k.frame_index} showing {obj.category} #{obj.id}")
    raise Fail("R403", f"no stored keyframe shows {_describe(obj)}",
               "render a view of it instead: render(stand_at(...)) or topdown()")


def op_look(ctx, image):
    if len(ctx.images) >= MAX_LOOKS:
        raise Fail("R412", f"look(...) was called more than {MAX_LOOKS} times", "show fewer, more useful images")
    ctx.images.append(image.pixels)


# ------------------------------------------------------------------ answers
def op_answer(ctx, value):
    ctx.answer, ctx.answered = value, True


_OPTION = re.compile(r"^\s*\(?([A-Za-z])[\.\):]\s*(.*)$", re.S)
_NUM = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)")


def normalize(text: str) -> str:
    """Lower case, '-' and '_' as spaces, single spaces: "Front-Left" == "front left"."""
    return " ".join(str(text).lower().replace("-", " ").replace("_", " ").split())


def parse_options(options) -> list[tuple[str, str]]:
    """``[(letter, text)]`` from options like ``"A. chair"`` (letters by position when absent)."""
    out = []
    for i, opt in enumerate(options):
        mt = _OPTION.match(str(opt))
        out.append((mt.group(1).upper(), mt.group(2).strip()) if mt else (chr(65 + i), str(opt).strip()))
    return out


def op_choose(ctx, options, value):
    opts = parse_options(options)
    if not opts:
        raise Fail("R406", "choose(...) got no options", 'pass the options as written: ["A. left", "B. right"]')
    k = kind_of(value)
    pick = None
    if k == "Number":
        best = None
        for letter, text in opts:
            mt = _NUM.search(text)
            if mt is None:
                continue
            d = abs(float(mt.group(0)) - value.value)
            if best is None or d < best:
                best, pick = d, (letter, text)
    else:
        if k == "Object":
            want = [normalize(value.category)]
        elif k in ("List", "Objects"):
            items = value.items if k == "Objects" else value
            want = [",".join(normalize(answer_text(v)) for v in items)]
        elif k == "Route":
            want = [",".join(normalize(t) for t in value.turns)]
        elif k == "Bool":
            want = ["yes", "true"] if value else ["no", "false"]
        else:
            want = [normalize(answer_text(value))]
        for letter, text in opts:
            parts = ",".join(normalize(p) for p in text.split(","))
            if parts in want or normalize(text) in want:
                pick = (letter, text)
                break
    if pick is None:
        listed = "; ".join(f"{a}. {b}" for a, b in opts)
        raise Fail("R406", f"no option matches the computed value {answer_text(value)!r} (options: {listed})",
                   "check the options and that the computed value has the same form (e.g. a category name, "
                   "a direction label, a comma-separated order)")
    return Choice(pick[0], pick[1], answer_text(value))
