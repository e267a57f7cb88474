"""Amodal completion of slabs seen from one side: extended away from the cameras to the category's size prior."""

from __future__ import annotations

import numpy as np

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.se3 import look_at
from spatialmem.memory.support import complete_hidden_depth, implausibly_thin_side, observed_free
from spatialmem.types import Intrinsics

K = Intrinsics(250.0, 250.0, 159.5, 119.5, 320, 240)
ROOM = np.array([[0.0, -1.0], [5.0, -1.0], [5.0, 5.0], [0.0, 5.0]])
TARGET = (2.5, 2.0, 0.4)


def _grid(a, b, step=0.05):
    u, v = np.meshgrid(np.arange(a[0], a[1], step), np.arange(b[0], b[1], step), indexing="ij")
    return u.ravel(), v.ravel()


def _wall_y(y, z1=2.5):
    x, z = _grid((0.0, 5.0), (0.0, z1))
    return np.column_stack([x, np.full(x.size, y), z])


def _face_y(y, x0=2.26, x1=2.74, z1=0.85):
    x, z = _grid((x0, x1), (0.0, z1), 0.02)
    return np.column_stack([x, np.full(x.size, y), z])


def _floor(y0, y1):
    x, y = _grid((0.0, 5.0), (y0, y1))
    return np.column_stack([x, y, np.zeros(x.size)])


def _cameras(y):
    return [(look_at((x, y, 1.45), TARGET), K) for x in (2.0, 2.5, 3.0)]


def _slab(depth=0.06):
    """A chair whose back alone was seen: 0.48 m wide, ``depth`` deep, front face at y = 1.97."""
    return OrientedBox([2.5, 1.97 + depth / 2, 0.425], [0.48, depth, 0.85], np.eye(3))


def _seen_from_front():
    """What cameras at y = -0.5 see of a chair whose seat is hidden: its back, the floor before it, the far wall."""
    return np.vstack([_face_y(1.97), _floor(-1.0, 1.95), _wall_y(5.0)])


def test_a_slab_seen_from_one_side_is_extended_away_from_the_cameras_to_the_prior_size():
    box = _slab()
    assert implausibly_thin_side(box, "chair") == 1
    out = complete_hidden_depth(box, "chair", _cameras(-0.5), _seen_from_front(), ROOM)
    # typical depth: the other horizontal side (0.48 m), below the chair's typical height (0.85 m)
    assert np.allclose(out.size, [0.48, 0.48, 0.85], atol=1e-6)
    assert np.isclose(out.center[1] - out.size[1] / 2, 1.97)  # the seen face stays where it was
    assert np.isclose(out.center[1] + out.size[1] / 2, 2.45)  # the rest lies behind it
    assert np.allclose(out.center[[0, 2]], box.center[[0, 2]])


def test_the_extension_stops_short_of_the_wall():
    room = np.array([[0.0, -1.0], [5.0, -1.0], [5.0, 2.25], [0.0, 2.25]])
    points = np.vstack([_face_y(1.97), _floor(-1.0, 1.95), _wall_y(2.25)])
    out = complete_hidden_depth(_slab(), "chair", _cameras(-0.5), points, room)
    assert np.isclose(out.center[1] + out.size[1] / 2, 2.23)  # wall at 2.25 minus the 2 cm margin
    assert np.isclose(out.center[1] - out.size[1] / 2, 1.97)


def test_a_chair_whose_full_depth_was_seen_is_unchanged():
    box = _slab(depth=0.5)
    assert implausibly_thin_side(box, "chair") is None
    assert complete_hidden_depth(box, "chair", _cameras(-0.5), _seen_from_front(), ROOM) is box


def test_a_thin_category_is_unchanged():
    box = _slab()
    assert implausibly_thin_side(box, "door") is None  # doors are completed against their wall (thin.py)
    assert complete_hidden_depth(box, "door", _cameras(-0.5), _seen_from_front(), ROOM) is box
    assert complete_hidden_depth(box, "plant", _cameras(-0.5), _seen_from_front(), ROOM) is box  # no size prior


def test_a_slab_with_empty_space_seen_on_both_sides_is_really_thin():
    points = np.vstack([_face_y(1.97), _face_y(2.03), _floor(-1.0, 1.95), _floor(2.05, 5.0),
                        _wall_y(5.0), _wall_y(-1.0)])
    cams = _cameras(-0.5)[:2] + _cameras(4.5)[:2]
    box = _slab()
    assert complete_hidden_depth(box, "chair", cams, points, ROOM) is box
    behind = np.array([[2.5, 2.3, 0.3], [2.5, 2.3, 0.6]])
    assert observed_free(behind, _cameras(4.5), points).all()
    assert not observed_free(behind, _cameras(-0.5), points).any()  # the slab hides it from the front


def test_without_cameras_or_points_nothing_is_guessed():
    box = _slab()
    assert complete_hidden_depth(box, "chair", [], _seen_from_front(), ROOM) is box
    assert complete_hidden_depth(box, "chair", _cameras(-0.5), np.zeros((0, 3)), ROOM) is box
