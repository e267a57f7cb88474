"""Amodal completion of fused boxes whose unseen part is known to continue: by support, ceiling and depth.

A fused box covers only the surfaces the cameras saw. Three cases have evidence for where the rest is:

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
* **Seen from one side only** (:func:`complete_hidden_depth`): a chair tucked under a table shows only
  its back, so its box is a few-centimetre slab. For a category of the metric-scale estimator's size table
  (:data:`~spatialmem.perception.scale.OBJECT_HEIGHT_PRIORS`, typical height and spread; thin wall-mounted
  categories excluded), a free-standing object is not much thinner than it is tall (it would tip over:
  bookshelves, the slimmest, are about 0.17 of their height deep), so a horizontal side below
  :data:`DEPTH_MIN_FRACTION` times the category's lowest plausible height (mean - 2 sd) is implausible.
  The rest of the object lies behind one of the slab's two faces, in space no camera saw through. The
  box is extended to the category's typical depth, taken as the box's other horizontal side capped by
  the typical height (a footprint about as deep as wide, never deeper than the object is tall), and
  clipped :data:`DEPTH_WALL_MARGIN_M` short of the room outline's walls. The side *away from the
  observing cameras* (their mean viewing direction) is tried first, then the other; a side is taken only
  when at most :data:`DEPTH_MAX_FREE` of the volume it would add was *observed as free space*: a camera
  that observed the instance saw a surface of the scene point cloud farther than
  :data:`DEPTH_FREE_TOL_M` beyond it along its ray (:func:`observed_free`). A slab seen from both sides
  with empty space on both is really thin and keeps its box. Other objects' boxes do not clip the
  extension (a tucked-in chair does overlap its table's box; the table top hides the seat, so that
  volume was never seen free).

Thin wall-mounted categories are completed against their wall instead (:mod:`.thin`).
"""

from __future__ import annotations

import numpy as np

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.floor import snap_box_vertically
from spatialmem.geometry.splat import project
from spatialmem.memory.thin import THIN_OBJECTS
from spatialmem.perception.scale import OBJECT_HEIGHT_PRIORS
from spatialmem.types import Intrinsics

SUPPORT_MAX_GAP_M = 0.6  # a bottom higher than this above the floor is not completed down
SUPPORT_FOOTPRINT_INSET_M = 0.03  # footprint shrunk by this (wall and neighbour points at its edge)
SUPPORT_MIN_POINTS = 3  # observed points under the footprint that show something was seen there
SUPPORT_CLEARANCE_M = 0.03  # points within this below the box bottom belong to the object itself
CEILING_MAX_GAP_M = 0.3  # a top farther than this below the ceiling is not completed up
DEPTH_MIN_FRACTION = 0.15  # a horizontal side below this times (mean - 2 sd) of the category's height is implausible
DEPTH_MIN_CAMERAS = 2  # observing cameras needed for the free-space test
DEPTH_MAX_CAMERAS = 16  # at most this many of them (evenly spread) are used
DEPTH_MAX_FREE = 0.25  # at most this fraction of the added volume may have been observed as free space
DEPTH_FREE_TOL_M = 0.10  # a sample is seen free when a surface was seen this much farther along the ray
DEPTH_ZBUFFER_SCALE = 0.25  # z-buffers of the scene cloud are rendered at this fraction of the image size
DEPTH_POINT_M = 0.075  # each scene-cloud point is drawn this wide (1.5 voxels of the 5 cm scene cloud)
DEPTH_WALL_MARGIN_M = 0.02  # an extended box stops this short of the room outline
DEPTH_MIN_GAIN_M = 0.02  # extensions shorter than this are not made


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
    if floor_z is None or not 0.0 < box.z_min - floor_z <= max_gap_m:
        return box
    if any(carried_by(box, o) for o in others) or points_under(box, points_world, floor_z) >= SUPPORT_MIN_POINTS:
        return box
    return snap_box_vertically(box, float(floor_z), None, floor_reach_m=max_gap_m)


def complete_up_to_ceiling(box: OrientedBox, ceiling_z: float | None, max_camera_z: float | None,
                           max_gap_m: float = CEILING_MAX_GAP_M) -> OrientedBox:
    """``box`` extended up to ``ceiling_z`` when it hangs above every camera (see module docstring)."""
    if ceiling_z is None or max_camera_z is None or box.z_min <= max_camera_z:
        return box
    return snap_box_vertically(box, None, float(ceiling_z), ceiling_reach_m=max_gap_m)


