"""Ground truth of a written scene folder, checked independently of the generator's own code."""

from __future__ import annotations

import numpy as np

from spatialmem.geometry.boxes import OrientedBox, boxes_intersect

from .conftest import load_scene, read_png


def _backproject(depth_mm: np.ndarray, intr: dict, pose: np.ndarray, step: int = 1):
    """World points (N, 3) and their pixel (row, col) for every pixel with depth, using the pinhole model."""
    v, u = np.nonzero(depth_mm[::step, ::step] > 0)
    v, u = v * step, u * step
    z = depth_mm[v, u] / 1000.0
    x = (u - intr["cx"]) / intr["fx"] * z
    y = (v - intr["cy"]) / intr["fy"] * z
    cam = np.stack([x, y, z], axis=1)
    T = np.asarray(pose, float)
    return cam @ T[:3, :3].T + T[:3, 3], v, u


def _surface_residual(points: np.ndarray, parts: list[dict]) -> np.ndarray:
    """(N,) distance of each point to the boundary of the union of boxes (0 = on the surface)."""
    outside = np.full(len(points), np.inf)
    inside = np.full(len(points), -np.inf)
    for p in parts:
        axes = np.asarray(p["axes"], float)
        half = np.asarray(p["size"], float) / 2
        local = np.abs((points - np.asarray(p["center"], float)) @ axes.T)
        outside = np.minimum(outside, np.linalg.norm(np.maximum(local - half, 0), axis=1))
        inside = np.maximum(inside, np.min(half - local, axis=1))  # > 0: this deep inside the part
    return np.maximum(outside, np.maximum(inside, 0.0))


def test_depth_backprojects_onto_the_named_object(tiny_scene):
    d = load_scene(tiny_scene)
    scene, intr = d["scene"], d["intrinsics"]
    objects = {o["id"]: o for o in scene["objects"]}
    checked = 0
    for row in d["frames"][::3]:
        depth = read_png(tiny_scene / row["depth"])
        inst = read_png(tiny_scene / row["instance"])
        assert (depth > 0).all(), "a closed room: every pixel sees a surface"
        pts, v, u = _backproject(depth, intr, row["world_from_camera"])
        ids = inst[v, u]
        for oid in np.unique(ids[ids > 0]):
            sel = ids == oid
            res = _surface_residual(pts[sel], objects[int(oid)]["parts"])
            assert np.quantile(res, 0.99) < 0.01 and res.max() < 0.02, (row["index"], oid, res.max())
            checked += int(sel.sum())
    assert checked > 500


def test_structure_pixels_land_on_floor_walls_or_ceiling(tiny_scene):
    d = load_scene(tiny_scene)
    scene, intr = d["scene"], d["intrinsics"]
    poly = np.asarray(scene["room"]["floor_polygon"], float)
    h = scene["room"]["ceiling_height_m"]
    for row in d["frames"][::4]:
        depth = read_png(tiny_scene / row["depth"])
        inst = read_png(tiny_scene / row["instance"])
        pts, v, u = _backproject(depth, intr, row["world_from_camera"])
        pts = pts[inst[v, u] == 0]
        on_floor = np.abs(pts[:, 2]) < 0.01
        on_ceiling = np.abs(pts[:, 2] - h) < 0.01
        a, b = poly, np.roll(poly, -1, axis=0)
        q = pts[:, None, :2]
        t = np.clip(np.sum((q - a) * (b - a), axis=2) / np.sum((b - a) ** 2, axis=1), 0, 1)
        wall_d = np.min(np.linalg.norm(q - (a + t[..., None] * (b - a)), axis=2), axis=1)
        on_wall = wall_d < 0.01
        ok = on_floor | on_ceiling | on_wall
        assert ok.mean() > 0.999, (row["index"], ok.mean())


def test_object_boxes_contain_their_parts(tiny_scene):
    scene = load_scene(tiny_scene)["scene"]
    for o in scene["objects"]:
        box = OrientedBox.from_dict(o)
        assert box.is_gravity_aligned()
        for p in o["parts"]:
            corners = OrientedBox.from_dict(p).corners()
            assert box.contains(corners, tol=1e-4).all(), (o["id"], o["category"])


