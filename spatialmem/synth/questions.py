"""VSI-Bench-style questions with exact answers, generated from a scene.json dict.

Owns the generation and rejection rules of the ten question types (docs/benchmark.md explains each
one geometrically). Geometry is shared with the query language: closest-point distances are
:func:`spatialmem.geometry.boxes.parts_distance` over the objects' ``parts``; directions and turns are
:mod:`spatialmem.geometry.directions`. "Standing by the A facing the B" = at A's box centre on the floor
plane, facing B's box centre.

Visibility rules: only objects with a non-null ``first_visible_s`` appear in questions. A category is
*usable* when every one of its instances was seen (so counts and nearest-instance answers agree with
what the video shows); a *unique* category is a usable one with exactly one instance; questions that
say "the {category}" use unique categories only.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from spatialmem.errors import FormatError
from spatialmem.geometry.boxes import OrientedBox, box_distance, polygon_area
from spatialmem.geometry.directions import (
    SCHEMES,
    boundary_margin_deg,
    classify_direction,
    classify_turn,
    view_angle_deg,
)
from spatialmem.question_types import DIRECTION_SCHEMES, QUESTION_TYPES, REL_DIRECTION_TYPES
from spatialmem.synth import templates as T
from spatialmem.synth.routes import FloorGrid, RouteConfig, RoutePlanner, turn_ok


@dataclass(frozen=True)
class QuestionConfig:
    """Caps and rejection thresholds (metres, degrees, seconds)."""

    max_per_type: int = 15
    min_abs_distance_m: float = 0.2
    rel_distance_margin_m: float = 0.15
    rel_distance_margin_large_m: float = 0.30
    large_room_m2: float = 40.0
    direction_margin_deg: float = 10.0
    direction_max_corners_off: int = 2
    direction_min_pair_m: float = 0.3
    direction_max_pair_m: float = 5.0
    appearance_min_gap_s: float = 1.0
    route_max_attempts: int = 600
    route: RouteConfig = field(default_factory=RouteConfig)
    # route phrasings (docs/benchmark.md): how often the robot must first turn, how the start is stated,
    # how often one turn is written out ("Turn left") instead of left to fill in
    route_first_turn_share: float = 0.7
    route_start_shares: dict[str, float] = field(
        default_factory=lambda: {"facing": 0.5, "and facing": 0.3, "back to": 0.2})
    route_written_turn_share: float = 0.2
    # more phrasings (each drawn per route): a waypoint turn written as "Turn left/right" + a blank for the
    # rest, a "Go forward about <distance>" step after a blank, an "is on your left/right" ending on the
    # destination, and waypoints of a repeated category named "the closest X" / "the X by the Y"
    route_turn_pair_share: float = 0.15
    route_distance_share: float = 0.15
    route_side_ending_share: float = 0.2
    route_landmark_share: float = 0.3
    route_landmark_margin_m: float = 0.5  # the named instance is nearer than any other by this much
    route_by_max_m: float = 1.0  # "the X by the Y": X at most this far from Y (closest points)


@dataclass(frozen=True, eq=False)
class SceneObject:
    """One object of scene.json: whole-object box, exact geometry (parts) and first visibility."""

    id: int
    category: str
    box: OrientedBox
    parts: tuple[OrientedBox, ...]
    support: str
    first_visible_s: float | None

    @property
    def xy(self) -> np.ndarray:
        return self.box.center[:2]


def parse_objects(scene: dict) -> list[SceneObject]:
    """The objects of a parsed scene.json dict.

    Raises:
        FormatError: naming the object index and field when the dict does not follow the contract.
    """
    if not isinstance(scene, dict) or not isinstance(scene.get("objects"), list):
        raise FormatError("scene.json: 'objects' must be a list (see docs/formats.md)")
    out = []
    for i, o in enumerate(scene["objects"]):
        try:
            box = OrientedBox(o["center"], o["size"], o.get("axes", np.eye(3)))
            parts = tuple(OrientedBox.from_dict(p) for p in (o.get("parts") or [])) or (box,)
            fv = o.get("first_visible_s")
            out.append(SceneObject(int(o["id"]), str(o["category"]), box, parts, str(o.get("support", "floor")),
                                   None if fv is None else float(fv)))
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"scene.json: objects[{i}] is malformed ({exc!r}); each object needs id, category, "
                              "center, size, axes, parts and first_visible_s (see docs/formats.md)") from exc
    return out


def floor_polygon(scene: dict) -> np.ndarray:
    """(M, 2) floor polygon of the room, metres."""
    try:
        poly = np.asarray(scene["room"]["floor_polygon"], dtype=np.float64).reshape(-1, 2)
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError("scene.json: room.floor_polygon must be a list of [x, y] (see docs/formats.md)") from exc
    if len(poly) < 3:
        raise FormatError("scene.json: room.floor_polygon needs at least 3 vertices")
    return poly


class _Scene:
    """Indexes of one scene used by every generator (categories, unique objects, cached distances)."""

    def __init__(self, scene: dict) -> None:
        self.name = str(scene.get("scene_name", "scene"))
        self.polygon = floor_polygon(scene)
        self.area_m2 = polygon_area(self.polygon)
        self.all_objects = parse_objects(scene)
        by_cat: dict[str, list[SceneObject]] = defaultdict(list)
        for o in self.all_objects:
            by_cat[o.category].append(o)
        # usable = every instance seen; sorted for determinism
        self.categories = {c: sorted(objs, key=lambda o: o.id) for c, objs in sorted(by_cat.items())
                           if all(o.first_visible_s is not None for o in objs)}
        self.unique = [objs[0] for c, objs in self.categories.items() if len(objs) == 1]
        self._dist: dict[tuple[int, int], float] = {}
        self.angle_cache: dict[tuple[int, int, int], tuple[float, np.ndarray]] = {}  # shared by the 3 schemes

    def distance(self, a: SceneObject, b: SceneObject) -> float:
        """Closest-point distance (metres) between two objects' parts, cached."""
        key = (min(a.id, b.id), max(a.id, b.id))
        if key not in self._dist:
            self._dist[key] = closest_point_distance(a.parts, b.parts)
        return self._dist[key]

    def category_distance(self, a: SceneObject, category: str) -> float:
        """Closest-point distance from ``a`` to the nearest instance of ``category``."""
        best = math.inf
        for o in self.categories[category]:
            key = (min(a.id, o.id), max(a.id, o.id))
            best = min(best, self._dist[key] if key in self._dist else closest_point_distance(a.parts, o.parts, best))
        return best

    def first_seen(self, category: str) -> float:
        """First-visible time (s) of a category: the earliest over its instances."""
        return min(o.first_visible_s for o in self.categories[category])


