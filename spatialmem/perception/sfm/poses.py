"""Pose utilities for SfM: similarity transforms, chunk alignment, pose interpolation, sparse depth images.

A similarity ``Sim3`` maps model coordinates to world coordinates: ``x_w = s * R @ x_m + t``; applied to a
``world_from_camera`` pose it rotates and moves the camera and scales its position (not its axes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation, Slerp

from spatialmem.types import Intrinsics


@dataclass(frozen=True)
class Sim3:
    """``x_world = scale * rotation @ x_model + translation``; rotation (3, 3), translation (3,)."""

    scale: float
    rotation: np.ndarray
    translation: np.ndarray

    @staticmethod
    def identity() -> Sim3:
        return Sim3(1.0, np.eye(3), np.zeros(3))

    def points(self, xyz: np.ndarray) -> np.ndarray:
        """(N, 3) model points in the world."""
        return self.scale * np.asarray(xyz, np.float64) @ self.rotation.T + self.translation

    def pose(self, world_from_camera: np.ndarray) -> np.ndarray:
        """A model ``world_from_camera`` (4, 4) in the world (a rigid pose again)."""
        out = np.eye(4)
        out[:3, :3] = self.rotation @ world_from_camera[:3, :3]
        out[:3, 3] = self.scale * self.rotation @ world_from_camera[:3, 3] + self.translation
        return out

    def then(self, other: Sim3) -> Sim3:
        """``other`` applied after ``self``."""
        return Sim3(other.scale * self.scale, other.rotation @ self.rotation,
                    other.scale * other.rotation @ self.translation + other.translation)


def align_poses(model: list[np.ndarray], world: list[np.ndarray]) -> Sim3 | None:
    """The similarity taking the ``model`` poses onto the ``world`` poses of the same cameras ((4, 4) each).

    The rotation is the chordal mean of ``R_world @ R_model.T`` (camera orientations are better determined
    than a few centres), the scale the ratio of the centres' spreads, the translation matches centroids.
    Returns None with fewer than two cameras or centres that do not spread (no scale can be read).
    """
    if len(model) < 2:
        return None
    M = sum(w[:3, :3] @ m[:3, :3].T for m, w in zip(model, world))
    U, _, Vt = np.linalg.svd(M)
    R = U @ np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))]) @ Vt
    cm = np.array([m[:3, 3] for m in model])
    cw = np.array([w[:3, 3] for w in world])
    dm = np.linalg.norm(cm - cm.mean(axis=0), axis=1).sum()
    dw = np.linalg.norm(cw - cw.mean(axis=0), axis=1).sum()
    if dm < 1e-9 or dw < 1e-9:
        return None
    s = dw / dm
    return Sim3(float(s), R, cw.mean(axis=0) - s * R @ cm.mean(axis=0))


def umeyama(src: np.ndarray, dst: np.ndarray) -> Sim3:
    """Least-squares similarity with ``dst ≈ s R src + t`` ((N, 3) each, N >= 3 not collinear)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    X, Y = src - ms, dst - md
    U, S, Vt = np.linalg.svd(Y.T @ X)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    R = U @ D @ Vt
    s = float((S * np.diag(D)).sum() / max((X ** 2).sum(), 1e-12))
    return Sim3(s, R, md - s * R @ ms)


