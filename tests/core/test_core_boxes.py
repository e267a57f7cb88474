"""Exactness of the shared box geometry (distances, fitting, IoU), checked against independent math
(the exact edge/vertex distance against brute force over dense surface samples)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial import cKDTree

from spatialmem.geometry.boxes import (
    OrientedBox,
    box_distance,
    boxes_intersect,
    fit_gravity_aligned,
    iou_3d,
    point_box_distance,
    sample_box_surface,
)


def test_axis_aligned_distances_are_exact():
    a = OrientedBox.axis_aligned([0, 0, 0], [1, 1, 1])
    assert box_distance(a, OrientedBox.axis_aligned([2, 0, 0], [3, 1, 1])) == pytest.approx(1.0)
    assert box_distance(a, OrientedBox.axis_aligned([2, 2, 2], [3, 3, 3])) == pytest.approx(np.sqrt(3))
    assert box_distance(a, OrientedBox.axis_aligned([1, 0, 0], [2, 1, 1])) == 0.0  # touching
    assert box_distance(a, OrientedBox.axis_aligned([0.5, 0.5, 0.5], [3, 3, 3])) == 0.0  # overlapping


@settings(max_examples=40, deadline=None)
@given(
    dx=st.floats(0.3, 2.0),
    dy=st.floats(-1.0, 1.0),
    yaw_a=st.floats(-np.pi, np.pi),
    yaw_b=st.floats(-np.pi, np.pi),
    tilt=st.floats(-0.5, 0.5),
)
def test_box_distance_matches_dense_sampling(dx, dy, yaw_a, yaw_b, tilt):
    a = OrientedBox.from_yaw([0, 0, 0.5], [0.6, 0.4, 0.5], yaw_a)
    b = OrientedBox.from_yaw([dx + 0.6, dy, 0.5 + tilt], [0.5, 0.3, 0.8], yaw_b)
    exact = box_distance(a, b)
    assert exact == pytest.approx(box_distance(b, a), abs=1e-9)
    if exact == 0.0:
        assert boxes_intersect(a, b)
        return
    sampled = cKDTree(sample_box_surface(a, 0.01)).query(sample_box_surface(b, 0.01))[0].min()
    assert exact <= sampled + 1e-9
    assert sampled - exact < 0.015  # sampling step 1 cm: the samples are at most ~0.7 cm off


def test_point_box_distance_inside_and_outside():
    box = OrientedBox.from_yaw([1, 1, 1], [2, 1, 1], np.pi / 2)  # long axis along y
    d = point_box_distance(np.array([[1, 1, 1], [1, 2.0, 1], [1, 3, 1], [2, 1, 1]]), box)
    assert d == pytest.approx([0.0, 0.0, 1.0, 0.5])


def test_fit_gravity_aligned_recovers_a_rotated_box():
    rng = np.random.default_rng(0)
    truth = OrientedBox.from_yaw([2.0, -1.0, 0.4], [1.8, 0.9, 0.8], 0.7)
    local = rng.uniform(-0.5, 0.5, size=(4000, 3)) * truth.size
    local[:8] = np.array(np.meshgrid([-0.5, 0.5], [-0.5, 0.5], [-0.5, 0.5])).T.reshape(-1, 3) * truth.size
    pts = truth.center + local @ truth.axes
    fit = fit_gravity_aligned(pts)
    assert fit.size == pytest.approx(truth.size, abs=1e-6)
    assert fit.center == pytest.approx(truth.center, abs=1e-6)
    assert fit.contains(pts, tol=1e-6).all()
    assert iou_3d(fit, truth) == pytest.approx(1.0, abs=1e-6)


def test_iou_of_half_overlapping_boxes():
    a = OrientedBox.axis_aligned([0, 0, 0], [1, 1, 1])
    b = OrientedBox.axis_aligned([0.5, 0, 0], [1.5, 1, 1])
    assert iou_3d(a, b) == pytest.approx(1 / 3)
    assert iou_3d(a, OrientedBox.axis_aligned([0, 0, 2], [1, 1, 3])) == 0.0
    rotated = OrientedBox.from_yaw([0.5, 0.5, 0.5], [1, 1, 1], np.pi / 4)
    # intersection of a unit square and the same square rotated 45 degrees about its centre: 2(sqrt2 - 1)
    inter = 2 * (np.sqrt(2) - 1)
    assert iou_3d(a, rotated) == pytest.approx(inter / (2 - inter))


def test_iou_of_tilted_boxes_is_exact():
    tilted = OrientedBox([0, 0, 0], [1, 1, 1], [[1, 0, 0], [0, 0.8, 0.6], [0, -0.6, 0.8]])
    assert iou_3d(tilted, tilted) == pytest.approx(1.0)
    shifted = OrientedBox([0.5, 0, 0], [1, 1, 1], tilted.axes)  # half of it slides out along its own x axis
    assert iou_3d(tilted, shifted) == pytest.approx(0.5 / 1.5)