def closest_point_distance(parts_a, parts_b, upper: float = math.inf) -> float:
    """``min(upper, geometry.boxes.parts_distance(parts_a, parts_b))``, computed with pruning.

    Part pairs are visited in order of a lower bound (the distance of their world axis-aligned bounds)
    and :func:`box_distance` is only evaluated while that bound is below the best distance so far, so
    the result equals the min over all pairs (the shared VSI closest-point definition) at a fraction
    of the cost for many-part objects.
    """
    ka = np.array([p.corners() for p in parts_a])  # (Na, 8, 3)
    kb = np.array([p.corners() for p in parts_b])
    lo_a, hi_a, lo_b, hi_b = ka.min(axis=1), ka.max(axis=1), kb.min(axis=1), kb.max(axis=1)
    # distance between world-axis-aligned bounding boxes: a lower bound of the exact box distance
    gap = np.maximum(np.maximum(lo_b[None] - hi_a[:, None], lo_a[:, None] - hi_b[None]), 0.0)
    lower = np.linalg.norm(gap, axis=2)
    best = upper
    for k in np.argsort(lower, axis=None, kind="stable"):
        i, j = divmod(int(k), len(parts_b))
        if lower[i, j] >= best or best <= 0.0:
            break
        best = min(best, box_distance(parts_a[i], parts_b[j]))
    return float(best)