def implausibly_thin_side(box: OrientedBox, category: str,
                          priors: dict[str, tuple[float, float]] | None = None) -> int | None:
    """Index (0 or 1) of ``box``'s horizontal side that is implausibly thin for ``category``, or None.

    A side is implausibly thin when it is below :data:`DEPTH_MIN_FRACTION` times the category's lowest
    plausible height (mean - 2 sd of :data:`~spatialmem.perception.scale.OBJECT_HEIGHT_PRIORS`, metres).
    Categories without a prior and thin wall-mounted ones (:data:`~.thin.THIN_OBJECTS`) never are.
    """
    table = OBJECT_HEIGHT_PRIORS if priors is None else priors
    if category in THIN_OBJECTS or category not in table:
        return None
    mean, sd = table[category]
    k = int(np.argmin(box.size[:2]))
    return k if box.size[k] < DEPTH_MIN_FRACTION * max(mean - 2.0 * sd, 0.0) else None


def _ray_exit(p: np.ndarray, d: np.ndarray, polygon: np.ndarray) -> float | None:
    """Distance (metres) from ``p`` along unit ``d`` to the first crossing of ``polygon``'s (K, 2) outline,
    or None when ``p`` is outside it (or the ray never crosses it)."""
    a = polygon
    b = np.roll(polygon, -1, axis=0)
    e = b - a
    # p + t d = a + u e  ->  [d, -e] [t, u]^T = a - p
    den = d[0] * (-e[:, 1]) - d[1] * (-e[:, 0])
    ok = np.abs(den) > 1e-12
    w = a - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[:, 0] * (-e[:, 1]) - w[:, 1] * (-e[:, 0])) / den
        u = (d[0] * w[:, 1] - d[1] * w[:, 0]) / den
    hit = ok & (t > 0) & (u >= 0) & (u <= 1)
    if not hit.any() or hit.sum() % 2 == 0:  # an even number of crossings: p is outside
        return None
    return float(t[hit].min())


def observed_free(samples_world: np.ndarray, cameras: list[tuple[np.ndarray, Intrinsics]],
                  points_world: np.ndarray, point_m: float = DEPTH_POINT_M, tol_m: float = DEPTH_FREE_TOL_M,
                  scale: float = DEPTH_ZBUFFER_SCALE) -> np.ndarray:
    """(M,) bool: which of ``samples_world`` (M, 3) some camera saw through (observed as free space).

    Each camera (``(world_from_camera (4, 4), intrinsics)``) renders a z-buffer of ``points_world`` (N, 3),
    the scene's observed surfaces, at ``scale`` times its image size, each point drawn as a square of
    ``point_m`` metres (so a voxel cloud renders as closed surfaces); a sample in view is free when the
    nearest surface at its pixel is more than ``tol_m`` farther than the sample. Pixels without a surface
    say nothing.
    """
    q = np.asarray(samples_world, np.float64).reshape(-1, 3)
    pts = np.asarray(points_world, np.float64).reshape(-1, 3)
    free = np.zeros(len(q), bool)
    if len(q) == 0 or len(pts) == 0:
        return free
    for T, K in cameras:
        w, h = max(int(K.width * scale), 1), max(int(K.height * scale), 1)
        Ks = K.scaled(w, h)
        uv, z = project(pts, np.asarray(T, np.float64), Ks.fx, Ks.fy, Ks.cx, Ks.cy)
        ok = (z > 0.05) & np.isfinite(uv).all(axis=1)
        uv, z = uv[ok], z[ok]
        side = np.clip(np.ceil(point_m * Ks.fx / z), 1, 8).astype(np.int64)  # pixels a point covers
        zbuf = np.full(h * w, np.inf)
        for n_px in np.unique(side):
            sel = side == n_px
            base = np.floor(uv[sel] - (n_px - 1) / 2.0 + 0.5).astype(np.int64)
            for du in range(n_px):
                for dv in range(n_px):
                    c, r = base[:, 0] + du, base[:, 1] + dv
                    inside = (c >= 0) & (c < w) & (r >= 0) & (r < h)
                    np.minimum.at(zbuf, r[inside] * w + c[inside], z[sel][inside])
        quv, qz = project(q, np.asarray(T, np.float64), Ks.fx, Ks.fy, Ks.cx, Ks.cy)
        c, r = np.floor(quv[:, 0] + 0.5), np.floor(quv[:, 1] + 0.5)
        seen = (qz > 0.05) & (c >= 0) & (c < w) & (r >= 0) & (r < h)
        idx = (r[seen] * w + c[seen]).astype(np.int64)
        hit = np.isfinite(zbuf[idx]) & (zbuf[idx] > qz[seen] + tol_m)
        free[np.nonzero(seen)[0][hit]] = True
    return free


