"""Thin wall-mounted objects: boxes re-fitted parallel to their wall, with a minimum thickness per category."""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox, fit_gravity_aligned, iou_3d, sample_box_surface
from spatialmem.memory.thin import THIN_OBJECTS, fit_to_wall, wall_behind

ROOM = np.array([[0.0, 0.0], [4.0, 0.0], [4.0, 5.0], [0.0, 5.0]])  # counter-clockwise


def door_front_points(top: float = 1.5) -> tuple[OrientedBox, np.ndarray]:
    """A 0.9 x 0.07 x 2.05 m door on the wall y = 0 (back 5 mm off it) and the points of its seen front,
    from 0.2 m up to ``top`` (the bottom hidden by furniture, the top out of view)."""
    truth = OrientedBox([2.0, 0.005 + 0.035, 1.025], [0.9, 0.07, 2.05], np.eye(3))
    pts = sample_box_surface(truth, 0.02)
    return truth, pts[(pts[:, 1] > 0.07) & (pts[:, 2] > 0.2) & (pts[:, 2] < top)]


def test_door_is_refitted_against_its_wall():
    truth, pts = door_front_points()
    g = fit_gravity_aligned(pts)
    fitted = OrientedBox.from_yaw(g.center, g.size + [0, 0.02, 0], np.radians(3.0))  # a box fitted 3 deg off
    assert iou_3d(fitted, truth) < 0.3  # yawed, too thin, too short: far off
    box = fit_to_wall(fitted, pts, "door", ROOM, floor_z=0.0)
    np.testing.assert_allclose(np.abs(box.axes[0]), [1, 0, 0], atol=1e-12)  # parallel to the wall y = 0
    assert box.center[1] - box.size[1] / 2 == pytest.approx(0.0, abs=1e-9)  # back on the wall plane
    assert box.size[1] >= THIN_OBJECTS["door"].min_thickness_m
    assert box.z_min == pytest.approx(0.0) and box.size[2] >= 2.0  # reaches the floor, a door's height
    assert iou_3d(box, truth) > 0.75


def test_without_a_wall_only_the_minimum_thickness_is_applied():
    box = OrientedBox([2.0, 2.5, 1.5], [0.6, 0.004, 0.4], np.eye(3))  # a picture in the middle of the room
    out = fit_to_wall(box, np.zeros((0, 3)), "picture", ROOM, floor_z=0.0)
    np.testing.assert_allclose(out.center, box.center)
    np.testing.assert_allclose(out.size, [0.6, THIN_OBJECTS["picture"].min_thickness_m, 0.4])


def test_other_categories_and_thick_boxes_are_left_alone():
    box = OrientedBox([2.0, 0.3, 0.5], [1.0, 0.5, 1.0], np.eye(3))
    assert fit_to_wall(box, np.zeros((0, 3)), "sofa", ROOM, 0.0) is box
    assert fit_to_wall(box, np.zeros((0, 3)), "window", ROOM, 0.0) is box  # 0.5 m deep: not thin


def test_short_polygon_edges_are_not_walls():
    # a 0.6 m recess where the door is: its edges are too short to be the wall behind the door
    notched = np.array([[0, 0], [1.7, 0], [1.7, 0.06], [2.3, 0.06], [2.3, 0], [4, 0], [4, 5], [0, 5]], float)
    _, pts = door_front_points()
    wall = wall_behind(fit_gravity_aligned(pts), notched)
    assert wall is not None and wall[0][1] == 0.0 and abs(wall[1][0]) == 1.0
