"""Which way is up: the gravity direction of a capture, and the rotation that makes its world z-up.

Captures come in worlds of every orientation: ScanNet is z-up, ARKit y-up, TUM and 7-Scenes poses are
in a motion-capture or first-camera frame (often y-down). :func:`estimate_up` finds the up direction
from, in order of trust:

1. ``imu``: the IMU's gravity vector (metres per second squared, in the input world frame; gravity
   points *down*), when the layout records it;
2. ``plane``: the largest horizontal plane (floor, table) the cameras stand above, found by RANSAC
   among planes within 35 degrees of the cameras' own up direction;
3. ``cameras``: the cameras' axes: people hold cameras without roll, so every camera's x axis is
   horizontal; up is the direction perpendicular to all of them, signed by the cameras' image-up
   (-y in OpenCV) axes.

``method="given"`` is :func:`up_from_axis` (``--up z``, ``--up -y``, ...). Every result carries the
rotation ``z_up_from_input`` (3, 3) with ``rotation @ up == [0, 0, 1]``, the smallest such rotation
(it adds no turn about the vertical). Estimates within ``snap_deg`` of a coordinate axis are snapped
onto it, so that exactly axis-aligned worlds stay exact.

Pure numpy; deterministic (fixed random seed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METHODS = ("imu", "plane", "cameras", "given")
_AXES = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}


@dataclass(frozen=True, eq=False)
class UpEstimate:
    """The up direction of a capture's world frame.

    Attributes:
        rotation: (3, 3) float64 ``z_up_from_input``: ``p_zup = rotation @ p_input``; ``rotation @ up = +z``.
        up: (3,) float64 unit up direction in the input world frame.
        method: ``"imu"``, ``"plane"``, ``"cameras"`` or ``"given"``.
        confidence: 0..1, how much the evidence agrees (1 = exact or fully consistent).
        weak: True when the estimate should not be trusted blindly (callers warn the user).
        detail: one human-readable line on the evidence (e.g. the plane's inlier share).
    """

    rotation: np.ndarray
    up: np.ndarray
    method: str
    confidence: float
    weak: bool
    detail: str = ""

    def transform(self) -> np.ndarray:
        """(4, 4) ``z_up_from_input`` rigid transform (rotation only)."""
        T = np.eye(4)
        T[:3, :3] = self.rotation
        return T

    def apply_to_poses(self, world_from_camera: np.ndarray) -> np.ndarray:
        """Poses (4, 4) or (N, 4, 4) of the input world re-expressed in the z-up world."""
        return self.transform() @ np.asarray(world_from_camera, np.float64)

    def to_dict(self) -> dict:
        """JSON-ready summary (stored in a memory's metadata as ``"gravity"``)."""
        return {"method": self.method, "up": [float(v) for v in self.up],
                "rotation": [[float(v) for v in row] for row in self.rotation],
                "confidence": float(self.confidence), "weak": bool(self.weak), "detail": self.detail}


def rotation_to_z(up: np.ndarray) -> np.ndarray:
    """The smallest rotation (3, 3) taking the unit vector ``up`` onto +z (Rodrigues' formula)."""
    u = np.asarray(up, np.float64)
    u = u / np.linalg.norm(u)
    z = np.array([0.0, 0.0, 1.0])
    c = float(u @ z)
    if c > 1.0 - 1e-12:
        return np.eye(3)
    if c < -1.0 + 1e-12:  # upside down: half turn about x
        return np.diag([1.0, -1.0, -1.0])
    v = np.cross(u, z)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


def up_from_axis(spec: str) -> np.ndarray:
    """Unit up vector for ``"z"``, ``"-y"``, ``"+x"``, ... (raises ValueError naming the choices)."""
    s = spec.strip().lower()
    sign = -1.0 if s.startswith("-") else 1.0
    axis = s.lstrip("+-")
    if axis not in _AXES or len(s) - len(axis) > 1:
        raise ValueError(f"unknown up axis {spec!r}; use one of auto, x, -x, y, -y, z, -z")
    return sign * np.array(_AXES[axis])


def given_up(spec: str) -> UpEstimate:
    """An :class:`UpEstimate` for an up axis the user named (``method="given"``, confidence 1)."""
    up = up_from_axis(spec)
    return UpEstimate(rotation_to_z(up), up, "given", 1.0, False, f"up axis {spec} given")


def _snap(up: np.ndarray, snap_deg: float) -> np.ndarray:
    k = int(np.argmax(np.abs(up)))
    if abs(up[k]) >= np.cos(np.radians(snap_deg)):
        out = np.zeros(3)
        out[k] = np.sign(up[k])
        return out
    return up / np.linalg.norm(up)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1.0, 1.0))))


def _as_poses(cam_to_world: np.ndarray) -> np.ndarray:
    T = np.asarray(cam_to_world, np.float64)
    if T.ndim == 2:
        T = T[None]
    if T.ndim != 3 or T.shape[1:] not in ((4, 4), (3, 4)):
        raise ValueError(f"cam_to_world: expected (N, 4, 4) or (N, 3, 4) poses, got shape {T.shape}")
    return T[np.all(np.isfinite(T.reshape(len(T), -1)), axis=1)]