def _region_samples(center_xy: np.ndarray, n: np.ndarray, t: np.ndarray, depth: float, width: float,
                    z_lo: float, z_hi: float, steps: int = 6) -> np.ndarray:
    """(steps**3, 3) cell-centre samples of the horizontal box with centre ``center_xy``, side ``depth``
    along ``n``, ``width`` along ``t`` and heights ``z_lo``..``z_hi``."""
    f = (np.arange(steps) + 0.5) / steps - 0.5
    a, b, c = np.meshgrid(f * depth, f * width, z_lo + (f + 0.5) * (z_hi - z_lo), indexing="ij")
    xy = center_xy + a.reshape(-1, 1) * n + b.reshape(-1, 1) * t
    return np.column_stack([xy, c.reshape(-1)])


def complete_hidden_depth(box: OrientedBox, category: str, cameras: list[tuple[np.ndarray, Intrinsics]],
                          points_world: np.ndarray, polygon: np.ndarray | None = None,
                          priors: dict[str, tuple[float, float]] | None = None) -> OrientedBox:
    """``box`` extended behind a face when it is an implausibly thin slab whose rest was hidden (see the
    module docstring for the rule and its thresholds).

    Args:
        box: the fused box (gravity-aligned or nearly; the gravity-aligned box is what gets extended).
        category: the instance's category.
        cameras: ``(world_from_camera (4, 4), intrinsics)`` of frames that observed the instance.
        points_world: (N, 3) the scene's observed surfaces (its point cloud), for the free-space test.
        polygon: (K, 2) the room's floor outline (counter-clockwise); None: no wall clipping.
        priors: category -> (mean, sd) height table (default: the metric-scale estimator's).
    """
    table = OBJECT_HEIGHT_PRIORS if priors is None else priors
    g = box.gravity_aligned()
    k = implausibly_thin_side(g, category, table)
    if k is None or len(cameras) < DEPTH_MIN_CAMERAS or len(points_world) == 0:
        return box
    if len(cameras) > DEPTH_MAX_CAMERAS:
        cameras = [cameras[int(i)] for i in np.linspace(0, len(cameras) - 1, DEPTH_MAX_CAMERAS).round()]
    n = g.axes[k, :2] / max(float(np.linalg.norm(g.axes[k, :2])), 1e-12)
    t = g.axes[1 - k, :2] / max(float(np.linalg.norm(g.axes[1 - k, :2])), 1e-12)
    view = np.mean([g.center[:2] - np.asarray(T)[:2, 3] for T, _ in cameras], axis=0)  # cameras -> object
    target = min(float(g.size[1 - k]), table[category][0])
    poly = None if polygon is None or len(polygon) < 3 else np.asarray(polygon, np.float64).reshape(-1, 2)
    half = max(g.size[1 - k] / 2.0 - SUPPORT_FOOTPRINT_INSET_M, 0.0)
    for away in sorted((n, -n), key=lambda d: -float(d @ view)):  # away from the cameras first
        gain = target - float(g.size[k])
        back = g.center[:2] + away * g.size[k] / 2.0
        if poly is not None:
            exits = [_ray_exit(back + s * half * t, away, poly) for s in (-1.0, 0.0, 1.0)]
            if any(e is None for e in exits):
                continue  # the face is not inside the room outline: no evidence where the rest is
            gain = min(gain, min(exits) - DEPTH_WALL_MARGIN_M)
        if gain < DEPTH_MIN_GAIN_M:
            continue
        samples = _region_samples(back + away * gain / 2.0, away, t, gain, float(g.size[1 - k]), g.z_min, g.z_max)
        if observed_free(samples, cameras, points_world).mean() > DEPTH_MAX_FREE:
            continue
        center, size = g.center.copy(), g.size.copy()
        size[k] += gain
        center[:2] += away * gain / 2.0
        return OrientedBox(center, size, g.axes)
    return box
