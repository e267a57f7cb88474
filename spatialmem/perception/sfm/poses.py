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
