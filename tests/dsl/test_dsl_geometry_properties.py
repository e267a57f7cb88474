"""Property tests (hypothesis) of the geometry the language answers with.

distance: symmetric, non-negative, zero for touching/overlapping boxes, equal to the exact
``box_distance`` (fast prism path) and to the point-cloud definition when points are present;
directions: invariant to translating or rotating the whole scene; ``quadrant`` and
``left_right_back`` agree with hand-worked examples.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spatialmem.dsl import run_program
from spatialmem.geometry.boxes import OrientedBox, box_distance, sample_box_surface
from spatialmem.geometry.directions import boundary_margin_deg, classify_direction, view_angle_deg
from spatialmem.memory.measure import prism_distance
from spatialmem.memory.scene import ObjectInstance, SceneMemory

coord = st.floats(-3.0, 3.0, allow_nan=False)
extent = st.floats(0.05, 2.0, allow_nan=False)
yaw = st.floats(-np.pi, np.pi, allow_nan=False)
box_st = st.builds(lambda c, s, y: OrientedBox.from_yaw(np.array(c), np.array(s), y),
                   st.tuples(coord, coord, coord), st.tuples(extent, extent, extent), yaw)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _memory(*boxes, points: bool = False) -> SceneMemory:
    cats = ["a", "b", "c", "d"]
    def pts(b: OrientedBox) -> np.ndarray:
        return sample_box_surface(b, 0.1).astype(np.float32) if points else np.zeros((0, 3), np.float32)

    insts = tuple(ObjectInstance(i + 1, cats[i], b, pts(b)) for i, b in enumerate(boxes))
    return SceneMemory("prop", insts)


def _dist(mem, x="a", y="b") -> float:
    return run_program(f'answer(distance(the("{x}"), the("{y}")))', mem).answer


@SETTINGS
@given(box_st, box_st)
def test_distance_symmetric_nonnegative_and_exact(a, b):
    mem = _memory(a, b)
    d_ab, d_ba = _dist(mem, "a", "b"), _dist(mem, "b", "a")
    assert d_ab >= 0.0
    assert d_ab == pytest.approx(d_ba, abs=1e-12)
    assert d_ab == pytest.approx(box_distance(a, b), abs=1e-9)
    assert prism_distance(a, b) == pytest.approx(box_distance(a, b), abs=1e-9)


@SETTINGS
@given(box_st, st.floats(0.0, 1.0), yaw)
def test_distance_zero_for_touching_boxes(a, frac, y):
    # b is a's box slid along a's first axis so that the two faces touch (frac: how much extra overlap)
    shift = a.axes[0] * (a.size[0] * (1.0 - 0.5 * frac))
    b = OrientedBox(a.center + shift, a.size, a.axes)
    mem = _memory(a, b)
    assert _dist(mem) == pytest.approx(0.0, abs=1e-9)


@SETTINGS
@given(box_st, st.tuples(coord, coord), yaw)
def test_point_distance_matches_brute_force(a, offset, y):
    b = OrientedBox.from_yaw(a.center + np.array([offset[0] + 3.0, offset[1], 0.0]), a.size[::-1], y)
    mem = _memory(a, b, points=True)
    pa, pb = mem.instances[0].points_world, mem.instances[1].points_world
    brute = np.sqrt(((pa[:, None, :].astype(np.float64) - pb[None].astype(np.float64)) ** 2).sum(-1)).min()
    assert _dist(mem) == pytest.approx(brute, abs=1e-6)
    assert _dist(mem, "b", "a") == pytest.approx(brute, abs=1e-6)


def _rigid(points: np.ndarray, theta: float, t) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return points @ R.T + np.asarray(t)


SCHEMES = ("left_right", "left_right_back", "quadrant", "clock")
PROGRAM = 'v = stand_at(the("a"), facing=the("b"))\nanswer(direction(v, the("c"), scheme="{}"))'


@SETTINGS
@given(st.lists(st.tuples(coord, coord), min_size=3, max_size=3, unique=True), yaw,
       st.tuples(coord, coord, st.floats(-1, 1)))
def test_directions_invariant_to_moving_and_rotating_the_scene(xy, theta, t):
    pts = np.array([[x, y, 0.5] for x, y in xy])
    ang = view_angle_deg(pts[0, :2], pts[1, :2] - pts[0, :2], pts[2, :2])
    if np.linalg.norm(pts[1, :2] - pts[0, :2]) < 1e-3 or np.linalg.norm(pts[2, :2] - pts[0, :2]) < 1e-3:
        return
    moved = _rigid(pts, theta, t)
    mem1 = _memory(*[OrientedBox.from_yaw(p, (0.3, 0.3, 0.3), 0.0) for p in pts])
    mem2 = _memory(*[OrientedBox.from_yaw(p, (0.3, 0.3, 0.3), theta) for p in moved])
    for scheme in SCHEMES:
        if boundary_margin_deg(ang, scheme) < 1e-6:
            continue
        a = run_program(PROGRAM.format(scheme), mem1).answer_text
        b = run_program(PROGRAM.format(scheme), mem2).answer_text
        assert a == b == classify_direction(ang, scheme)


# hand-worked: viewer at the origin facing +y; (x, y) of the target -> expected labels
HAND = [
    ((-1.0, 1.0), "front-left", "left"),
    ((1.0, 1.0), "front-right", "right"),
    ((-1.0, -0.5), "back-left", "left"),  # 116.6 deg: behind-left but less than 135
    ((1.0, -0.5), "back-right", "right"),
    ((-0.5, -2.0), "back-left", "back"),  # 166 deg
    ((0.5, -2.0), "back-right", "back"),
    ((-1.0, -1.0), "back-left", "back"),  # exactly 135 deg counts as back
    ((2.0, 0.1), "front-right", "right"),
]


@pytest.mark.parametrize("xy, quadrant, lrb", HAND)
def test_quadrant_and_left_right_back_hand_worked(xy, quadrant, lrb):
    boxes = [OrientedBox.from_yaw((0, 0, 0.5), (0.2, 0.2, 0.2), 0.0),
             OrientedBox.from_yaw((0, 5, 0.5), (0.2, 0.2, 0.2), 0.0),
             OrientedBox.from_yaw((xy[0], xy[1], 0.5), (0.2, 0.2, 0.2), 0.0)]
    mem = _memory(*boxes)
    assert run_program(PROGRAM.format("quadrant"), mem).answer_text == quadrant
    assert run_program(PROGRAM.format("left_right_back"), mem).answer_text == lrb
