"""Amodal completion of fused boxes whose unseen part is known to continue: by support and by the ceiling.

A fused box covers only the surfaces the cameras saw. Two cases have evidence for where the rest is:

* **Occluded below** (:func:`complete_down_to_floor`): objects rest on something. When the part of an
  object below what was seen is hidden behind something else (a heater behind a bed, a plant's pot
  behind a sofa), *nothing at all* was observed under the box's footprint between the floor and its
  bottom. An object whose bottom is a little above the floor (``max_gap_m``), with no observed point
  under it and no other object's box under it that could carry it, is extended down to the floor. An
  object standing on furniture keeps its box (the furniture's top under it is hidden by the object
  itself, but the furniture is in the memory), and so does one hanging on a wall above a floor that was
  seen.
* **Never seen from above** (:func:`complete_up_to_ceiling`): the top of an object hanging above every
  camera (a ceiling light) can never be seen, so its box is only its underside. A box entirely above
  the highest camera whose top is within ``max_gap_m`` of the ceiling is extended up to the ceiling.

Thin wall-mounted categories are completed against their wall instead (:mod:`.thin`).
"""

from __future__ import annotations

import numpy as np

from spatialmem.geometry.boxes import OrientedBox

SUPPORT_MAX_GAP_M = 0.6  # a bottom higher than this above the floor is not completed down
SUPPORT_FOOTPRINT_INSET_M = 0.03  # footprint shrunk by this (wall and neighbour points at its edge)
SUPPORT_MIN_POINTS = 3  # observed points under the footprint that show something was seen there
SUPPORT_CLEARANCE_M = 0.03  # points within this below the box bottom belong to the object itself
CEILING_MAX_GAP_M = 0.3  # a top farther than this below the ceiling is not completed up


def _with_z(box: OrientedBox, lo: float, hi: float) -> OrientedBox:
    center, size = box.center.copy(), box.size.copy()
    center[2], size[2] = (lo + hi) / 2.0, hi - lo
    return OrientedBox(center, size, box.axes)


def points_under(box: OrientedBox, points_world: np.ndarray, floor_z: float,
                 inset_m: float = SUPPORT_FOOTPRINT_INSET_M, clearance_m: float = SUPPORT_CLEARANCE_M) -> int:
    """How many of ``points_world`` (N, 3) lie under the box: inside its floor footprint shrunk by
    ``inset_m`` and between 5 cm below the floor and ``clearance_m`` below the box's bottom."""
    g = box.gravity_aligned()
    pts = np.asarray(points_world, np.float64).reshape(-1, 3)
    z = pts[:, 2]
    band = (z > floor_z - 0.05) & (z < g.z_min - clearance_m)
    if not band.any():
        return 0
    d = pts[band, :2] - g.center[:2]
    inside = np.ones(len(d), bool)
    for k in range(2):
        axis = g.axes[k, :2] / max(float(np.linalg.norm(g.axes[k, :2])), 1e-12)
        half = max(g.size[k] / 2.0 - inset_m, 0.0)
        inside &= np.abs(d @ axis) <= half
    return int(inside.sum())


def carried_by(box: OrientedBox, other: OrientedBox, below_m: float = 0.05) -> bool:
    """Whether ``other`` could carry ``box``: it reaches more than ``below_m`` under ``box``'s bottom and the
    centre or a corner of ``box``'s footprint (inset by 3 cm) lies on ``other``'s footprint (a pillow lies
    on a bed even where the bed's headboard is higher than the pillow)."""
    g, o = box.gravity_aligned(), other.gravity_aligned()
    if o.z_min > g.z_min - below_m:
        return False
    corners = [np.zeros(2)] + [np.array([sx, sy]) for sx in (-1, 1) for sy in (-1, 1)]
    half = np.maximum(g.size[:2] / 2.0 - SUPPORT_FOOTPRINT_INSET_M, 0.0)
    for c in corners:
        p = g.center[:2] + sum(c[k] * half[k] * g.axes[k, :2] for k in range(2))
        d = p - o.center[:2]
        if all(abs(float(d @ o.axes[k, :2])) <= o.size[k] / 2.0 for k in range(2)):
            return True
    return False


def complete_down_to_floor(box: OrientedBox, points_world: np.ndarray, floor_z: float | None,
                           others: list[OrientedBox] | tuple[OrientedBox, ...] = (),
                           max_gap_m: float = SUPPORT_MAX_GAP_M) -> OrientedBox:
    """``box`` extended down to ``floor_z`` when its lower part was hidden (see module docstring).

    Args:
        box: the fused box (gravity-aligned or nearly).
        points_world: (N, 3) everything observed in the scene (the scene point cloud).
        floor_z: the floor height (None: the box comes back unchanged).
        others: the boxes of the memory's other objects (possible supports).
        max_gap_m: boxes whose bottom is more than this above the floor are left as they are.
    """
    if floor_z is None:
        return box
    lo, hi = box.z_min, box.z_max
    if not 0.0 < lo - floor_z <= max_gap_m:
        return box
    if any(carried_by(box, o) for o in others) or points_under(box, points_world, floor_z) >= SUPPORT_MIN_POINTS:
        return box
    return _with_z(box, float(floor_z), hi)


def complete_up_to_ceiling(box: OrientedBox, ceiling_z: float | None, max_camera_z: float | None,
                           max_gap_m: float = CEILING_MAX_GAP_M) -> OrientedBox:
    """``box`` extended up to ``ceiling_z`` when it hangs above every camera (see module docstring)."""
    if ceiling_z is None or max_camera_z is None:
        return box
    lo, hi = box.z_min, box.z_max
    if lo <= max_camera_z or not 0.0 < ceiling_z - hi <= max_gap_m:
        return box
    return _with_z(box, lo, float(ceiling_z))
