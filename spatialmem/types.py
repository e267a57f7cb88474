"""Typed hand-offs between stages, and the frame / unit conventions they follow.

Conventions (asserted by :func:`check_pose` and friends, used everywhere):

* World frame: right-handed, **z up**, metres. The floor of a synthetic room is ``z = 0``.
* Camera frame: OpenCV, x right, y down, z forward.
* Poses are ``world_from_camera`` 4x4 float64 matrices: ``p_world = T @ p_camera``.
* Array names carry frame and unit: ``points_world`` (N, 3) metres, ``depth_m`` (H, W) metres with
  0 meaning "no measurement", ``timestamp_s`` seconds since the first frame.

Only numpy here: no torch and no heavy imports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from spatialmem.geometry.boxes import OrientedBox

#: An object counts as *seen* in a frame when its mask covers at least this fraction of the image
#: (500 px at 640x480): the benchmark's first-visible rule and the builder's first_seen_s rule.
VISIBLE_MASK_FRACTION = 500.0 / (640 * 480)
# The largest world coordinate or box size (metres) any input may carry: a scene is a few rooms, and
# far-out values (1e308) would only overflow into inf in distances and areas.
MAX_WORLD_M = 1.0e5

__all__ = [
    "VISIBLE_MASK_FRACTION",
    "Intrinsics",
    "Frame",
    "Detection2D",
    "Observation3D",
    "OrientedBox",
    "check_pose",
    "check_intrinsics",
]


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole intrinsics of one image, in pixels; pixel centres at integer coordinates."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @property
    def K(self) -> np.ndarray:
        """The 3x3 camera matrix (float64)."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same camera resampled to ``width`` x ``height`` pixels."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(
            self.fx * sx, self.fy * sy, (self.cx + 0.5) * sx - 0.5, (self.cy + 0.5) * sy - 0.5, width, height
        )

    def to_dict(self) -> dict:
        return {"fx": self.fx, "fy": self.fy, "cx": self.cx, "cy": self.cy, "width": self.width, "height": self.height}

    @classmethod
    def from_dict(cls, d: Mapping) -> Intrinsics:
        return cls(float(d["fx"]), float(d["fy"]), float(d["cx"]), float(d["cy"]), int(d["width"]), int(d["height"]))

    @classmethod
    def from_fov(cls, width: int, height: int, hfov_deg: float) -> Intrinsics:
        """A centred pinhole camera with horizontal field of view ``hfov_deg`` (square pixels)."""
        f = 0.5 * width / np.tan(np.radians(hfov_deg) / 2.0)
        return cls(f, f, (width - 1) / 2.0, (height - 1) / 2.0, width, height)


