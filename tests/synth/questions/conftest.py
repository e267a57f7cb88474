"""Hand-built scene.json dicts for the question-generator tests (no renderer involved)."""

from __future__ import annotations

import json
import math
import re
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.spatial import cKDTree


def _box(cx, cy, cz, sx, sy, sz, yaw=0.0):
    c, s = math.cos(yaw), math.sin(yaw)
    return {"center": [cx, cy, cz], "size": [sx, sy, sz], "axes": [[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]}


def _local(parent, dx, dy, z, sx, sy, sz, yaw):
    c, s = math.cos(yaw), math.sin(yaw)
    return _box(parent[0] + c * dx - s * dy, parent[1] + s * dx + c * dy, z, sx, sy, sz, yaw)


def table_parts(cx, cy, sx, sy, h, yaw=0.0):
    top = _local((cx, cy), 0, 0, h - 0.02, sx, sy, 0.04, yaw)
    legs = [_local((cx, cy), ex * (sx / 2 - 0.04), ey * (sy / 2 - 0.04), (h - 0.04) / 2, 0.05, 0.05, h - 0.04, yaw)
            for ex in (-1, 1) for ey in (-1, 1)]
    return [top] + legs


def chair_parts(cx, cy, yaw=0.0):
    seat = _local((cx, cy), 0, 0, 0.45, 0.45, 0.45, 0.04, yaw)
    back = _local((cx, cy), -0.2, 0, 0.7, 0.05, 0.45, 0.46, yaw)
    legs = [_local((cx, cy), ex * 0.19, ey * 0.19, 0.215, 0.04, 0.04, 0.43, yaw) for ex in (-1, 1) for ey in (-1, 1)]
    return [seat, back] + legs


def make_object(oid, category, center, size, first_s, yaw=0.0, support="floor", parts=None):
    whole = _box(*center, *size, yaw=yaw)
    return {"id": oid, "category": category, **whole, "parts": parts or [whole], "support": support,
            "first_visible_frame": None if first_s is None else int(round(first_s * 10)),
            "first_visible_s": first_s}


def _scene(name, shape, polygon, objects):
    xs = [p[0] for p in polygon]
    ys = [p[1] for p in polygon]
    area = 0.5 * abs(sum(xs[i] * ys[(i + 1) % len(xs)] - xs[(i + 1) % len(xs)] * ys[i] for i in range(len(xs))))
    return {"format": "spatialmem-scene", "version": 1, "scene_name": name, "seed": 0, "units": "m", "up": "z",
            "fps": 10.0, "num_frames": 300, "duration_s": 30.0, "image_size": [640, 480],
            "first_visible_min_pixels": 200,
            "room": {"shape": shape, "floor_z": 0.0, "ceiling_height_m": 2.8, "floor_polygon": polygon,
                     "floor_area_m2": area},
            "objects": objects}


def rich_rect_scene():
    """An 8 x 6 m room with ~25 objects: unique and repeated categories, multi-part furniture,
    wall/ceiling/on-object supports and some never-visible objects."""
    o = []

    def add(category, center, size, first_s, **kw):
        o.append(make_object(len(o) + 1, category, center, size, first_s, **kw))

    add("door", (1.0, 0.0, 1.0), (0.9, 0.1, 2.0), 0.0, support="wall")
    add("window", (7.95, 3.0, 1.5), (0.1, 1.2, 1.0), 12.1, support="wall")
    add("bed", (1.2, 4.8, 0.3), (2.0, 1.6, 0.6), 3.0,
        parts=[_box(1.2, 4.8, 0.2, 2.0, 1.6, 0.4), _box(0.25, 4.8, 0.55, 0.1, 1.6, 0.5)])
    add("sofa", (6.5, 1.0, 0.4), (2.0, 0.9, 0.8), 7.4,
        parts=[_box(6.5, 1.05, 0.22, 2.0, 0.8, 0.44), _box(6.5, 0.6, 0.55, 2.0, 0.1, 0.5)])
    add("tv", (6.5, 5.9, 1.3), (1.2, 0.08, 0.7), 15.2, support="wall")
    add("table", (4.0, 3.0, 0.375), (1.4, 0.8, 0.75), 5.1, parts=table_parts(4.0, 3.0, 1.4, 0.8, 0.75))
    for x, y, yaw, t in [(2.9, 3.0, 0.0, 5.6), (5.1, 3.0, math.pi, 8.0), (4.0, 2.1, math.pi / 2, 9.5)]:
        add("chair", (x, y, 0.45), (0.45, 0.45, 0.9), t, yaw=yaw, parts=chair_parts(x, y, yaw))
    add("desk", (7.6, 4.3, 0.375), (0.7, 1.2, 0.75), 13.3, parts=table_parts(7.6, 4.3, 0.7, 1.2, 0.75))
    add("refrigerator", (0.45, 1.9, 0.9), (0.7, 0.7, 1.8), 1.3)
    add("bookshelf", (3.0, 5.8, 0.9), (1.0, 0.35, 1.8), 4.2)
    add("lamp", (2.6, 4.9, 0.75), (0.3, 0.3, 1.5), 2.2,
        parts=[_box(2.6, 4.9, 0.02, 0.3, 0.3, 0.04), _box(2.6, 4.9, 0.7, 0.04, 0.04, 1.3),
               _box(2.6, 4.9, 1.4, 0.3, 0.3, 0.2)])
    add("plant", (7.5, 0.35, 0.5), (0.4, 0.4, 1.0), 10.6)
    add("trash bin", (0.4, 3.1, 0.2), (0.3, 0.3, 0.4), 2.7)
    add("trash bin", (5.6, 5.6, 0.2), (0.3, 0.3, 0.4), 16.4)
    add("pillow", (0.55, 4.45, 0.5), (0.4, 0.6, 0.15), 3.5, support="object:3")
    add("pillow", (0.55, 5.15, 0.5), (0.4, 0.6, 0.15), 3.6, support="object:3")
    add("ceiling light", (4.0, 3.0, 2.75), (0.5, 0.5, 0.1), 6.3, support="ceiling")
    add("heater", (5.0, 0.1, 0.4), (0.8, 0.15, 0.6), 11.0, support="wall")
    add("stool", (2.0, 1.5, 0.3), (0.35, 0.35, 0.6), None)  # never seen: must not appear
    add("backpack", (6.0, 2.0, 0.2), (0.3, 0.2, 0.4), 14.0)
    add("backpack", (7.0, 2.3, 0.2), (0.3, 0.2, 0.4), None)  # one of two unseen: category unusable
    add("microwave", (4.0, 3.2, 0.9), (0.5, 0.35, 0.3), 17.5, support="object:6")
    add("toilet", (7.4, 5.3, 0.4), (0.4, 0.65, 0.8), 18.9)
    return _scene("scene_rect", "rect", [[0.0, 0.0], [8.0, 0.0], [8.0, 6.0], [0.0, 6.0]], o)


def l_scene():
    """An L-shaped room (6 x 6 m minus its 3 x 3 m top-right quarter) with a few objects."""
    o = []

    def add(category, center, size, first_s, **kw):
        o.append(make_object(len(o) + 1, category, center, size, first_s, **kw))

    add("door", (0.0, 1.0, 1.0), (0.1, 0.9, 2.0), 0.5, support="wall")
    add("sofa", (5.0, 1.2, 0.4), (1.8, 0.9, 0.8), 2.0)
    add("bed", (1.5, 4.8, 0.3), (2.0, 1.5, 0.6), 4.5)
    add("table", (1.6, 1.6, 0.375), (1.2, 0.8, 0.75), 1.0, parts=table_parts(1.6, 1.6, 1.2, 0.8, 0.75))
    add("chair", (1.6, 0.9, 0.45), (0.45, 0.45, 0.9), 1.2, yaw=math.pi / 2, parts=chair_parts(1.6, 0.9, math.pi / 2))
    add("chair", (1.6, 2.3, 0.45), (0.45, 0.45, 0.9), 6.0, yaw=-math.pi / 2, parts=chair_parts(1.6, 2.3, -math.pi / 2))
    add("tv", (5.95, 1.2, 1.2), (0.08, 1.0, 0.6), 3.3, support="wall")
    add("lamp", (2.6, 5.6, 0.75), (0.3, 0.3, 1.5), 7.7)
    add("cabinet", (5.5, 2.7, 0.5), (0.8, 0.4, 1.0), 9.1)
    add("plant", (0.4, 3.3, 0.5), (0.4, 0.4, 1.0), 11.0)
    return _scene("scene_l", "L", [[0.0, 0.0], [6.0, 0.0], [6.0, 3.0], [3.0, 3.0], [3.0, 6.0], [0.0, 6.0]], o)


@pytest.fixture
def rect_scene():
    return rich_rect_scene()


@pytest.fixture
def lshape_scene():
    return l_scene()


# ---------------------------------------------------------------------------------------------------------------
# Independent oracle: recomputes answers from the scene dict without using spatialmem's geometry code.
# ---------------------------------------------------------------------------------------------------------------

SAMPLE_STEP_M = 0.015
# the sampled distance exceeds the exact one by at most the diagonal of one sample cell on each side
SAMPLE_TOL_M = 2 * SAMPLE_STEP_M / math.sqrt(2) + 1e-6


def surface_samples(part):
    """Points on the six faces of a box dict, every <= SAMPLE_STEP_M along each face axis (edges included)."""
    c, h, ax = np.asarray(part["center"], float), np.asarray(part["size"], float) / 2, np.asarray(part["axes"], float)
    pts = []
    for i in range(3):
        j, k = [a for a in range(3) if a != i]
        uj = np.linspace(-h[j], h[j], max(2, int(math.ceil(2 * h[j] / SAMPLE_STEP_M)) + 1))
        uk = np.linspace(-h[k], h[k], max(2, int(math.ceil(2 * h[k] / SAMPLE_STEP_M)) + 1))
        gj, gk = np.meshgrid(uj, uk)
        for sgn in (-1.0, 1.0):
            local = np.zeros((gj.size, 3))
            local[:, i], local[:, j], local[:, k] = sgn * h[i], gj.ravel(), gk.ravel()
            pts.append(c + local @ ax)
    return np.concatenate(pts)


def inside_any(points, parts):
    for p in parts:
        c, h, ax = np.asarray(p["center"], float), np.asarray(p["size"], float) / 2, np.asarray(p["axes"], float)
        local = (points - c) @ ax.T
        if np.any(np.all(np.abs(local) <= h + 1e-9, axis=1)):
            return True
    return False


_SAMPLES: dict = {}


def _samples(obj):
    key = json.dumps(obj["parts"], sort_keys=True)
    if key not in _SAMPLES:
        pts = np.concatenate([surface_samples(p) for p in obj["parts"]])
        _SAMPLES[key] = (pts, cKDTree(pts))
    return _SAMPLES[key]


def sampled_distance(obj_a, obj_b):
    """Closest-point distance of two objects by dense surface sampling + k-d tree (0 if they overlap)."""
    (pa, _), (pb, tree_b) = _samples(obj_a), _samples(obj_b)
    if inside_any(pa, obj_b["parts"]) or inside_any(pb, obj_a["parts"]):
        return 0.0
    return float(tree_b.query(pa, k=1)[0].min())


def angle_deg(pos, facing_to, point):
    """Own floor-plane angle: degrees CCW from (facing_to - pos) to (point - pos), left positive."""
    fx, fy = facing_to[0] - pos[0], facing_to[1] - pos[1]
    dx, dy = point[0] - pos[0], point[1] - pos[1]
    return math.degrees(math.atan2(fx * dy - fy * dx, fx * dx + fy * dy))


def label_of(ang, kind):
    if kind == "easy":
        return "left" if ang > 0 else "right"
    if kind == "medium":
        return "back" if abs(ang) >= 135 else ("left" if ang > 0 else "right")
    front = "front" if abs(ang) <= 90 else "back"
    return f"{front}-{'left' if ang > 0 else 'right'}"


def margin_of(ang, kind):
    a = abs(ang)
    if kind == "easy":
        return min(a, 180 - a)
    if kind == "medium":
        return min(a, abs(a - 135))
    return min(a, abs(a - 90), 180 - a)


def box_corners(obj):
    c, h, ax = np.asarray(obj["center"], float), np.asarray(obj["size"], float) / 2, np.asarray(obj["axes"], float)
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)], float)
    return c + (signs * h) @ ax