def up_from_cameras(cam_to_world: np.ndarray) -> tuple[np.ndarray, float]:
    """(up, confidence) from camera axes (OpenCV: x right, y down).

    Up is the unit vector most perpendicular to every camera's x axis (the smallest eigenvector of
    sum x xᵀ), signed to agree with the mean image-up axis (-y); confidence: how horizontal the x axes
    are, times how much they turned. With too little spread in the x axes (one camera, a walk without
    turning) the mean image-up axis is used; confidence: how horizontal, times the mean cosine between
    up and the cameras' image-up axes.
    """
    T = _as_poses(cam_to_world)
    if len(T) == 0:
        raise ValueError("cam_to_world: no finite camera pose")
    xs, img_up = T[:, :3, 0], -T[:, :3, 1]
    mean_up = img_up.mean(axis=0)
    if np.linalg.norm(mean_up) < 1e-9:
        mean_up = img_up[0]
    w, V = np.linalg.eigh(xs.T @ xs / len(xs))
    # w[0] ~ 0: the x axes share a plane; w[1] large enough: they span it (the camera turned)
    horizontal = float(1.0 - np.clip(np.sqrt(max(w[0], 0.0)) * 2.0, 0.0, 1.0))
    if w[1] > 0.05:
        up = V[:, 0] * np.sign(V[:, 0] @ mean_up or 1.0)
        return up, horizontal * float(np.clip(w[1] / 0.15, 0.0, 1.0))
    up = mean_up / np.linalg.norm(mean_up)
    return up, horizontal * float(np.clip((img_up @ up).mean(), 0.0, 1.0))


def _fit_plane(pts: np.ndarray) -> tuple[np.ndarray, float]:
    c = pts.mean(axis=0)
    _, _, Vt = np.linalg.svd(pts - c, full_matrices=False)
    n = Vt[2]
    return n, float(n @ c)


def up_from_planes(points_world: np.ndarray, prior_up: np.ndarray, cam_centres: np.ndarray,
                   max_tilt_deg: float = 35.0, inlier_m: float = 0.02, iters: int = 400,
                   max_points: int = 20000, seed: int = 0) -> tuple[np.ndarray, float, str] | None:
    """(up, support, detail) from the largest near-horizontal plane the cameras stand above, or None.

    RANSAC over (a subsample of) ``points_world`` (N, 3), keeping only planes whose normal lies within
    ``max_tilt_deg`` of ``prior_up``; the normal is refit to the inliers by SVD and signed towards the
    cameras. Up to three planes are extracted in turn (the biggest first); the largest one with most
    cameras above it wins. ``support`` is that plane's share of the points (0..1).
    """
    p = np.asarray(points_world, np.float64).reshape(-1, 3)
    p = p[np.all(np.isfinite(p), axis=1)]
    if len(p) < 200:
        return None
    rng = np.random.default_rng(seed)
    if len(p) > max_points:
        p = p[rng.choice(len(p), max_points, replace=False)]
    prior = prior_up / np.linalg.norm(prior_up)
    cos_tilt = np.cos(np.radians(max_tilt_deg))
    remaining = np.ones(len(p), bool)
    best: tuple[np.ndarray, float, str] | None = None
    for _ in range(3):
        idx = np.nonzero(remaining)[0]
        if len(idx) < 100:
            break
        q = p[idx]
        tri = rng.integers(0, len(q), size=(iters, 3))
        a, b, c = q[tri[:, 0]], q[tri[:, 1]], q[tri[:, 2]]
        n = np.cross(b - a, c - a)
        norm = np.linalg.norm(n, axis=1)
        ok = norm > 1e-9
        n[ok] /= norm[ok, None]
        ok &= np.abs(n @ prior) >= cos_tilt
        if not ok.any():
            break
        n, a = n[ok], a[ok]
        offsets = (n * a).sum(axis=1)
        counts = np.concatenate([(np.abs(q @ n[i:i + 64].T - offsets[i:i + 64]) < inlier_m).sum(axis=0)
                                 for i in range(0, len(n), 64)])
        k = int(np.argmax(counts))
        inl = np.abs((q - a[k]) @ n[k]) < inlier_m
        normal, offset = _fit_plane(q[inl])
        if normal @ prior < 0:
            normal, offset = -normal, -offset
        if abs(normal @ prior) < cos_tilt:
            remaining[idx[inl]] = False
            continue
        inl = np.abs(q @ normal - offset) < inlier_m
        normal, offset = _fit_plane(q[inl])
        if normal @ prior < 0:
            normal, offset = -normal, -offset
        remaining[idx[inl]] = False
        above = float((cam_centres @ normal - offset > 0.2).mean()) if len(cam_centres) else 1.0
        support = float(inl.sum() / len(p))
        if above >= 0.5 and (best is None or support > best[1]):
            best = (normal, support, f"plane with {100 * support:.0f}% of the points, {100 * above:.0f}% of "
                                     "the cameras above it")
    return best


