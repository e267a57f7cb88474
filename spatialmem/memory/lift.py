"""Lift 2D detections into the world: mask + depth + pose -> :class:`~spatialmem.types.Observation3D`.

The frame's depth is back-projected once on a strided pixel grid (:class:`FrameCloud`); each mask
is sampled on that grid, its points are filtered (depth band around the mask's median depth),
voxel-downsampled and small disconnected voxel clusters are dropped. An observation's ``box`` is the
axis-aligned bounds of its points (cheap; association compares bounds and voxels); the fused
instance boxes are fitted at snapshot time (:func:`fit_box_surface`). Pixels with depth that no
detection claims are the frame's *structure* (floor, walls, ceiling and anything undetected); the
builder uses them for the floor, the room extent and the scene point cloud.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatialmem.geometry.boxes import OrientedBox, box_from_rotated_rect, fit_gravity_aligned
from spatialmem.geometry.pointcloud import cluster_filter, voxel_downsample
from spatialmem.geometry.projection import backproject_depth, resample_nearest
from spatialmem.types import Detection2D, Frame, Observation3D


@dataclass(frozen=True)
class LiftConfig:
    """How detections are lifted.

    Attributes:
        stride: pixel step of the depth grid that masks are sampled on (2 = every other row/column).
        voxel_m: observation points are voxel-downsampled (voxel means) at this size.
        min_points: observations with fewer surviving points are dropped.
        max_depth_m: depth beyond this is ignored.
        depth_mad_k, depth_band_min_m: points farther than ``max(depth_band_min_m, k * MAD)`` from the
            mask's median depth are dropped (mask bleed onto the background, flying pixels).
        cluster_voxel_m, cluster_min_fraction: 26-connected voxel clusters holding less than this
            fraction of the largest cluster's points are dropped (0 disables).
        depth_median: side (in samples of the strided grid) of a median filter applied to the sampled depth
            before back-projection; removes per-pixel depth noise while keeping depth edges (0 or 1 = off,
            right for exact depth; estimated depth: :mod:`.robust`).
        depth_edge_rel: mask samples at a depth edge -- where the depth in their 3x3 neighbourhood of the
            strided grid spans more than this fraction of their own depth, or (with ``depth_median``) where the
            median moved their depth by more than twice this fraction -- are not lifted (mask bleed onto the
            background, flying pixels at silhouettes; 0 = off).
    """

    stride: int = 2
    voxel_m: float = 0.02
    min_points: int = 10
    max_depth_m: float = 12.0
    depth_mad_k: float = 5.0
    depth_band_min_m: float = 0.4
    cluster_voxel_m: float = 0.05
    cluster_min_fraction: float = 0.05
    depth_median: int = 0
    depth_edge_rel: float = 0.0


@dataclass(frozen=True, eq=False)
class FrameCloud:
    """The strided back-projection of one frame's depth.

    Attributes:
        points_world: (H', W', 3) float32 world points of the sampled pixels.
        depth_m: (H', W') float32 sampled depth (0 = none).
        valid: (H', W') bool pixels with usable depth.
        rows, cols: sampled pixel rows/columns of the depth image.
        depth_size: (W, H) of the depth image.
        claimed: (H', W') bool pixels covered by some detection mask.
        edge: (H', W') bool samples at a depth edge (see ``LiftConfig.depth_edge_rel``), or None when the
            test is off.
    """

    points_world: np.ndarray
    depth_m: np.ndarray
    valid: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    depth_size: tuple[int, int]
    claimed: np.ndarray
    edge: np.ndarray | None = None

    def structure_mask(self) -> np.ndarray:
        """(H', W') bool: pixels with depth that no detection claims."""
        return self.valid & ~self.claimed


def fit_box_fast(points_world: np.ndarray) -> OrientedBox:
    """:func:`~spatialmem.geometry.boxes.fit_gravity_aligned` on the points' floor-plane convex hull.

    Gives the same box as fitting all points (the fit only depends on the xy hull and the z range)
    while the hull is computed in C by scipy.
    """
    pts = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    if len(pts) >= 8:
        from scipy.spatial import ConvexHull, QhullError

        try:
            hull = ConvexHull(pts[:, :2])
            sel = pts[hull.vertices]
            zs = pts[[int(np.argmin(pts[:, 2])), int(np.argmax(pts[:, 2]))]]
            zs = np.column_stack([np.repeat(sel[:1, :2], 2, axis=0), zs[:, 2]])
            return fit_gravity_aligned(np.vstack([sel, zs]))
        except (QhullError, ValueError):
            pass
    return fit_gravity_aligned(pts)


def fit_box_surface(points_world: np.ndarray, d0_m: float = 0.01, max_points: int = 4000,
                    max_area_excess: float = 0.05) -> OrientedBox:
    """Gravity-aligned box of *surface* points of a partly seen object (yaw by the closeness criterion).

    The minimum-area rectangle (:func:`fit_box_fast`) is ambiguous for an object seen on two adjacent
    faces only (an "L" of points: the diagonal rectangle has about the same area). Here the yaw is the
    one that puts the floor-plane points closest to the rectangle's sides: for each candidate yaw in
    [0, 90) degrees (1 degree, then refined to 0.1), every point scores ``1 / max(d, d0_m)`` with ``d`` its
    distance to the nearest side; the best total wins. Extents are the exact point ranges along the chosen
    axes (z: the z range). Objects seen all round give the same box as the minimum-area fit. When this
    box's footprint is more than ``max_area_excess`` larger than the minimum-area box's (shapes such as a
    monitor's T-shaped footprint mislead the criterion), the minimum-area box is returned instead.
    """
    pts = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    if len(pts) < 8:
        return fit_box_fast(pts)
    xy = pts[:, :2]
    if len(xy) > max_points:
        xy = xy[np.linspace(0, len(xy) - 1, max_points).astype(np.int64)]

    def best(angles: np.ndarray) -> float:
        c, s = np.cos(angles), np.sin(angles)
        p1 = xy[:, :1] * c + xy[:, 1:] * s  # (N, A)
        p2 = -xy[:, :1] * s + xy[:, 1:] * c
        lo1, hi1, lo2, hi2 = p1.min(axis=0), p1.max(axis=0), p2.min(axis=0), p2.max(axis=0)
        d = np.minimum(np.minimum(hi1 - p1, p1 - lo1), np.minimum(hi2 - p2, p2 - lo2))
        score = (1.0 / np.maximum(d, d0_m)).sum(axis=0)
        area = (hi1 - lo1) * (hi2 - lo2)
        near = score >= 0.995 * score.max()  # near-ties (e.g. a flat face): the tighter rectangle wins
        return float(angles[near][int(np.argmin(area[near]))])

    a0 = best(np.radians(np.arange(0.0, 90.0, 1.0)))
    a = best(a0 + np.radians(np.arange(-1.0, 1.01, 0.1)))
    c, s = np.cos(a), np.sin(a)
    u, v = np.array([c, s]), np.array([-s, c])
    pu, pv = pts[:, :2] @ u, pts[:, :2] @ v
    lo, hi = np.array([pu.min(), pv.min()]), np.array([pu.max(), pv.max()])
    box = box_from_rotated_rect(a, lo, hi, pts[:, 2].min(), pts[:, 2].max())
    tight = fit_box_fast(pts)
    if box.size[0] * box.size[1] > (1.0 + max_area_excess) * tight.size[0] * tight.size[1]:
        return tight  # the closeness yaw is ambiguous for some shapes (T-shaped footprints): keep the tight box
    return box


def median_depth(depth_m: np.ndarray, stride: int, size: int) -> np.ndarray:
    """``depth_m`` (H, W) with its every ``stride``-th sample replaced by the median of the ``size`` x ``size``
    samples of the strided grid around it (other pixels unchanged: only the strided grid is lifted).

    Missing depth (0 or non-finite) stays missing and never replaces a measurement.
    """
    from scipy import ndimage

    d = np.array(depth_m, dtype=np.float32)
    sub = d[::stride, ::stride]
    ok = np.isfinite(sub) & (sub > 0)
    filt = ndimage.median_filter(np.where(ok, sub, np.float32(0.0)), size=size, mode="nearest")
    d[::stride, ::stride] = np.where(ok & (filt > 0), filt, sub)
    return d


def depth_edges(depth_m: np.ndarray, valid: np.ndarray, rel: float) -> np.ndarray:
    """(H', W') bool: samples whose 3x3 neighbourhood (valid samples only) spans more than ``rel`` x their depth."""
    from scipy import ndimage

    hi = ndimage.maximum_filter(np.where(valid, depth_m, np.float32(0.0)), size=3, mode="nearest")
    lo = ndimage.minimum_filter(np.where(valid, depth_m, np.float32(np.inf)), size=3, mode="nearest")
    return valid & (hi - lo > rel * depth_m)


def frame_cloud(frame: Frame, config: LiftConfig) -> FrameCloud:
    """Back-project ``frame.depth_m`` on the strided grid (frame must have depth and pose)."""
    K = frame.depth_camera()
    depth_full = frame.depth_m
    if config.depth_median > 1:
        depth_full = median_depth(depth_full, config.stride, config.depth_median)
    pts, valid, (rows, cols) = backproject_depth(depth_full, K, frame.world_from_camera, config.stride)
    depth = np.asarray(depth_full, np.float32)[::config.stride, ::config.stride]
    valid &= depth <= config.max_depth_m
    edge = None
    if config.depth_edge_rel > 0:
        edge = depth_edges(depth, valid, config.depth_edge_rel)
        if config.depth_median > 1:  # at silhouettes the median may hand a sample the other side's depth
            raw = np.asarray(frame.depth_m, np.float32)[::config.stride, ::config.stride]
            edge |= valid & (np.abs(raw - depth) > 2.0 * config.depth_edge_rel * depth)
    return FrameCloud(pts, depth, valid, rows, cols, (K.width, K.height), np.zeros_like(valid), edge)


def lift_detections(frame: Frame, detections: list[Detection2D], config: LiftConfig) -> tuple[
        list[Observation3D], FrameCloud]:
    """Lift every detection of a frame.

    Returns:
        (observations, cloud): one :class:`Observation3D` per detection that keeps at least
        ``config.min_points`` points (in detection order), and the frame's :class:`FrameCloud` with
        ``claimed`` set for every mask.
    """
    cloud = frame_cloud(frame, config)
    claimed = cloud.claimed
    obs: list[Observation3D] = []
    for det in detections:
        m = np.asarray(det.mask, dtype=bool)
        if m.shape == (cloud.depth_size[1], cloud.depth_size[0]):
            sampled = m[::config.stride, ::config.stride]
        else:
            sampled = resample_nearest(m, cloud.rows, cloud.cols, cloud.depth_size)
        claimed |= sampled
        sel = sampled & cloud.valid
        if cloud.edge is not None:
            sel &= ~cloud.edge
        if int(sel.sum()) < config.min_points:
            continue
        pts = cloud.points_world[sel]
        z = cloud.depth_m[sel]
        med = float(np.median(z))
        mad = float(np.median(np.abs(z - med)))
        keep = np.abs(z - med) <= max(config.depth_band_min_m, config.depth_mad_k * 1.4826 * mad)
        pts, _ = voxel_downsample(pts[keep], config.voxel_m)
        if config.cluster_min_fraction > 0 and len(pts) >= config.min_points:
            pts = pts[cluster_filter(pts, config.cluster_voxel_m, config.cluster_min_fraction)]
        if len(pts) < config.min_points:
            continue
        obs.append(Observation3D(
            frame_index=frame.index, timestamp_s=frame.timestamp_s, category=det.category, points_world=pts,
            box=OrientedBox.axis_aligned(pts.min(axis=0), pts.max(axis=0)), score=float(det.score),
            pixel_count=int(m.sum()), feature=det.feature, mask_fraction=float(m.mean()) if m.size else 0.0))
    return obs, cloud