def turn_of(ang):
    if abs(ang) >= 135:
        return "Turn Back"
    return "Turn Left" if ang > 0 else "Turn Right"


def heading_change(h0, h1):
    return math.degrees(math.atan2(h0[0] * h1[1] - h0[1] * h1[0], h0[0] * h1[0] + h0[1] * h1[1]))


def shoelace(poly):
    n = len(poly)
    return 0.5 * abs(sum(poly[i][0] * poly[(i + 1) % n][1] - poly[(i + 1) % n][0] * poly[i][1] for i in range(n)))


def point_in_poly(x, y, poly):
    inside = False
    n = len(poly)
    for i in range(n):
        (x0, y0), (x1, y1) = poly[i], poly[(i + 1) % n]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def footprint_gap(obj, x, y):
    """Floor-plane distance from (x, y) to the object's box footprint."""
    c, h, ax = np.asarray(obj["center"], float), np.asarray(obj["size"], float) / 2, np.asarray(obj["axes"], float)
    d = np.array([x, y]) - c[:2]
    lu = d @ ax[0, :2] / np.linalg.norm(ax[0, :2])
    lv = d @ ax[1, :2] / np.linalg.norm(ax[1, :2])
    return math.hypot(max(abs(lu) - h[0], 0.0), max(abs(lv) - h[1], 0.0))