def estimate_up(points_world: np.ndarray | None, cam_to_world: np.ndarray, imu_gravity: np.ndarray | None = None,
                *, snap_deg: float = 2.0) -> UpEstimate:
    """Estimate the up direction of a capture and the rotation that makes its world z-up.

    Args:
        points_world: (N, 3) scene points in the input world frame (metres), or None.
        cam_to_world: (N, 4, 4) or (4, 4) camera-to-world poses in the input world (OpenCV cameras).
        imu_gravity: (3,) or (M, 3) gravity vectors in the input world frame (pointing down), or None.
        snap_deg: an estimate this close to a coordinate axis is snapped onto it.

    Returns:
        An :class:`UpEstimate`; ``weak`` is set when the evidence is thin or inconsistent (the
        caller should warn and suggest ``--up``).
    """
    if imu_gravity is not None:
        g = np.asarray(imu_gravity, np.float64).reshape(-1, 3)
        g = g[np.all(np.isfinite(g), axis=1) & (np.linalg.norm(g, axis=1) > 1e-9)]
        if len(g):
            units = g / np.linalg.norm(g, axis=1, keepdims=True)
            mean = units.mean(axis=0)
            conf = float(np.linalg.norm(mean))
            up = _snap(-mean / conf, snap_deg)
            return UpEstimate(rotation_to_z(up), up, "imu", conf, conf < 0.95,
                              f"IMU gravity from {len(g)} sample(s)")
    cam_up, cam_conf = up_from_cameras(cam_to_world)
    T = _as_poses(cam_to_world)
    if points_world is not None:
        found = up_from_planes(points_world, cam_up, T[:, :3, 3])
        if found is not None and found[1] >= 0.05:
            normal, support, detail = found
            tilt = _angle_deg(normal, cam_up)
            conf = float(np.clip(support / 0.15, 0.0, 1.0) * np.clip(1.0 - tilt / 45.0, 0.0, 1.0))
            up = _snap(normal, snap_deg)
            return UpEstimate(rotation_to_z(up), up, "plane", conf, conf < 0.3,
                              f"{detail}; {tilt:.1f} deg from the cameras' up")
    up = _snap(cam_up, snap_deg)
    detail = "camera axes" + ("" if points_world is not None else " (no depth points)")
    return UpEstimate(rotation_to_z(up), up, "cameras", cam_conf, True if cam_conf < 0.8 else len(T) < 5, detail)


def manhattan_yaw(points_zup: np.ndarray, band_z: tuple[float, float] | None = None, bin_m: float = 0.05,
                  step_deg: float = 1.0, max_points: int = 20000, seed: int = 0) -> tuple[float, float]:
    """(yaw_rad, sharpness) turning the walls of a z-up capture onto the x and y axes.

    Rooms are mostly rectangular: seen from above, wall points pile up on a few lines. For each candidate
    yaw in [0, 90) degrees the xy coordinates of (a subsample of) the points with z in ``band_z`` are
    rotated and histogrammed in ``bin_m`` bins; the yaw whose x and y histograms are sharpest (lowest
    entropy) wins. ``sharpness`` in 0..1 is how much better it is than the median yaw. Rotating the points
    by ``Rz(yaw)`` (:func:`rot_z`) aligns them.
    """
    p = np.asarray(points_zup, np.float64).reshape(-1, 3)
    p = p[np.all(np.isfinite(p), axis=1)]
    if band_z is not None:
        p = p[(p[:, 2] >= band_z[0]) & (p[:, 2] <= band_z[1])]
    if len(p) < 100:
        return 0.0, 0.0
    if len(p) > max_points:
        p = p[np.random.default_rng(seed).choice(len(p), max_points, replace=False)]
    xy = p[:, :2] - p[:, :2].mean(axis=0)
    ext = float(np.abs(xy).max()) * 1.5 + bin_m
    edges = np.arange(-ext, ext + bin_m, bin_m)
    yaws = np.radians(np.arange(0.0, 90.0, step_deg))
    ent = np.empty(len(yaws))
    for i, a in enumerate(yaws):
        c, s_ = np.cos(a), np.sin(a)
        h = 0.0
        for v in (c * xy[:, 0] - s_ * xy[:, 1], s_ * xy[:, 0] + c * xy[:, 1]):
            q = np.histogram(v, edges)[0].astype(np.float64)
            q = q[q > 0] / len(v)
            h -= float((q * np.log(q)).sum())
        ent[i] = h
    k = int(np.argmin(ent))
    med = float(np.median(ent))
    return float(yaws[k]), float(np.clip((med - ent[k]) / max(med, 1e-9) * 10.0, 0.0, 1.0))


def rot_z(yaw: float) -> np.ndarray:
    """(3, 3) rotation by ``yaw`` radians about +z (counter-clockwise seen from above)."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


__all__ = ["UpEstimate", "METHODS", "estimate_up", "given_up", "up_from_axis", "rotation_to_z", "up_from_cameras",
           "up_from_planes", "manhattan_yaw", "rot_z"]
