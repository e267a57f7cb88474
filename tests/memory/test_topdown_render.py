"""Top-down map rendering: size, non-blank content, and memories without points or cameras."""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.se3 import look_at
from spatialmem.memory.scene import CameraRecord, ObjectInstance, Room, SceneMemory
from spatialmem.memory.topdown import category_color, render_topdown
from spatialmem.types import Intrinsics

ROOM = Room(0.0, np.array([[0.0, 0.0], [6.0, 0.0], [6.0, 4.0], [0.0, 4.0]]), 24.0)


def boxes_only() -> SceneMemory:
    insts = (
        ObjectInstance(1, "sofa", OrientedBox.from_yaw([1.5, 1.0, 0.4], [2.0, 0.9, 0.8], 0.0)),
        ObjectInstance(2, "tv", OrientedBox.from_yaw([5.5, 3.0, 1.0], [1.2, 0.1, 0.7], np.pi / 2)),
    )
    return SceneMemory("boxes", insts, room=ROOM)


def full() -> SceneMemory:
    rng = np.random.default_rng(0)
    pts = np.concatenate([rng.uniform([0, 0, 0], [6, 4, 0.01], (3000, 3)),
                          rng.uniform([1, 0.6, 0], [2.5, 1.4, 0.8], (800, 3))]).astype(np.float32)
    cols = rng.integers(0, 256, (len(pts), 3), dtype=np.uint8)
    intr = Intrinsics.from_fov(64, 48, 60)
    cams = tuple(CameraRecord(k, k / 10, look_at([0.5 + 0.5 * k, 3.0, 1.5], [3, 1, 0.5]), intr) for k in range(8))
    m = boxes_only()
    return SceneMemory("full", m.instances, cams, (), ROOM, pts, cols)


def test_size_dtype_and_aspect():
    img = render_topdown(boxes_only(), width_px=640)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[1] == 640 and img.shape[2] == 3
    assert 0.4 < img.shape[0] / img.shape[1] < 1.0  # the room is 6 x 4 m plus margins


def test_imported_memory_is_not_blank_and_shows_box_colours():
    img = render_topdown(boxes_only(), width_px=500)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 5
    for cat in ("sofa", "tv"):
        assert np.any(np.all(img == np.array(category_color(cat), np.uint8), axis=2)), cat


def test_points_and_camera_path_are_drawn():
    with_pts = render_topdown(full(), width_px=400)
    without = render_topdown(boxes_only(), width_px=400)
    assert with_pts.shape[1] == 400
    assert np.any(np.all(with_pts == (220, 40, 40), axis=2))  # camera path colour
    assert not np.any(np.all(without == (220, 40, 40), axis=2))
    assert np.abs(with_pts.astype(int) - without.astype(int)).sum() > 1000


def test_empty_memory_renders():
    img = render_topdown(SceneMemory("nothing"), width_px=128)
    assert img.shape[1] == 128 and img.shape[0] >= 64
    assert img.min() < 255  # at least the scale bar


def test_is_deterministic():
    assert np.array_equal(render_topdown(full(), 300), render_topdown(full(), 300))


def test_ceiling_points_do_not_hide_the_room():
    rng = np.random.default_rng(1)
    floor = rng.uniform([0, 0, 0], [6, 4, 0.01], (4000, 3))
    ceiling = rng.uniform([0, 0, 2.6], [6, 4, 2.61], (4000, 3))
    pts = np.concatenate([floor, ceiling]).astype(np.float32)
    cols = np.concatenate([np.full((4000, 3), (0, 200, 0)), np.full((4000, 3), (0, 0, 200))]).astype(np.uint8)
    img = render_topdown(SceneMemory("c", room=ROOM, points_world=pts, colors_rgb=cols), width_px=300)
    assert np.any(np.all(img == (0, 200, 0), axis=2))
    assert not np.any(np.all(img == (0, 0, 200), axis=2))


def test_tilted_box_footprint_is_its_convex_outline():
    from scipy.spatial import ConvexHull

    from spatialmem.geometry.boxes import polygon_area
    from spatialmem.memory.topdown import footprint_xy

    c, s = np.cos(0.4), np.sin(0.4)
    tilt = np.array([[1.0, 0.0, 0.0], [0.0, c, s], [0.0, -s, c]])  # rolled about x: not gravity-aligned
    box = OrientedBox([1.0, 2.0, 0.5], [1.2, 0.6, 0.8], tilt)
    outline = footprint_xy(box)
    hull = ConvexHull(box.corners()[:, :2])
    assert len(outline) == len(hull.vertices)
    assert polygon_area(outline) == pytest.approx(hull.volume)