def option_text(row):
    """The text of the ground-truth option (without the "A. " prefix)."""
    for opt in row["options"]:
        letter, _, text = opt.partition(". ")
        if letter == row["ground_truth"]:
            return text
    raise AssertionError(f"ground truth {row['ground_truth']!r} not among options {row['options']}")


RE = {
    "object_counting": re.compile(r"^How many (.+)\(s\) are in this room\?$"),
    "object_size_estimation": re.compile(
        r"^What is the length of the longest dimension \(length, width, or height\) of the (.+), "
        r"measured in centimeters\?$"),
    "object_abs_distance": re.compile(
        r"^Measuring from the closest point of each object, what is the (?:direct )?distance between the (.+) "
        r"and the (.+) \(in meters\)\?$"),
    "room_size_estimation": re.compile(
        r"^What is the size of this room \(in square meters\)\? If multiple rooms are shown, estimate the size of "
        r"the combined space\.$"),
    "object_rel_distance": re.compile(
        r"^Measuring from the closest point of each object, which of these objects \((.+), (.+), (.+), (.+)\) is "
        r"the closest to the (.+)\?$"),
    "object_rel_direction_easy": re.compile(
        r"^If I am standing by the (.+) and facing the (.+), is the (.+) to the left or the right of the (.+)\?$"),
    "object_rel_direction_medium": re.compile(
        r"^If I am standing by the (.+) and facing the (.+), is the (.+) to my left, right, or back\? An object is "
        r"to my back if I would have to turn at least 135 degrees in order to face it\.$"),
    "object_rel_direction_hard": re.compile(
        r"^If I am standing by the (.+) and facing the (.+), is the (.+) to my front-left, front-right, back-left, "
        r"or back-right\? The directions refer to the quadrants of a Cartesian plane \(if I am standing at the "
        r"origin and facing along the positive y-axis\)\.$"),
    "obj_appearance_order": re.compile(
        r"^What will be the first-time appearance order of the following categories in the video: "
        r"(.+), (.+), (.+), (.+)\?$"),
    "route_planning": re.compile(
        r"^You are a robot beginning at the (.+?) (facing|and facing|with your back to) the (.+)\. You want to "
        r"navigate to the (.+)\. You will "
        r"perform the following actions \(Note: for each \[please fill in\], choose either 'turn back,' "
        r"'turn left,' or 'turn right\.'\): (.+) You have reached the final destination\.$"),
}