def interpolate_pose(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    """Pose at fraction ``w`` in [0, 1] from ``a`` to ``b``: slerp of the rotations, lerp of the centres."""
    rots = Rotation.from_matrix(np.stack([a[:3, :3], b[:3, :3]]))
    out = np.eye(4)
    out[:3, :3] = Slerp([0.0, 1.0], rots)([float(w)]).as_matrix()[0]
    out[:3, 3] = (1 - w) * a[:3, 3] + w * b[:3, 3]
    return out


def sparse_depth(points_world: np.ndarray, world_from_camera: np.ndarray, K: Intrinsics,
                 uv: np.ndarray | None = None, splat: int = 2, occlusion_cell: int = 8) -> np.ndarray:
    """(H, W) float32 depth image (0 = none) holding sparse 3D points seen by a camera.

    Args:
        points_world: (N, 3) points.
        uv: (N, 2) their observed pixel positions (keyframes); None projects them with the pose
            (interpolated frames), drops points behind the camera or outside the image and, per
            ``occlusion_cell`` x ``occlusion_cell`` block, points more than 15 % behind the nearest one.
        splat: each point fills a ``splat`` x ``splat`` block, so a strided sampling grid of that step sees it.
    """
    H, W = K.height, K.width
    depth = np.zeros((H, W), np.float32)
    pts = np.asarray(points_world, np.float64).reshape(-1, 3)
    if not len(pts):
        return depth
    T = np.linalg.inv(world_from_camera)
    pc = pts @ T[:3, :3].T + T[:3, 3]
    z = pc[:, 2]
    if uv is None:
        front = z > 0.05
        pc, z = pc[front], z[front]
        u = K.fx * pc[:, 0] / z + K.cx
        v = K.fy * pc[:, 1] / z + K.cy
    else:
        u, v = uv[:, 0].astype(np.float64), uv[:, 1].astype(np.float64)
        front = z > 0.05
        u, v, z = u[front], v[front], z[front]
    iu, iv = np.round(u).astype(np.int64), np.round(v).astype(np.int64)
    ok = (iu >= 0) & (iu < W) & (iv >= 0) & (iv < H)
    iu, iv, z = iu[ok], iv[ok], z[ok]
    if uv is None and len(z):
        cell = (iv // occlusion_cell) * (W // occlusion_cell + 1) + iu // occlusion_cell
        nearest = np.full(cell.max() + 1, np.inf)
        np.minimum.at(nearest, cell, z)
        keep = z <= 1.15 * nearest[cell]
        iu, iv, z = iu[keep], iv[keep], z[keep]
    order = np.argsort(-z)  # nearer points written last win
    iu, iv, z = iu[order], iv[order], z[order].astype(np.float32)
    base_u, base_v = iu - iu % splat, iv - iv % splat
    for du in range(splat):
        for dv in range(splat):
            uu, vv = np.minimum(base_u + du, W - 1), np.minimum(base_v + dv, H - 1)
            depth[vv, uu] = z
    return depth


def densify_depth(sparse: np.ndarray, max_depth_ratio: float = 1.1, max_edge_frac: float = 0.12,
                  scale: int = 2, labels: np.ndarray | None = None) -> np.ndarray:
    """Dense depth from a sparse depth image by piecewise-planar interpolation between the points.

    The sparse points are triangulated in the image (Delaunay); every triangle whose corner depths differ by
    more than ``max_depth_ratio`` (it would bridge a depth edge: an object in front of a wall) or whose longest
    side exceeds ``max_edge_frac`` of the image width is dropped; inside the others the inverse depth is
    interpolated linearly, which is exact for planes. With a segmentation (``labels``: (H, W) ints, e.g. the
    frame's instance masks when the source has them) triangles whose corners lie in different segments are
    dropped too, so no depth is interpolated across an object's outline, and the pixels of a segment (other
    than 0, the background) that no kept triangle covers take the plane through the segment's own points
    (a small or weakly textured object still gets its whole mask lifted). Other pixels stay 0.

    Args:
        sparse: (H, W) float32 depth, 0 = none (e.g. from :func:`sparse_depth`).
        scale: the output has ``H // scale`` x ``W // scale`` pixels (sampled at pixel centres of the full grid).

    Returns:
        (H // scale, W // scale) float32 depth.
    """
    from scipy.spatial import Delaunay, QhullError

    H, W = sparse.shape
    h, w = H // scale, W // scale
    out = np.zeros((h, w), np.float32)
    v, u = np.nonzero(sparse > 0)
    if len(u) < 3:
        return out
    key = (v // 2) * (W // 2 + 1) + u // 2  # one sample per splat block
    _, first = np.unique(key, return_index=True)
    u, v = u[first], v[first]
    z = sparse[v, u].astype(np.float64)
    pts = np.stack([u, v], axis=1).astype(np.float64)
    try:
        tri = Delaunay(pts)
    except (QhullError, ValueError):
        return out
    simp = tri.simplices
    zs = z[simp]
    side = np.max([np.linalg.norm(pts[simp[:, a]] - pts[simp[:, b]], axis=1) for a, b in ((0, 1), (1, 2), (0, 2))],
                  axis=0)
    good = (zs.max(axis=1) / zs.min(axis=1) <= max_depth_ratio) & (side <= max_edge_frac * W)
    if labels is not None:
        lab = np.asarray(labels)[v, u][simp]
        good &= (lab[:, 0] == lab[:, 1]) & (lab[:, 1] == lab[:, 2])
    simp, zs = simp[good], zs[good]
    _rasterise(out, pts, simp, zs, scale)
    if labels is not None:
        _fill_segments(out, np.asarray(labels), u, v, z, scale)
    return out


def _fill_segments(out: np.ndarray, labels: np.ndarray, u: np.ndarray, v: np.ndarray, z: np.ndarray,
                   scale: int) -> None:
    """Uncovered pixels of each labelled segment (id > 0) with points: the plane through the segment's points
    (least squares in inverse depth, exact for a flat face; the median with fewer than 3 points), clipped to
    the depth range of those points."""
    h, w = out.shape
    lab = labels[(np.arange(h) * scale + scale // 2)[:, None], (np.arange(w) * scale + scale // 2)[None, :]]
    ids = labels[v, u]
    for i in np.unique(ids[ids > 0]):
        hole = (lab == i) & (out == 0)
        if not hole.any():
            continue
        sel = ids == i
        zi = z[sel]
        if sel.sum() < 3:
            out[hole] = np.float32(np.median(zi))
            continue
        A = np.column_stack([u[sel], v[sel], np.ones(int(sel.sum()))]).astype(np.float64)
        coef = np.linalg.lstsq(A, 1.0 / zi, rcond=None)[0]
        hy, hx = np.nonzero(hole)
        inv = coef[0] * ((hx + 0.5) * scale - 0.5) + coef[1] * ((hy + 0.5) * scale - 0.5) + coef[2]
        fill = np.where(inv > 0, 1.0 / np.maximum(inv, 1e-9), np.median(zi))
        out[hy, hx] = np.clip(fill, zi.min(), zi.max()).astype(np.float32)


def _rasterise(out: np.ndarray, pts: np.ndarray, simp: np.ndarray, zs: np.ndarray, scale: int) -> None:
    """Write inverse-depth-linear interpolation of triangles ``simp`` (corner depths ``zs``) into ``out``."""
    h, w = out.shape
    if not len(simp):
        return
    # rasterise the kept triangles on the output grid: candidate pixels = each triangle's bounding box
    g = (pts[simp] + 0.5) / scale - 0.5  # (M, 3, 2) corners in output pixel coordinates
    x0 = np.clip(np.ceil(g[..., 0].min(axis=1)), 0, w - 1).astype(np.int64)
    x1 = np.clip(np.floor(g[..., 0].max(axis=1)), 0, w - 1).astype(np.int64)
    y0 = np.clip(np.ceil(g[..., 1].min(axis=1)), 0, h - 1).astype(np.int64)
    y1 = np.clip(np.floor(g[..., 1].max(axis=1)), 0, h - 1).astype(np.int64)
    bw, bh = np.maximum(x1 - x0 + 1, 0), np.maximum(y1 - y0 + 1, 0)
    counts = bw * bh
    tid = np.repeat(np.arange(len(simp)), counts)
    off = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    px = x0[tid] + off % np.maximum(bw[tid], 1)
    py = y0[tid] + off // np.maximum(bw[tid], 1)
    a, b, c = g[tid, 0], g[tid, 1], g[tid, 2]
    v0, v1 = b - a, c - a
    d = np.stack([px, py], axis=1) - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    den = np.where(np.abs(den) < 1e-12, 1e-12, den)
    l1 = (d[:, 0] * v1[:, 1] - v1[:, 0] * d[:, 1]) / den
    l2 = (v0[:, 0] * d[:, 1] - d[:, 0] * v0[:, 1]) / den
    l0 = 1.0 - l1 - l2
    inside = (l0 >= -1e-6) & (l1 >= -1e-6) & (l2 >= -1e-6)
    zt = zs[tid[inside]]
    inv = l0[inside] / zt[:, 0] + l1[inside] / zt[:, 1] + l2[inside] / zt[:, 2]
    out[py[inside], px[inside]] = (1.0 / np.maximum(inv, 1e-9)).astype(np.float32)