def check_pose(world_from_camera: np.ndarray, what: str = "pose") -> np.ndarray:
    """Validate a ``world_from_camera`` 4x4 rigid transform and return it as float64.

    Raises:
        FormatError: naming ``what`` if the matrix is not 4x4, not finite, or not rigid.
    """
    from spatialmem.errors import FormatError

    try:
        T = np.asarray(world_from_camera, dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise FormatError(f"{what}: expected a finite 4x4 numeric world_from_camera matrix ({exc})") from None
    if T.shape != (4, 4) or not np.all(np.isfinite(T)):
        raise FormatError(f"{what}: expected a finite 4x4 world_from_camera matrix, got shape {T.shape}")
    R = T[:3, :3]
    if not np.allclose(R @ R.T, np.eye(3), atol=1e-3) or np.linalg.det(R) < 0.99:
        raise FormatError(f"{what}: the rotation block is not a proper rotation (R Rᵀ ≠ I or det ≠ 1)")
    if not np.allclose(T[3], [0, 0, 0, 1], atol=1e-6):
        raise FormatError(f"{what}: the last row must be [0, 0, 0, 1]")
    return T


def check_intrinsics(K: Intrinsics, what: str = "intrinsics", image_size: tuple[int, int] | None = None,
                     aspect_tol: float = 0.02) -> Intrinsics:
    """Validate pinhole intrinsics, optionally against the size of the images they are used with.

    Focal lengths must be finite and positive, the principal point inside the image. With
    ``image_size`` (width, height) the intrinsics are returned rescaled to it when the aspect ratios
    agree within ``aspect_tol``; a different aspect ratio means they belong to another camera.

    Raises:
        FormatError: naming ``what`` and the fix.
    """
    from spatialmem.errors import FormatError

    vals = (K.fx, K.fy, K.cx, K.cy)
    if not all(np.isfinite(v) for v in vals) or K.fx <= 0 or K.fy <= 0:
        raise FormatError(f"{what}: focal lengths must be finite and positive, got fx={K.fx:g}, fy={K.fy:g}; "
                          "fix the file or pass --intrinsics / --fov")
    if K.width <= 0 or K.height <= 0:
        raise FormatError(f"{what}: image size must be positive, got {K.width}x{K.height}")
    if not (-0.5 <= K.cx <= K.width - 0.5 and -0.5 <= K.cy <= K.height - 0.5):
        raise FormatError(f"{what}: principal point ({K.cx:g}, {K.cy:g}) lies outside the {K.width}x{K.height} "
                          "image; fix the file or pass --intrinsics / --fov")
    if image_size is None or (K.width, K.height) == tuple(image_size):
        return K
    w, h = int(image_size[0]), int(image_size[1])
    if abs((w / h) / (K.width / K.height) - 1.0) > aspect_tol:
        raise FormatError(f"{what}: the intrinsics are for {K.width}x{K.height} images but the frames are {w}x{h} "
                          "(another aspect ratio: another camera?); give intrinsics of these frames with "
                          "--intrinsics")
    return K.scaled(w, h)


@dataclass(frozen=True, eq=False)
class Frame:
    """One frame of a source, after optional geometry estimation.

    Attributes:
        index: frame number within the source, from 0.
        timestamp_s: seconds since the first frame.
        rgb: (H, W, 3) uint8 colour image.
        intrinsics: intrinsics of ``rgb``.
        world_from_camera: (4, 4) float64 pose, or None until a geometry backend fills it.
        depth_m: (Hd, Wd) float32 metric depth along the optical axis, 0 where unknown; or None.
        depth_intrinsics: intrinsics of ``depth_m`` (None means: same as ``intrinsics`` scaled to
            the depth resolution).
        instance_ids: (Hi, Wi) int32 per-pixel instance id, 0 = background; any resolution, its
            pixel grid spans the same image as ``rgb``. None when the source has no masks.
        instance_labels: instance id -> category name for ids in ``instance_ids``.
    """

    index: int
    timestamp_s: float
    rgb: np.ndarray
    intrinsics: Intrinsics
    world_from_camera: np.ndarray | None = None
    depth_m: np.ndarray | None = None
    depth_intrinsics: Intrinsics | None = None
    instance_ids: np.ndarray | None = None
    instance_labels: Mapping[int, str] = field(default_factory=dict)

    def depth_camera(self) -> Intrinsics:
        """Intrinsics of ``depth_m`` (raises ValueError when the frame has no depth)."""
        if self.depth_m is None:
            raise ValueError(f"frame {self.index} has no depth")
        if self.depth_intrinsics is not None:
            return self.depth_intrinsics
        h, w = self.depth_m.shape
        return self.intrinsics.scaled(w, h)


@dataclass(frozen=True, eq=False)
class Detection2D:
    """One 2D instance found in one frame by an instance backend.

    Attributes:
        frame_index: index of the frame it was found in.
        category: canonical category name (e.g. ``"trash bin"``).
        mask: (Hm, Wm) bool, any resolution spanning the whole image.
        score: confidence in [0, 1].
        feature: optional (D,) float32 L2-normalised appearance/semantic feature.
    """

    frame_index: int
    category: str
    mask: np.ndarray
    score: float = 1.0
    feature: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Observation3D:
    """A 2D detection lifted into the world frame.

    Attributes:
        frame_index, timestamp_s: when it was seen.
        category: canonical category name.
        points_world: (N, 3) float32 world points (subsampled, outliers removed).
        box: gravity-aligned oriented box of ``points_world``.
        score: detection confidence in [0, 1].
        pixel_count: mask area in pixels at the mask's own resolution.
        feature: optional (D,) float32 feature, as on the detection.
        mask_fraction: ``pixel_count`` divided by the mask's total number of pixels (the share of
            the image the detection covers, independent of the mask's resolution).
    """

    frame_index: int
    timestamp_s: float
    category: str
    points_world: np.ndarray
    box: OrientedBox
    score: float
    pixel_count: int
    feature: np.ndarray | None = None
    mask_fraction: float = 1.0
