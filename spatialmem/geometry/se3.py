"""Rigid transforms (4x4 float64) and camera look-at poses, in the project's conventions."""

from __future__ import annotations

import numpy as np


def make_pose(R: np.ndarray, t) -> np.ndarray:
    """A 4x4 transform from a (3, 3) rotation and a (3,) translation."""
    T = np.eye(4)
    T[:3, :3] = R
    T[:3, 3] = np.asarray(t, dtype=np.float64).reshape(3)
    return T


def invert(T: np.ndarray) -> np.ndarray:
    """Inverse of a rigid 4x4 transform."""
    R, t = T[:3, :3], T[:3, 3]
    return make_pose(R.T, -R.T @ t)


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 3) points mapped by the 4x4 transform ``T`` (e.g. ``world_from_camera``)."""
    pts = np.asarray(points)
    return pts @ T[:3, :3].T.astype(pts.dtype, copy=False) + T[:3, 3].astype(pts.dtype, copy=False)


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """``world_from_camera`` for an OpenCV camera at ``eye`` looking at ``target`` (z up world).

    The camera's z axis points at the target, its x axis is horizontal to the right and its y axis
    points down (as much as the view direction allows).
    """
    eye, target, up = (np.asarray(v, dtype=np.float64) for v in (eye, target, up))
    z = target - eye
    z /= np.linalg.norm(z)
    x = np.cross(z, up)
    if np.linalg.norm(x) < 1e-9:  # looking straight up or down
        x = np.cross(z, np.array([0.0, 1.0, 0.0]))
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return make_pose(np.stack([x, y, z], axis=1), eye)


def yaw_rotation(yaw_rad: float) -> np.ndarray:
    """(3, 3) rotation about +z by ``yaw_rad`` (CCW seen from above)."""
    c, s = np.cos(yaw_rad), np.sin(yaw_rad)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
