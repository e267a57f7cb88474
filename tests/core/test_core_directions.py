"""Direction schemes and turns, against hand-worked examples (viewer at origin facing +y)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spatialmem.geometry.directions import (
    boundary_margin_deg,
    classify_direction,
    classify_turn,
    egocentric,
    view_angle_deg,
)
from spatialmem.geometry.se3 import invert, look_at, transform_points

ORIGIN, NORTH = (0.0, 0.0), (0.0, 1.0)


@pytest.mark.parametrize(
    "point, left_right, lrb, quadrant, clock",
    [
        ((-1, 1), "left", "left", "front-left", "10 o'clock"),
        ((1, 1), "right", "right", "front-right", "2 o'clock"),
        ((-1, -0.2), "left", "left", "back-left", "9 o'clock"),
        ((1, -0.5), "right", "right", "back-right", "4 o'clock"),
        ((-0.2, -1), "left", "back", "back-left", "6 o'clock"),
        ((0.5, -1), "right", "back", "back-right", "5 o'clock"),
        ((0, 2), "right", "right", "front-right", "12 o'clock"),
    ],
)
def test_hand_worked_directions(point, left_right, lrb, quadrant, clock):
    a = view_angle_deg(ORIGIN, NORTH, point)
    assert classify_direction(a, "left_right") == left_right
    assert classify_direction(a, "left_right_back") == lrb
    assert classify_direction(a, "quadrant") == quadrant
    assert classify_direction(a, "clock") == clock


def test_egocentric_and_margins():
    assert egocentric(ORIGIN, NORTH, (-1, 2)) == pytest.approx((-1.0, 2.0))
    assert egocentric((1, 1), (1, 0), (1, 0)) == pytest.approx((1.0, 0.0))  # facing +x: -y is to the right
    assert boundary_margin_deg(130, "left_right_back") == pytest.approx(5)
    assert boundary_margin_deg(-100, "quadrant") == pytest.approx(10)
    with pytest.raises(ValueError, match="scheme"):
        classify_direction(10, "compass")


def test_turns():
    assert classify_turn(90) == "turn left"
    assert classify_turn(-60) == "turn right"
    assert classify_turn(150) == classify_turn(-135) == "turn back"


@settings(max_examples=50, deadline=None)
@given(
    yaw=st.floats(-np.pi, np.pi),
    tx=st.floats(-5, 5),
    ty=st.floats(-5, 5),
    pts=st.lists(st.tuples(st.floats(-4, 4), st.floats(-4, 4)), min_size=3, max_size=3),
)
def test_directions_invariant_to_rigid_motion_of_the_scene(yaw, tx, ty, pts):
    (ax, ay), (bx, by), (cx, cy) = pts
    if np.hypot(bx - ax, by - ay) < 0.1 or np.hypot(cx - ax, cy - ay) < 0.1:
        return
    angle = view_angle_deg((ax, ay), (bx - ax, by - ay), (cx, cy))
    R = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
    t = np.array([tx, ty])
    a2, b2, c2 = (R @ np.array(p) + t for p in pts)
    moved = view_angle_deg(a2, b2 - a2, c2)
    diff = (moved - angle + 180) % 360 - 180
    assert abs(diff) < 1e-6


def test_look_at_follows_opencv_convention():
    T = look_at([0, 0, 1.5], [2, 0, 1.5])
    cam = transform_points(invert(T), np.array([[2.0, 0, 1.5], [2.0, -1, 1.5], [2.0, 0, 0.5]]))
    assert cam[0] == pytest.approx([0, 0, 2])  # straight ahead on +z
    assert cam[1][0] > 0  # world -y is to the camera's right (+x) when facing +x
    assert cam[2][1] > 0  # below is +y (down)