def unique_objects(scene):
    """{category: object} of categories with exactly one instance, that instance seen."""
    by_cat = {}
    for o in scene["objects"]:
        by_cat.setdefault(o["category"], []).append(o)
    return {c: objs[0] for c, objs in by_cat.items() if len(objs) == 1 and objs[0]["first_visible_s"] is not None}


def usable_categories(scene):
    """{category: instances} of categories whose every instance was seen."""
    by_cat = {}
    for o in scene["objects"]:
        by_cat.setdefault(o["category"], []).append(o)
    return {c: objs for c, objs in by_cat.items() if all(o["first_visible_s"] is not None for o in objs)}


def check_row(scene, row):
    """Recompute one row's answer and rejection rules independently; raise AssertionError on disagreement."""
    qt, q = row["question_type"], row["question"]
    m = RE[qt].match(q)
    assert m, f"{qt} question does not follow the template: {q}"
    uniq, usable = unique_objects(scene), usable_categories(scene)
    area = shoelace(scene["room"]["floor_polygon"])
    if qt == "object_counting":
        assert m[1] in usable and len(usable[m[1]]) > 1
        assert row["ground_truth"] == str(len(usable[m[1]]))
    elif qt == "object_size_estimation":
        assert abs(int(row["ground_truth"]) - 100 * max(uniq[m[1]]["size"])) <= 0.5 + 1e-6
    elif qt == "object_abs_distance":
        d = sampled_distance(uniq[m[1]], uniq[m[2]])
        assert d >= 0.2
        assert abs(float(row["ground_truth"]) - d) <= 0.05 + SAMPLE_TOL_M, (q, row["ground_truth"], d)
    elif qt == "room_size_estimation":
        assert abs(float(row["ground_truth"]) - area) <= 0.05 + 1e-9
    elif qt == "object_rel_distance":
        cands, target = [m[i] for i in range(1, 5)], uniq[m[5]]
        assert [o.partition(". ")[2] for o in row["options"]] == cands
        dist = {c: min(sampled_distance(target, o) for o in usable[c]) for c in cands}
        assert option_text(row) == min(cands, key=dist.get)
        ds = sorted(dist.values())
        margin = 0.30 if area > 40 else 0.15
        assert min(b - a for a, b in zip(ds, ds[1:])) >= margin - SAMPLE_TOL_M
    elif qt.startswith("object_rel_direction"):
        kind = qt.rsplit("_", 1)[1]
        a, b, c = uniq[m[1]], uniq[m[2]], uniq[m[3]]
        if kind == "easy":
            assert m[4] == m[2]
        pa, pb, pc = (np.asarray(o["center"][:2]) for o in (a, b, c))
        for p, r in ((pa, pb), (pa, pc), (pb, pc)):
            assert 0.3 <= np.linalg.norm(p - r) <= 5.0
        ang = angle_deg(pa, pb, pc)
        assert margin_of(ang, kind) >= 10.0, (q, ang)
        label = label_of(ang, kind)
        assert option_text(row) == label, (q, ang)
        off = sum(label_of(angle_deg(pa, pb, k[:2]), kind) != label for k in box_corners(c))
        assert off <= 2
    elif qt == "obj_appearance_order":
        cats = [m[i] for i in range(1, 5)]
        seen = {cat: min(o["first_visible_s"] for o in usable[cat]) for cat in cats}
        truth = sorted(cats, key=seen.get)
        assert option_text(row).split(", ") == truth
        ts = sorted(seen.values())
        assert min(b - a for a, b in zip(ts, ts[1:])) >= 1.0
        perms = [o.partition(". ")[2].split(", ") for o in row["options"]]
        assert all(sorted(p) == sorted(cats) for p in perms) and len({tuple(p) for p in perms}) == len(perms)
    elif qt == "route_planning":
        check_route(scene, row, m, uniq)


