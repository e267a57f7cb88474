"""Thin wall-mounted objects (doors, windows, pictures, whiteboards ...): boxes completed against their wall.

Only the front of a wall-mounted object is ever seen, so a box fitted to its points is too thin, and a
few degrees of yaw error on a 1 m wide, 5 cm deep box costs most of its IoU. For the categories of
:data:`THIN_OBJECTS`, :func:`fit_to_wall` re-fits the box in the frame of the wall it hangs on (a long
edge of the room's floor polygon, parallel to the box and just behind it): the box becomes exactly
parallel to the wall, its back is the wall plane, its front the object's frontmost points, and its
thickness at least the category's minimum. Doors also reach the floor and are at least a standard
door's height (their tops are often out of view). A box with no such wall behind it is kept as it is,
grown symmetrically to the minimum thickness.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatialmem.geometry.boxes import OrientedBox


@dataclass(frozen=True)
class ThinPrior:
    """What is known about a thin category (metres).

    Attributes:
        min_thickness_m: the box is never thinner than this (front to back).
        max_thickness_m: a box whose thinnest horizontal side is above this is not treated as thin.
        reaches_floor: the object stands on the floor (a door): the box is extended down to it.
        min_height_m: the box is at least this tall (from its bottom), 0 = no minimum.
    """

    min_thickness_m: float
    max_thickness_m: float = 0.25
    reaches_floor: bool = False
    min_height_m: float = 0.0


# THE table of thin categories (docs/architecture.md, "Thin objects"). Thicknesses are the usual
# front-to-back depth of the object including its frame; 2.0 m is the smallest standard door height.
THIN_OBJECTS: dict[str, ThinPrior] = {
    "door": ThinPrior(0.05, reaches_floor=True, min_height_m=2.0),
    "window": ThinPrior(0.08),
    "whiteboard": ThinPrior(0.03),
    "blackboard": ThinPrior(0.03),
    "picture": ThinPrior(0.02),
    "poster": ThinPrior(0.005),
    "painting": ThinPrior(0.02),
    "mirror": ThinPrior(0.02),
    "clock": ThinPrior(0.03),
    "board": ThinPrior(0.02),
}
WALL_MAX_ANGLE_DEG = 15.0  # box and wall at most this far from parallel
WALL_MAX_GAP_M = 0.3  # the wall line at most this far behind the box's centre
WALL_MIN_EDGE_M = 1.0  # polygon edges shorter than this (notches, door recesses) are not walls


def _walls(polygon: np.ndarray):
    """(start, unit direction, inward normal, length) of the long edges of a counter-clockwise polygon."""
    poly = np.asarray(polygon, np.float64).reshape(-1, 2)
    for i in range(len(poly)):
        a, b = poly[i], poly[(i + 1) % len(poly)]
        length = float(np.linalg.norm(b - a))
        if length >= WALL_MIN_EDGE_M:
            t = (b - a) / length
            yield a, t, np.array([-t[1], t[0]]), length


def wall_behind(box: OrientedBox, polygon: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(point on the wall line, unit direction along it, unit normal into the room) of the wall a thin box
    hangs on: a long polygon edge nearly parallel to the box's widest horizontal side, behind its centre
    by at most :data:`WALL_MAX_GAP_M`; the nearest such. None when there is none."""
    if polygon is None or len(polygon) < 3:
        return None
    g = box.gravity_aligned()
    k = int(np.argmax(g.size[:2]))
    wide = g.axes[k, :2] / max(float(np.linalg.norm(g.axes[k, :2])), 1e-12)
    c = g.center[:2]
    best = None
    cos_max = np.cos(np.radians(WALL_MAX_ANGLE_DEG))
    for a, t, n, _ in _walls(polygon):
        if abs(float(wide @ t)) < cos_max:
            continue
        gap = float((c - a) @ n)  # centre's distance in front of the wall line
        if 0.0 <= gap <= WALL_MAX_GAP_M and (best is None or gap < best[0]):
            best = (gap, a, t, n)
    return None if best is None else (best[1], best[2], best[3])


def fit_to_wall(box: OrientedBox, points_world: np.ndarray, category: str, polygon: np.ndarray | None,
                floor_z: float | None) -> OrientedBox:
    """The completed box of a thin object (see module docstring); other categories come back unchanged.

    Args:
        box: the box fitted to the object's points.
        points_world: (N, 3) the object's fused points (the box alone is used when N = 0).
        category: its category (looked up in :data:`THIN_OBJECTS`).
        polygon: (M, 2) the room's counter-clockwise floor polygon, or None.
        floor_z: the floor height, or None.
    """
    prior = THIN_OBJECTS.get(category)
    if prior is None:
        return box
    g = box.gravity_aligned()
    if float(np.min(g.size[:2])) > prior.max_thickness_m:
        return box
    wall = wall_behind(g, polygon) if polygon is not None else None
    pts = np.asarray(points_world, np.float64).reshape(-1, 3)
    if len(pts) == 0:
        pts = g.corners()
    if wall is None:
        k = int(np.argmin(g.size[:2]))
        size = g.size.copy()
        size[k] = max(size[k], prior.min_thickness_m)
        lo, hi = g.z_min, g.z_max
        center = g.center.copy()
    else:
        a, t, n = wall
        along, out = (pts[:, :2] - a) @ t, (pts[:, :2] - a) @ n
        front = max(float(out.max()), prior.min_thickness_m)
        lo_t, hi_t = float(along.min()), float(along.max())
        lo, hi = float(pts[:, 2].min()), float(pts[:, 2].max())
        mid_xy = a + t * (lo_t + hi_t) / 2.0 + n * front / 2.0
        center = np.array([mid_xy[0], mid_xy[1], 0.0])
        size = np.array([hi_t - lo_t, front, 0.0])
    if prior.reaches_floor and floor_z is not None and lo > floor_z:
        lo = float(floor_z)
    hi = max(hi, lo + prior.min_height_m)
    center[2], size[2] = (lo + hi) / 2.0, hi - lo
    if wall is None:
        return OrientedBox(center, size, g.axes)
    _, t, n = wall
    return OrientedBox(center, size, np.array([[t[0], t[1], 0.0], [n[0], n[1], 0.0], [0.0, 0.0, 1.0]]))
