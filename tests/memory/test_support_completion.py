"""Amodal completion of fused boxes: hidden lower parts down to the floor, undersides up to the ceiling."""

from __future__ import annotations

import numpy as np

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.support import carried_by, complete_down_to_floor, complete_up_to_ceiling


def _box(x, y, z0, z1, sx=0.4, sy=0.3, yaw=0.0):
    return OrientedBox.from_yaw([x, y, (z0 + z1) / 2], [sx, sy, z1 - z0], yaw)


def _floor_points(x0, x1, y0, y1, step=0.05):
    xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    return np.column_stack([xs.ravel(), ys.ravel(), np.zeros(xs.size)])


def test_a_plant_whose_pot_was_hidden_reaches_the_floor():
    top_only = _box(4.4, 0.7, 0.40, 0.62)  # only the leaves above the bed beside it were seen
    bed = _box(3.3, 1.0, 0.0, 0.9, sx=1.5, sy=2.0)  # beside it, not under it
    seen_elsewhere = _floor_points(0.0, 3.0, 2.5, 4.0)  # floor seen, but not under the plant
    out = complete_down_to_floor(top_only, seen_elsewhere, 0.0, [bed])
    assert np.isclose(out.z_min, 0.0) and np.isclose(out.z_max, 0.62)
    assert np.allclose(out.center[:2], top_only.center[:2]) and np.allclose(out.size[:2], top_only.size[:2])


def test_boxes_with_something_seen_or_standing_under_them_are_kept():
    pillow = _box(4.0, 0.9, 0.54, 0.68)
    bed = _box(3.3, 1.0, 0.0, 0.92, sx=1.5, sy=2.0)  # the headboard is higher than the pillow
    assert carried_by(pillow, bed) and complete_down_to_floor(pillow, np.zeros((0, 3)), 0.0, [bed]) is pillow
    heater = _box(3.0, 0.06, 0.1, 0.58, sx=0.6, sy=0.1)  # on a wall, floor under it seen
    floor = _floor_points(2.5, 3.5, 0.0, 0.5)
    assert complete_down_to_floor(heater, floor, 0.0, []) is heater
    assert complete_down_to_floor(heater, floor[floor[:, 0] > 3.4], 0.0, []).z_min == 0.0  # not seen: completed
    high = _box(1.0, 1.0, 1.2, 1.5)  # more than 0.6 m above the floor: not guessed
    assert complete_down_to_floor(high, np.zeros((0, 3)), 0.0, []) is high


def test_a_light_seen_only_from_below_reaches_the_ceiling():
    underside = _box(1.6, 2.6, 2.75, 2.75001, sx=0.5, sy=0.5)
    out = complete_up_to_ceiling(underside, 2.89, max_camera_z=1.7)
    assert np.isclose(out.z_min, 2.75) and np.isclose(out.z_max, 2.89)
    assert complete_up_to_ceiling(underside, 2.89, max_camera_z=2.8) is underside  # a camera saw it from level
    assert complete_up_to_ceiling(underside, 3.2, max_camera_z=1.7) is underside  # too far below the ceiling