UNIT_M = {"one foot": 0.3048, "two feet": 0.6096, "1 meter": 1.0, "two steps": 1.5}
WRITTEN_DEG = {"Turn left": 90.0, "Turn right": -90.0, "Turn back": 180.0}


def clear_turn(ang):
    return abs(ang) >= 45 and abs(abs(ang) - 135) >= 10


def resolve_stop(scene, name, here, uniq, usable):
    """The object a route step names: a unique category, "closest X" (centre nearest ``here`` by 0.5 m) or
    "X by the Y" (closest points nearest the unique Y, within 1 m, by 0.5 m)."""
    if name in uniq:
        return uniq[name]
    if name.startswith("closest "):
        objs = usable[name.removeprefix("closest ")]
        ds = sorted((float(np.linalg.norm(np.asarray(o["center"][:2]) - here)), o["id"]) for o in objs)
        assert ds[1][0] - ds[0][0] >= 0.5 - 1e-9, (name, ds)
        return next(o for o in objs if o["id"] == ds[0][1])
    x, _, y = name.partition(" by the ")
    ref = uniq[y]
    ds = sorted((sampled_distance(o, ref), o["id"]) for o in usable[x])
    assert ds[0][0] <= 1.0 + SAMPLE_TOL_M and ds[1][0] - ds[0][0] >= 0.5 - 2 * SAMPLE_TOL_M, (name, ds)
    return next(o for o in usable[x] if o["id"] == ds[0][1])


