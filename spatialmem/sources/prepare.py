"""Before a source is ingested: check a sample of its frames, find which way is up, make the world z-up.

:func:`prepare_source` reads up to ``sample_frames`` frames spread over the source (sources with
random access, ``read(k)``), and

* checks what a sample can show: depth units (a warning when the median depth is outside
  0.2–20 m, naming ``--depth-scale``), whether any frame has instance masks;
* estimates the up direction (:func:`spatialmem.geometry.gravity.estimate_up`) from the layout's
  IMU-levelled convention (``source.gravity``, e.g. ARKit's -y), else the depth points and the camera
  axes; or takes the axis the user gave (``up="z"``, ``"-y"``, ...);
* wraps the source in an :class:`UprightSource` whose frames carry poses rotated into the z-up
  world (depth, images and intrinsics are untouched: they live in the camera frame).

The result's ``metadata`` (layout, depth scale, the up estimate and its rotation) goes into the
memory's metadata; ``warnings`` are for the caller to show (library code never prints).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatialmem.errors import InputError
from spatialmem.geometry.gravity import UpEstimate, estimate_up, given_up, manhattan_yaw, rot_z
from spatialmem.types import Frame

DEPTH_PLAUSIBLE_M = (0.2, 20.0)


@dataclass(frozen=True)
class SourceReport:
    """What the pre-pass found.

    Attributes:
        layout: the source's layout name (e.g. ``"tum"``, ``"scannet"``).
        n_frames: frames the source will yield (before frames with invalid poses are skipped).
        depth_scale: depth units per metre the source uses, or None without depth.
        up: the up estimate applied (None when the source has no poses).
        median_depth_m: median valid depth over the sampled frames, or None.
        has_masks: whether any sampled frame carries instance masks.
        warnings: lines for the user.
    """

    layout: str
    n_frames: int
    depth_scale: float | None
    up: UpEstimate | None
    median_depth_m: float | None
    has_masks: bool
    warnings: tuple[str, ...] = ()

    def to_metadata(self) -> dict[str, Any]:
        return {"source_layout": self.layout, "depth_scale": self.depth_scale,
                "median_depth_m": self.median_depth_m,
                "gravity": None if self.up is None else self.up.to_dict()}


class UprightSource:
    """A source whose poses are re-expressed in a z-up world (``rotation @`` the input world)."""

    def __init__(self, source: Any, report: SourceReport) -> None:
        self.source, self.report = source, report
        self.path, self.scene_name = source.path, source.scene_name
        self.metadata = {**(getattr(source, "metadata", None) or {}), **report.to_metadata(),
                         "source_kind": type(source).__name__}
        up = report.up
        self._T = None if up is None or np.allclose(up.rotation, np.eye(3)) else up.transform()

    def __len__(self) -> int:
        return len(self.source)

    def _fix(self, f: Frame) -> Frame:
        if self._T is None or f.world_from_camera is None:
            return f
        return dataclasses.replace(f, world_from_camera=self._T @ np.asarray(f.world_from_camera, np.float64))

    def read(self, k: int) -> Frame | None:
        f = self.source.read(k)
        return None if f is None else self._fix(f)

    def __iter__(self) -> Iterator[Frame]:
        for f in self.source:
            yield self._fix(f)


def depth_points_world(f: Frame, step: int, rng: np.random.Generator, max_points: int) -> np.ndarray:
    """(N, 3) world points of every ``step``-th depth pixel of a posed frame, at most ``max_points`` (random)."""
    d = f.depth_m
    K = f.depth_camera()
    rows, cols = np.arange(step // 2, d.shape[0], step), np.arange(step // 2, d.shape[1], step)
    z = d[np.ix_(rows, cols)].astype(np.float64)
    v, u = np.meshgrid(rows, cols, indexing="ij")
    ok = (z > 0) & np.isfinite(z)
    z, u, v = z[ok], u[ok], v[ok]
    cam = np.stack([(u - K.cx) / K.fx * z, (v - K.cy) / K.fy * z, z], axis=1)
    if len(cam) > max_points:
        cam = cam[rng.choice(len(cam), max_points, replace=False)]
    T = f.world_from_camera
    return cam @ T[:3, :3].T + T[:3, 3]


def _align_walls(up: UpEstimate, points: np.ndarray, poses: np.ndarray) -> UpEstimate:
    """``up`` with a turn about the vertical that puts the dominant walls on the x and y axes (when clear)."""
    zup = points @ up.rotation.T
    cam_z = (poses[:, :3, 3] @ up.rotation.T)[:, 2]
    lo = float(np.percentile(zup[:, 2], 2))
    yaw, sharp = manhattan_yaw(zup, band_z=(lo + 0.3, float(np.median(cam_z)) + 0.5))
    if sharp < 0.2 or yaw == 0.0:
        return up
    return dataclasses.replace(up, rotation=rot_z(yaw) @ up.rotation,
                               detail=f"{up.detail}; walls turned onto the axes ({np.degrees(yaw):.0f} deg about z, "
                                      f"sharpness {sharp:.2f})")


def prepare_source(source: Any, up: str = "auto", sample_frames: int = 24,
                   points_per_frame: int = 4000) -> UprightSource:
    """Check a sample of ``source``'s frames and wrap it so that its world is z-up (module docstring).

    Args:
        source: a frame source; random access (``read(k)``) is needed to sample frames, otherwise
            the first ``sample_frames`` frames are used.
        up: ``"auto"`` (estimate) or an axis: ``"z"``, ``"-y"``, ``"x"``, ...
        sample_frames: frames read for the checks and the estimate.
        points_per_frame: depth points kept per sampled frame.

    Raises:
        InputError: on an unknown ``up`` value.
    """
    layout = str(getattr(source, "layout", type(source).__name__))
    depth_scale = getattr(source, "depth_scale", None)
    n = len(source)
    frames: list[Frame] = []
    if hasattr(source, "read") and n > 0:
        for k in sorted({int(round(x)) for x in np.linspace(0, n - 1, min(n, sample_frames))}):
            f = source.read(k)
            if f is not None:
                frames.append(f)
    elif up == "auto" and getattr(source, "has_poses", False):
        for f in source:
            frames.append(f)
            if len(frames) >= sample_frames:
                break
    warnings: list[str] = list(getattr(source, "notes", ()))
    rng = np.random.default_rng(0)
    posed = [f for f in frames if f.world_from_camera is not None]
    depths = [f.depth_m[f.depth_m > 0] for f in frames if f.depth_m is not None]
    depths = [d for d in depths if d.size]
    median = float(np.median(np.concatenate(depths))) if depths else None
    if median is not None and not DEPTH_PLAUSIBLE_M[0] <= median <= DEPTH_PLAUSIBLE_M[1]:
        warnings.append(f"{source.path}: the median depth is {median:.3g} m, outside the plausible "
                        f"{DEPTH_PLAUSIBLE_M[0]}-{DEPTH_PLAUSIBLE_M[1]} m for a room; the depth scale "
                        f"({depth_scale} units per metre) is probably wrong: pass --depth-scale "
                        "(1000 for millimetres, 5000 for TUM)")
    estimate: UpEstimate | None = None
    if up != "auto":
        try:
            estimate = given_up(up)
        except ValueError as exc:
            raise InputError(f"--up: {exc}") from None
    elif posed:
        poses = np.stack([f.world_from_camera for f in posed])
        pts = [depth_points_world(f, 8, rng, points_per_frame) for f in posed if f.depth_m is not None]
        points = np.concatenate(pts) if pts else None
        estimate = estimate_up(points, poses, getattr(source, "gravity", None))
        declared = getattr(source, "up_axis", None)
        if declared is not None:  # the layout's convention wins; the data only checks it
            conv = given_up(declared)
            off = float(np.degrees(np.arccos(np.clip(conv.up @ estimate.up, -1.0, 1.0))))
            if off > 15.0:
                warnings.append(f"{source.path}: the {layout} layout is {declared}-up, but the data suggest up = "
                                f"{np.round(estimate.up, 2).tolist()} ({estimate.method}, {off:.0f} degrees away); "
                                f"kept {declared}-up: pass --up to override")
            estimate = dataclasses.replace(conv, detail=f"the {layout} layout's convention ({declared}-up); the "
                                           f"{estimate.method} estimate is {off:.1f} degrees away")
        elif points is not None:  # an estimated world: also turn the walls onto the x and y axes
            estimate = _align_walls(estimate, points, poses)
        if declared is None and estimate.weak:
            warnings.append(f"{source.path}: the up direction is a weak estimate ({estimate.method}: "
                            f"{estimate.detail}; confidence {estimate.confidence:.2f}); if the top-down map looks "
                            "like a side view, pass --up with the world's up axis (z, y, -y, ...)")
    report = SourceReport(layout, n, None if depth_scale is None else float(depth_scale), estimate, median,
                          any(f.instance_ids is not None for f in frames), tuple(warnings))
    return UprightSource(source, report)


__all__ = ["prepare_source", "UprightSource", "SourceReport", "DEPTH_PLAUSIBLE_M", "depth_points_world"]