def _mc(rng: random.Random, correct: str, distractors: list[str]) -> tuple[list[str], str]:
    """Shuffled options (correct + distractors) and the letter of the correct one."""
    labels = [correct] + list(distractors)
    rng.shuffle(labels)
    return T.format_options(labels), T.LETTERS[labels.index(correct)]


def _fmt1(x: float) -> str:
    """Round half up to 0.1 and format plainly ("2.4")."""
    return f"{math.floor(x * 10.0 + 0.5) / 10.0:.1f}"


def _balanced(rng: random.Random, items: list[tuple[str, object]], cap: int) -> list:
    """Up to ``cap`` items taken round-robin over their answer labels (label, payload) in random order."""
    groups: dict[str, list] = defaultdict(list)
    for label, payload in items:
        groups[label].append(payload)
    labels = sorted(groups)
    rng.shuffle(labels)
    for lab in labels:
        rng.shuffle(groups[lab])
    out = []
    while len(out) < cap and any(groups[lab] for lab in labels):
        for lab in labels:
            if groups[lab] and len(out) < cap:
                out.append(groups[lab].pop())
    return out


# ---------------------------------------------------------------------------- numeric types
def _counting(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    cats = [c for c, objs in s.categories.items() if len(objs) > 1]
    rng.shuffle(cats)
    return [(T.COUNTING.format(category=c), [], str(len(s.categories[c]))) for c in cats[:cfg.max_per_type]]


def _size(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    objs = list(s.unique)
    rng.shuffle(objs)
    return [(T.SIZE.format(category=o.category), [], str(int(math.floor(o.box.longest_side * 100.0 + 0.5))))
            for o in objs[:cfg.max_per_type]]


def _abs_distance(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    pairs = list(itertools.combinations(s.unique, 2))
    rng.shuffle(pairs)
    out = []
    for a, b in pairs:
        if len(out) >= cfg.max_per_type:
            break
        d = s.distance(a, b)
        if d < cfg.min_abs_distance_m:
            continue
        if rng.random() < 0.5:
            a, b = b, a
        template = T.ABS_DISTANCE_DIRECT if rng.random() < 0.5 else T.ABS_DISTANCE
        out.append((template.format(a=a.category, b=b.category), [], _fmt1(d)))
    return out


def _room_size(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    return [(T.ROOM_SIZE, [], _fmt1(s.area_m2))]


# ---------------------------------------------------------------------------- relative distance
def _spread_combos(rng: random.Random, items: list[str], value: dict[str, float], min_gap: float, need: int,
                   max_enumerate: int = 3000) -> list[tuple[str, ...]]:
    """Up to ``need`` random 4-subsets of ``items`` whose values are pairwise at least ``min_gap`` apart.

    Small sets are enumerated exhaustively (then shuffled); large ones are sampled (40 draws per wanted
    subset), so the cost stays bounded for scenes with many categories. Deterministic for the RNG state.
    """
    items = sorted(items)

    def ok(combo) -> bool:
        vs = sorted(value[c] for c in combo)
        return min(b - a for a, b in zip(vs, vs[1:])) >= min_gap

    if len(items) < 4:
        return []
    if math.comb(len(items), 4) <= max_enumerate:
        valid = [c for c in itertools.combinations(items, 4) if ok(c)]
        rng.shuffle(valid)
        return valid[:need]
    found: dict[tuple[str, ...], None] = {}
    for _ in range(40 * need):
        combo = tuple(sorted(rng.sample(items, 4)))
        if combo not in found and ok(combo):
            found[combo] = None
            if len(found) >= need:
                break
    return list(found)


def _rel_distance(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    margin = cfg.rel_distance_margin_large_m if s.area_m2 > cfg.large_room_m2 else cfg.rel_distance_margin_m
    targets = list(s.unique)
    rng.shuffle(targets)
    per_target = []
    for t in targets:
        cands = [c for c in s.categories if c != t.category]
        if len(cands) < 4:
            continue
        dist = {c: s.category_distance(t, c) for c in cands}
        # no two candidate distances within the margin: the nearest (and the whole ranking) is unambiguous
        per_target.append((t, _spread_combos(rng, cands, dist, margin, cfg.max_per_type), dist))
        if sum(1 for _, v, _ in per_target if v) >= cfg.max_per_type:
            break  # enough targets for one question each
    out = []
    while len(out) < cfg.max_per_type and any(v for _, v, _ in per_target):
        for t, valid, dist in per_target:
            if not valid or len(out) >= cfg.max_per_type:
                continue
            combo = list(valid.pop())
            rng.shuffle(combo)
            answer = min(combo, key=lambda c: dist[c])
            options = T.format_options(combo)
            q = T.REL_DISTANCE.format(c1=combo[0], c2=combo[1], c3=combo[2], c4=combo[3], category=t.category)
            out.append((q, options, T.LETTERS[combo.index(answer)]))
    return out


# ---------------------------------------------------------------------------- relative direction
def direction_label(a: SceneObject, b: SceneObject, c: SceneObject, scheme: str, cfg: QuestionConfig,
                    cache: dict | None = None) -> str | None:
    """The answer label of "standing by a facing b, where is c" under ``scheme``, or None when rejected.

    Rejected when a pairwise floor-plane centre distance is outside [min_pair, max_pair], the centre of
    ``c`` is within ``direction_margin_deg`` of a bin boundary, or more than ``direction_max_corners_off``
    of c's 8 box corners fall in another bin than its centre. ``cache`` keeps :func:`view_angles` per
    (a, b, c) id triple across schemes.
    """
    pts = (a.xy, b.xy, c.xy)
    for p, q in ((0, 1), (0, 2), (1, 2)):
        d = float(np.linalg.norm(pts[p] - pts[q]))
        if not cfg.direction_min_pair_m <= d <= cfg.direction_max_pair_m:
            return None
    key = (a.id, b.id, c.id)
    if cache is None or key not in cache:
        angles = view_angles(a, b, c)
        if cache is not None:
            cache[key] = angles
    angle, corner_angles = cache[key] if cache is not None else angles
    if boundary_margin_deg(angle, scheme) < cfg.direction_margin_deg:
        return None
    label = classify_direction(angle, scheme)
    off = sum(classify_direction(float(k), scheme) != label for k in corner_angles)
    return None if off > cfg.direction_max_corners_off else label


def view_angles(a: SceneObject, b: SceneObject, c: SceneObject) -> tuple[float, np.ndarray]:
    """Angles (degrees, :func:`view_angle_deg` convention) of c's centre and of its 8 box corners,
    seen standing at a's centre facing b's centre."""
    facing = b.xy - a.xy
    corners = np.array([view_angle_deg(a.xy, facing, k[:2]) for k in c.box.corners()])
    return view_angle_deg(a.xy, facing, c.xy), corners


def _direction(qtype: str):
    scheme, template = DIRECTION_SCHEMES[qtype], T.DIRECTION_TEMPLATES[qtype]

    def gen(s: _Scene, rng: random.Random, cfg: QuestionConfig):
        uniq = s.unique
        xy = np.array([o.xy for o in uniq]).reshape(-1, 2)
        d = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
        near = (d >= cfg.direction_min_pair_m) & (d <= cfg.direction_max_pair_m)  # pre-filter; rechecked below
        items = []
        for i, a in enumerate(uniq):
            if a.support == "ceiling":  # one stands by and faces grounded things
                continue
            for j, b in enumerate(uniq):
                if j == i or b.support == "ceiling" or not near[i, j]:
                    continue
                for k in np.flatnonzero(near[i] & near[j]):
                    c = uniq[int(k)]
                    if c is a or c is b:
                        continue
                    label = direction_label(a, b, c, scheme, cfg, s.angle_cache)
                    if label is not None:
                        items.append((label, (a, b, c, label)))
        out = []
        for a, b, c, label in _balanced(rng, items, cfg.max_per_type):
            others = [x for x in SCHEMES[scheme] if x != label]
            options, letter = _mc(rng, label, others)
            out.append((template.format(a=a.category, b=b.category, c=c.category), options, letter))
        return out

    return gen


# ---------------------------------------------------------------------------- appearance order
def _appearance(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    seen = {c: s.first_seen(c) for c in s.categories}
    out = []
    for combo in _spread_combos(rng, list(seen), seen, cfg.appearance_min_gap_s, cfg.max_per_type):
        listed = list(combo)
        rng.shuffle(listed)
        order = sorted(combo, key=lambda c: seen[c])
        perms = [p for p in itertools.permutations(order) if list(p) != order]
        distractors = [", ".join(p) for p in rng.sample(perms, 3)]
        options, letter = _mc(rng, ", ".join(order), distractors)
        q = T.APPEARANCE_ORDER.format(a=listed[0], b=listed[1], c=listed[2], d=listed[3])
        out.append((q, options, letter))
    return out


# ---------------------------------------------------------------------------- route planning
def repeated_nodes(s: _Scene) -> list[SceneObject]:
    """Instances of usable categories with 2-4 instances, not ceiling-mounted: waypoints named by a
    landmark phrase ("the closest chair", "the chair by the desk")."""
    return [o for objs in s.categories.values() if 2 <= len(objs) <= 4 for o in objs if o.support != "ceiling"]


def route_planner(s: _Scene, cfg: QuestionConfig, extra: list[SceneObject] | None = None,
                  grid: FloorGrid | None = None) -> tuple[RoutePlanner, list[SceneObject]]:
    """The route planner of a scene and its node objects (start, waypoint and destination candidates).

    Nodes are the unique objects that are not ceiling-mounted, plus ``extra`` (waypoints only, see
    :func:`repeated_nodes`); an object standing on another one is reached through its supporter's access
    zone. ``grid``: the scene's free-space grid when the caller already has it.
    """
    obstacles = {o.id: o.box for o in s.all_objects if o.support == "floor"}
    nodes = [o for o in s.unique if o.support != "ceiling"] + list(extra or [])
    grid = grid or FloorGrid(s.polygon, obstacles, {o.id: o.box for o in s.all_objects}, cfg.route)
    known = {o.id for o in s.all_objects}
    zone_ids = {}
    for o in nodes:
        sup = o.support.split(":", 1)[1] if o.support.startswith("object:") else ""
        zone_ids[o.id] = (o.id, int(sup)) if sup.isdigit() and int(sup) in known else (o.id,)
    centers = {o.id: o.xy for o in list(s.unique) + list(extra or [])}
    planner = RoutePlanner(grid, centers, [o.id for o in nodes], cfg.route, zone_ids)
    return planner, nodes


def _wrap_deg(a: float) -> float:
    """An angle in degrees wrapped to (-180, 180]."""
    a = (a + 180.0) % 360.0 - 180.0
    return 180.0 if a == -180.0 else a


def landmark_phrases(s: _Scene, obj: SceneObject, here: np.ndarray, cfg: QuestionConfig) -> list[str]:
    """The phrases that name ``obj`` (one of several instances of its category) unambiguously for a robot
    standing at ``here``: "closest X" when its centre is the nearest to ``here`` by the margin, "X by the Y"
    for the unique Y it is nearest (closest points, within ``route_by_max_m``) by the margin."""
    margin = cfg.route_landmark_margin_m
    others = [o for o in s.categories[obj.category] if o.id != obj.id]
    out = []
    d_here = float(np.linalg.norm(obj.xy - here))
    if all(float(np.linalg.norm(o.xy - here)) >= d_here + margin for o in others):
        out.append(T.ROUTE_CLOSEST.format(name=obj.category))
    refs = []
    for y in s.unique:
        if y.support == "ceiling" or y.category == obj.category:
            continue
        d = s.distance(obj, y)
        if d <= cfg.route_by_max_m and all(s.distance(o, y) >= d + margin for o in others):
            refs.append((d, y.category))
    if refs:
        out.append(T.ROUTE_BY.format(name=obj.category, ref=min(refs)[1]))
    return out


def _route(s: _Scene, rng: random.Random, cfg: QuestionConfig):
    planner, nodes = route_planner(s, cfg)
    extra = repeated_nodes(s)
    wide = route_planner(s, cfg, extra, planner.grid)[0] if extra else None
    by_id = {o.id: o for o in list(s.unique) + extra}
    triples = [(a, b, c) for a in nodes for b in nodes for c in nodes
               if len({a.id, b.id, c.id}) == 3 and np.linalg.norm(b.xy - a.xy) >= cfg.route.min_leg_m]
    rng.shuffle(triples)
    out = []
    turn_counts = list(range(1, cfg.route.max_turns + 1))
    starts, start_weights = zip(*cfg.route_start_shares.items())
    for a, b, c in triples[:cfg.route_max_attempts]:
        if len(out) >= cfg.max_per_type:
            break
        want = turn_counts[len(out) % len(turn_counts)]
        start = rng.choices(starts, start_weights)[0]
        first_turn = rng.random() < cfg.route_first_turn_share
        use_wide = wide is not None and rng.random() < cfg.route_landmark_share
        pair, distance, side = (rng.random() < cfg.route_turn_pair_share, rng.random() < cfg.route_distance_share,
                                rng.random() < cfg.route_side_ending_share)
        route, names = None, None
        for k in [want] + [k for k in turn_counts if k != want]:
            for pl in ((wide, planner) if use_wide else (planner,)):
                route = pl.plan(a.id, b.id, c.id, k, first_turn=first_turn, back_to=start == "back to")
                names = None if route is None else _route_names(s, route, a, by_id, rng, cfg)
                if names is not None:
                    break
            if names is not None:
                break
        if route is None or names is None:
            continue
        items, blanks = _route_items(route, names, c.category, by_id, rng, cfg, pair, distance, side)
        q = T.ROUTE_ANY_START.format(a=a.category, start=T.ROUTE_STARTS[start].format(b=b.category), c=c.category,
                                     steps=T.numbered_steps(items))
        correct = T.turn_sequence_text(blanks)
        others = [T.turn_sequence_text(p) for p in itertools.product(("turn left", "turn right", "turn back"),
                                                                      repeat=len(blanks))]
        others = [x for x in others if x != correct]
        options, letter = _mc(rng, correct, rng.sample(others, min(3, len(others))))
        out.append((q, options, letter))
    return out


def _route_names(s: _Scene, route, start: SceneObject, by_id: dict[int, SceneObject], rng: random.Random,
                 cfg: QuestionConfig) -> list[str] | None:
    """How each waypoint is named: its category when unique, else a landmark phrase that picks it from where
    the robot stands (:func:`landmark_phrases`); None when some waypoint has no such phrase."""
    names, here = [], start.xy
    for w in route.waypoint_ids:
        o = by_id[w]
        if len(s.categories[o.category]) == 1:
            names.append(o.category)
        else:
            phrases = landmark_phrases(s, o, here, cfg)
            if not phrases:
                return None
            names.append(rng.choice(phrases))
        here = o.xy
    return names


def _route_items(route, names: list[str], target: str, by_id: dict[int, SceneObject], rng: random.Random,
                 cfg: QuestionConfig, pair: bool, distance: bool, side: bool) -> tuple[list[str], list[str]]:
    """The step texts of a planned route and its turns to fill in, in order (docs/benchmark.md, route phrasings).

    ``pair``: one waypoint's turn is written as "Turn left/right" followed by a blank for the rest (when the
    rest is itself a clear turn). ``distance``: after one blank, a "Go forward about ..." step shorter than
    half the leg that follows (the robot keeps walking along that leg, so no turn changes). ``side``: the
    destination step ends "is on your left/right" (drawn at random: the robot walks to the destination's
    centre, and nothing follows the last step, so the ending changes no answer).
    Also one waypoint's turn is written out instead of asked (``route_written_turn_share``, 3+ turns).
    """
    k = len(route.turns)
    written: dict[int, str] = {}
    if len(route.all_turns) >= 3 and rng.random() < cfg.route_written_turn_share:
        i = rng.randrange(k)  # one waypoint's turn is given instead of asked
        written = {i: route.turns[i]}
    pairs: dict[int, tuple[str, str]] = {}
    if pair:
        cands = []
        for i in range(k):
            if i in written:
                continue
            for label, deg in (("turn left", 90.0), ("turn right", -90.0)):
                rest = _wrap_deg(route.turn_angles_deg[i] - deg)
                if turn_ok(rest, cfg.route):
                    cands.append((i, label, classify_turn(rest)))
        if cands:
            i, label, rest = rng.choice(cands)
            pairs[i] = (label, rest)
    # (step text, turn answered by a blank or "") in walking order; legs[j] = index of the j-th "Go forward"
    steps: list[tuple[str, str]] = [(T.ROUTE_FILL, route.first_turn)] if route.first_turn else []
    for i, name in enumerate(names):
        steps.append((T.ROUTE_GO.format(name=name), ""))
        if i in written:
            steps.append((written[i].capitalize(), ""))
        elif i in pairs:
            steps += [(pairs[i][0].capitalize(), ""), (T.ROUTE_FILL, pairs[i][1])]
        else:
            steps.append((T.ROUTE_FILL, route.turns[i]))
    last = T.ROUTE_GO.format(name=target)
    if side:
        last = T.ROUTE_SIDE.format(go=last, side=rng.choice(("left", "right")))
    steps.append((last, ""))
    if distance:
        # legs after a blank: the blank faces the next stop, so a short walk on keeps every turn
        starts = [route.start_id] + list(route.waypoint_ids)
        ends = list(route.waypoint_ids) + [route.target_id]
        go_idx = [j for j, (t, _) in enumerate(steps) if t.startswith("Go forward until")]
        options = []
        for leg, j in enumerate(go_idx):
            if j > 0 and steps[j - 1][0] == T.ROUTE_FILL and leg < len(starts):
                length = float(np.linalg.norm(by_id[ends[leg]].xy - by_id[starts[leg]].xy))
                fits = [t for t, m in T.ROUTE_DISTANCES.items() if m <= 0.5 * length]
                if fits:
                    options.append((j, fits))
        if options:
            j, fits = rng.choice(options)
            steps.insert(j, (T.ROUTE_DISTANCE.format(distance=rng.choice(fits)), ""))
    return [t for t, _ in steps], [b for t, b in steps if t == T.ROUTE_FILL]


_GENERATORS = {
    "object_counting": _counting,
    "object_size_estimation": _size,
    "object_abs_distance": _abs_distance,
    "room_size_estimation": _room_size,
    "object_rel_distance": _rel_distance,
    **{qtype: _direction(qtype) for qtype in REL_DIRECTION_TYPES},
    "obj_appearance_order": _appearance,
    "route_planning": _route,
}


def generate_questions(scene: dict, seed: int, config: QuestionConfig | None = None) -> list[dict]:
    """VSI-Bench rows for one scene, deterministic for (scene, seed).

    Args:
        scene: the parsed scene.json dict (docs/formats.md).
        seed: seeds the option shuffles and the choice among valid questions (one RNG per type).
        config: caps and thresholds; defaults to :class:`QuestionConfig`.

    Returns:
        Rows ``{id, dataset, scene_name, question_type, question, options, ground_truth}`` grouped by
        question type in :data:`spatialmem.question_types.QUESTION_TYPES` order; ``id`` is ``"<scene_name>-<k>"``.

    Raises:
        FormatError: the scene dict does not follow the scene.json contract.
    """
    cfg = config or QuestionConfig()
    s = _Scene(scene)
    rows: list[dict] = []
    for qtype in QUESTION_TYPES:
        rng = random.Random(f"{int(seed)}:{qtype}")
        for question, options, truth in _GENERATORS[qtype](s, rng, cfg):
            rows.append({"id": f"{s.name}-{len(rows):04d}", "dataset": T.DATASET, "scene_name": s.name,
                         "question_type": qtype, "question": question, "options": list(options),
                         "ground_truth": truth})
    return rows