def check_route(scene, row, m, uniq):
    """Walk the steps with own geometry: blanks (+ a written turn at the same place), "Go forward about"
    after a blank (shorter than half the leg it starts), "Go forward until" (landmark phrases, endings)."""
    usable = usable_categories(scene)
    a, start_kind, b = uniq[m[1]], m[2], uniq[m[3]]
    items = [s.strip() for s in re.split(r"(?:^|\s)\d+\. ", m[5]) if s.strip()]
    assert items[-1].endswith(".")
    items[-1] = items[-1][:-1]
    here = np.asarray(a["center"][:2], float)
    heading = np.asarray(b["center"][:2], float) - here
    if start_kind == "with your back to":  # facing away from b
        heading = -heading
    turns, chain, blanks, written, walked, first = [], [a], 0, 0.0, None, True
    for n_item, it in enumerate(items):
        if it == "[please fill in]":
            blanks += 1
        elif it in WRITTEN_DEG:
            written += WRITTEN_DEG[it]
        elif it.startswith("Go forward about "):
            assert blanks == 1 and walked is None, items
            walked = UNIT_M[it.removeprefix("Go forward about ")]
        else:
            name = re.sub(r" is on your (left|right)$", "", it.removeprefix("Go forward until the "))
            if n_item == len(items) - 1:
                assert name == m[4]
            else:
                assert not re.search(r" is on your (left|right)$", it), it  # endings only on the destination
            stop = resolve_stop(scene, name, here, uniq, usable)
            leg = np.asarray(stop["center"][:2], float) - here
            ang = heading_change(heading, leg)
            assert blanks <= 1
            if blanks:
                rest = (ang - written + 180.0) % 360.0 - 180.0
                assert clear_turn(rest), (ang, written)
                turns.append(turn_of(rest))
            elif written:
                assert clear_turn(ang) and turn_of(written).lower() == turn_of(ang).lower(), (ang, written)
            else:
                assert first and abs(ang) < 30.0, (items, ang)
            if walked is not None:
                assert walked <= 0.5 * np.linalg.norm(leg) + 1e-9
            here, heading, blanks, written, walked, first = here + leg, leg, 0, 0.0, None, False
            chain.append(stop)
    assert blanks == 0 and not written and len(chain) >= 3
    assert option_text(row) == ", ".join(turns)
    assert all(len(o.partition(". ")[2].split(", ")) == len(turns) for o in row["options"])
    assert len(row["options"]) == (3 if len(turns) == 1 else 4)
    # every leg runs over free floor: inside the room, away from walls and other floor-standing objects
    poly = scene["room"]["floor_polygon"]
    floor_objs = [o for o in scene["objects"] if o["support"] == "floor"]
    by_id = {o["id"]: o for o in scene["objects"]}

    def reach(o):  # the object and, for one standing on another object, its supporter
        sup = o["support"]
        return [o] + ([by_id[int(sup.split(":")[1])]] if sup.startswith("object:") else [])

    for u, v in zip(chain, chain[1:]):
        assert u["support"] != "ceiling" and v["support"] != "ceiling"
        p, r = np.asarray(u["center"][:2]), np.asarray(v["center"][:2])
        assert np.linalg.norm(r - p) >= 0.5
        ends = reach(u) + reach(v)
        for t in np.linspace(0, 1, 200):
            x, y = p + t * (r - p)
            if any(footprint_gap(e, x, y) <= 0.4 for e in ends):
                continue
            assert point_in_poly(x, y, poly), (row["question"], x, y)
            for o in floor_objs:
                if all(o is not e for e in ends):
                    assert footprint_gap(o, x, y) >= 0.1, (row["question"], o["category"], x, y)


@pytest.fixture
def oracle():
    return SimpleNamespace(
        sampled_distance=sampled_distance, angle_deg=angle_deg, label_of=label_of, margin_of=margin_of,
        box_corners=box_corners, turn_of=turn_of, heading_change=heading_change, shoelace=shoelace,
        point_in_poly=point_in_poly, footprint_gap=footprint_gap, option_text=option_text, RE=RE,
        SAMPLE_TOL_M=SAMPLE_TOL_M, check_row=check_row, unique_objects=unique_objects,
        usable_categories=usable_categories, make_object=make_object, make_scene=_scene,
        table_parts=table_parts, chair_parts=chair_parts)
