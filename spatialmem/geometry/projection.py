"""Pinhole projection: back-project depth images to world points and project world points to pixels.

Conventions follow :mod:`spatialmem.types`: OpenCV camera (x right, y down, z forward), depth in
metres along the optical axis (0 = no measurement), poses ``world_from_camera`` 4x4, pixel centres
at integer coordinates.
"""

from __future__ import annotations

import numpy as np

from spatialmem.types import Intrinsics


def pixel_grid(width: int, height: int, stride: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Column and row coordinates of a strided pixel grid.

    Returns:
        (us, vs): (W', ) and (H', ) int arrays with ``us = 0, stride, ...`` and ``vs = 0, stride, ...``.
    """
    return np.arange(0, width, stride), np.arange(0, height, stride)


def unproject(us: np.ndarray, vs: np.ndarray, depth_m: np.ndarray, K: Intrinsics) -> np.ndarray:
    """Camera-frame points of pixels ``(us, vs)`` with depths ``depth_m`` (all (N,)), as (N, 3) float32."""
    z = np.asarray(depth_m, dtype=np.float32)
    x = (np.asarray(us, np.float32) - np.float32(K.cx)) * (z / np.float32(K.fx))
    y = (np.asarray(vs, np.float32) - np.float32(K.cy)) * (z / np.float32(K.fy))
    return np.stack([x, y, z], axis=-1)


def camera_to_world(points_camera: np.ndarray, world_from_camera: np.ndarray) -> np.ndarray:
    """(N, 3) float32 camera-frame points mapped to the world frame by a 4x4 pose."""
    T = np.asarray(world_from_camera, dtype=np.float64)
    R = T[:3, :3].astype(np.float32)
    t = T[:3, 3].astype(np.float32)
    return points_camera @ R.T + t


def backproject_depth(
    depth_m: np.ndarray, K: Intrinsics, world_from_camera: np.ndarray | None = None, stride: int = 1
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Back-project every ``stride``-th pixel of a depth image.

    Args:
        depth_m: (H, W) metres along the optical axis, 0 (or non-finite) = no measurement.
        K: intrinsics of the depth image (its width/height must match ``depth_m``).
        world_from_camera: optional 4x4 pose; without it the points stay in the camera frame.
        stride: pixel step in both directions (>= 1).

    Returns:
        (points, valid, (rows, cols)) where ``points`` is (H', W', 3) float32 (world frame when a pose
        is given), ``valid`` (H', W') bool marks pixels with a depth measurement, and rows/cols are the
        sampled pixel coordinates.
    """
    depth = np.asarray(depth_m)
    h, w = depth.shape
    if (K.width, K.height) != (w, h):
        raise ValueError(f"depth is {w}x{h} but its intrinsics are {K.width}x{K.height}")
    d = depth[::stride, ::stride].astype(np.float32, copy=False)
    valid = np.isfinite(d) & (d > 0)
    d = np.where(valid, d, np.float32(0.0))
    cols = np.arange(0, w, stride)
    rows = np.arange(0, h, stride)
    a = (cols.astype(np.float32) - np.float32(K.cx)) / np.float32(K.fx)  # x / z per column
    b = (rows.astype(np.float32) - np.float32(K.cy)) / np.float32(K.fy)  # y / z per row
    pts = np.empty(d.shape + (3,), np.float32)
    if world_from_camera is None:
        pts[..., 0] = a[None, :] * d
        pts[..., 1] = b[:, None] * d
        pts[..., 2] = d
    else:
        T = np.asarray(world_from_camera, dtype=np.float64)
        for k in range(3):  # p_world[k] = d * (R[k,0] a + R[k,1] b + R[k,2]) + t[k], by broadcasting
            ray = np.float32(T[k, 0]) * a[None, :] + np.float32(T[k, 1]) * b[:, None] + np.float32(T[k, 2])
            pts[..., k] = ray * d + np.float32(T[k, 3])
    return pts, valid, (rows, cols)


def project_points(
    points_world: np.ndarray, K: Intrinsics, world_from_camera: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Project world points into an image.

    Args:
        points_world: (N, 3) metres.
        K: intrinsics of the target image.
        world_from_camera: 4x4 pose of the camera.

    Returns:
        (uv, depth_m, in_view): (N, 2) float64 pixel coordinates (u = column, v = row), (N,) depth along
        the optical axis, and (N,) bool for points in front of the camera and inside the image.
    """
    T = np.asarray(world_from_camera, dtype=np.float64)
    R, t = T[:3, :3], T[:3, 3]
    pc = (np.asarray(points_world, np.float64) - t) @ R  # camera frame: R^T (p - t)
    z = pc[:, 2]
    safe = np.where(np.abs(z) > 1e-9, z, 1e-9)
    u = K.fx * pc[:, 0] / safe + K.cx
    v = K.fy * pc[:, 1] / safe + K.cy
    in_view = (z > 1e-6) & (u > -0.5) & (u < K.width - 0.5) & (v > -0.5) & (v < K.height - 0.5)
    return np.stack([u, v], axis=1), z, in_view


def resample_nearest(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, src_size: tuple[int, int]) -> np.ndarray:
    """Sample ``image`` (any resolution spanning the same view as a ``src_size`` = (W, H) image) at the
    pixel centres ``rows`` x ``cols`` of that src image, nearest neighbour. Returns (len(rows), len(cols))."""
    ih, iw = image.shape[:2]
    sw, sh = src_size
    if (iw, ih) == (sw, sh):
        return image[np.ix_(rows, cols)]
    r = np.clip(((rows + 0.5) * (ih / sh)).astype(np.int64), 0, ih - 1)
    c = np.clip(((cols + 0.5) * (iw / sw)).astype(np.int64), 0, iw - 1)
    return image[np.ix_(r, c)]