def _aabbs(parts: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    ext = np.array([np.abs(np.asarray(p["axes"])).T @ (np.asarray(p["size"]) / 2) for p in parts])
    ctr = np.array([p["center"] for p in parts], float)
    return ctr - ext, ctr + ext


def test_no_two_objects_interpenetrate(tiny_scene):
    scene = load_scene(tiny_scene)["scene"]
    objs = scene["objects"]
    boxes = [_aabbs(o["parts"]) for o in objs]
    for i in range(len(objs)):
        for j in range(i + 1, len(objs)):
            (lo_a, hi_a), (lo_b, hi_b) = boxes[i], boxes[j]
            near = np.all((lo_a[:, None] < hi_b[None]) & (lo_b[None] < hi_a[:, None]), axis=2)  # cheap pre-filter
            for pi, qi in zip(*np.nonzero(near)):
                a = OrientedBox.from_dict(objs[i]["parts"][pi])
                b = OrientedBox.from_dict(objs[j]["parts"][qi])
                a = OrientedBox(a.center, np.maximum(a.size - 0.006, 0), a.axes)  # 3 mm per side: touching ok
                assert not boxes_intersect(a, b), (objs[i]["category"], objs[j]["category"])


def test_objects_inside_the_room(tiny_scene):
    scene = load_scene(tiny_scene)["scene"]
    poly = np.asarray(scene["room"]["floor_polygon"], float)
    h = scene["room"]["ceiling_height_m"]
    from matplotlib.path import Path as MplPath

    room = MplPath(poly)
    for o in scene["objects"]:
        box = OrientedBox.from_dict(o)
        assert room.contains_points(box.footprint(), radius=-1e-6).all() or room.contains_points(
            box.footprint(), radius=1e-6).all(), o["category"]
        assert -1e-6 <= box.z_min and box.z_max <= h + 1e-6


def test_first_visible_recomputed_from_the_masks(tiny_scene):
    d = load_scene(tiny_scene)
    scene = d["scene"]
    thr = scene["first_visible_min_pixels"]
    W, H = scene["image_size"]
    assert thr == int(np.ceil(500 * W * H / (640 * 480)))
    first: dict[int, int] = {}
    for row in d["frames"]:
        counts = np.bincount(read_png(tiny_scene / row["instance"]).ravel())
        for oid in np.nonzero(counts >= thr)[0]:
            first.setdefault(int(oid), row["index"])
    seen = 0
    for o in scene["objects"]:
        assert o["first_visible_frame"] == first.get(o["id"])
        if o["first_visible_frame"] is not None:
            seen += 1
            assert abs(o["first_visible_s"] - o["first_visible_frame"] / scene["fps"]) < 1e-6
    assert seen >= 0.5 * len(scene["objects"])  # 4 s only; the full 30 s path sees every object


def test_scene_json_follows_the_contract(tiny_scene):
    d = load_scene(tiny_scene)
    s = d["scene"]
    assert s["format"] == "spatialmem-scene" and s["version"] == 1 and s["units"] == "m" and s["up"] == "z"
    assert s["scene_name"] == f"scene_{s['seed']:05d}" == tiny_scene.name
    assert s["num_frames"] == len(d["frames"]) == 40 and s["image_size"] == [96, 72]
    assert abs(s["duration_s"] - 40 / s["fps"]) < 1e-9
    poly = np.asarray(s["room"]["floor_polygon"], float)
    x, y = poly[:, 0], poly[:, 1]
    signed = 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
    assert signed > 0 and abs(signed - s["room"]["floor_area_m2"]) < 1e-3
    assert s["room"]["shape"] in ("rect", "L") and 2.4 <= s["room"]["ceiling_height_m"] <= 3.2
    assert [o["id"] for o in s["objects"]] == list(range(1, len(s["objects"]) + 1))
    ids = {o["id"] for o in s["objects"]}
    for o in s["objects"]:
        assert o["category"] == o["category"].lower()
        sup = o["support"]
        assert sup in ("floor", "wall", "ceiling") or (sup.startswith("object:") and int(sup[7:]) in ids)
    for i, row in enumerate(d["frames"]):
        assert row["index"] == i and abs(row["timestamp_s"] - i / s["fps"]) < 1e-6
        T = np.asarray(row["world_from_camera"])
        assert np.allclose(T[:3, :3] @ T[:3, :3].T, np.eye(3), atol=1e-6)
        assert (tiny_scene / row["rgb"]).is_file()
    assert set(d["intrinsics"]) == {"fx", "fy", "cx", "cy", "width", "height"}
    assert (tiny_scene / "video.mp4").stat().st_size > 0 and (tiny_scene / "questions.jsonl").exists()


def test_scene_json_alone_re_renders_the_frames(tiny_scene):
    from spatialmem.synth.mesh import build_mesh
    from spatialmem.synth.render_cpu import CPURenderer
    from spatialmem.synth.scene_spec import spec_from_dict
    from spatialmem.types import Intrinsics

    d = load_scene(tiny_scene)
    poses = [r["world_from_camera"] for r in d["frames"]]
    spec = spec_from_dict(d["scene"], poses)
    assert len(spec.objects) == len(d["scene"]["objects"]) and spec.num_frames == len(poses)
    K = Intrinsics.from_dict(d["intrinsics"])
    _, depth, inst = CPURenderer(build_mesh(spec)).render(K, spec.poses[7])
    row = d["frames"][7]
    assert (inst == read_png(tiny_scene / row["instance"])).mean() > 0.99
    assert (np.abs(np.rint(depth * 1000) - read_png(tiny_scene / row["depth"])) <= 2).mean() > 0.99
