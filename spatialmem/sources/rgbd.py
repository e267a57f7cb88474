"""One reader for every posed RGB-D sequence layout: the layouts only list their frames.

A layout module (``tum.py``, ``sevenscenes.py``, ...) parses its own index files into
:class:`FrameSpec` s (colour file, depth file, pose, timestamp) and builds an :class:`RGBDSequence`
with the intrinsics, the depth scale and the up convention of the layout. The sequence validates
before any work starts (intrinsics, frame counts, options) and while reading (poses finite and
rigid, every depth image the size of the first), naming the file and the fix; ``stride``,
``max_frames``, ``fps`` and an ``intrinsics`` override work the same for every layout.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError
from spatialmem.sources.files import check_fov, image_size, read_depth_mm, read_png16, read_rgb, resolve_intrinsics
from spatialmem.types import Frame, Intrinsics, check_pose

# OpenGL / ARKit camera (x right, y up, z backward) -> OpenCV camera (x right, y down, z forward)
GL_TO_CV = np.diag([1.0, -1.0, -1.0, 1.0])


@dataclass(frozen=True)
class FrameSpec:
    """One frame of a sequence, as the layout lists it.

    Attributes:
        number: the frame's number in the layout (file stem or row), used as ``Frame.index``.
        timestamp_s: seconds (any origin; the sequence subtracts the first frame's).
        color: colour image file.
        depth: depth image file (uint16 PNG in 1/depth_scale metres), or None.
        pose: (4, 4) world_from_camera (OpenCV camera), a text file holding it (read when the frame is),
            or None when the layout has none for this frame.
        pose_file: the file (and line) the pose came from, for messages.
        instance: per-pixel instance-id PNG, or None.
    """

    number: int
    timestamp_s: float
    color: Path
    depth: Path | None
    pose: np.ndarray | Path | None
    pose_file: str = ""
    instance: Path | None = None


def read_matrix(path: Path) -> np.ndarray:
    """A whitespace-separated matrix text file as float64 (2-D)."""
    try:
        return np.loadtxt(path, dtype=np.float64, ndmin=2)
    except FileNotFoundError:
        raise InputError(f"missing {path}") from None
    except ValueError as exc:
        raise FormatError(f"{path}: expected a whitespace-separated numeric matrix ({exc})") from None


def quat_to_matrix(qx: float, qy: float, qz: float, qw: float) -> np.ndarray:
    """(3, 3) rotation of a unit quaternion (x, y, z, w); raises ValueError when it is far from unit."""
    q = np.array([qw, qx, qy, qz], np.float64)
    n = np.linalg.norm(q)
    if not np.isfinite(n) or abs(n - 1.0) > 0.05:
        raise ValueError(f"quaternion norm {n:.3g} is not 1")
    w, x, y, z = q / n
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def pose_from_quat(t: Sequence[float], q: Sequence[float]) -> np.ndarray:
    """(4, 4) rigid transform from a translation (3,) and a quaternion (x, y, z, w)."""
    T = np.eye(4)
    T[:3, :3] = quat_to_matrix(*q)
    T[:3, 3] = t
    return T


def read_table(path: Path, min_cols: int, what: str) -> list[list[str]]:
    """Rows of a whitespace- or comma-separated text file, '#' comments and blank lines skipped."""
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        raise InputError(f"missing {path}; {what}") from None
    rows = []
    for line_no, line in enumerate(text.splitlines(), 1):
        s = line.split("#", 1)[0].replace(",", " ").split()
        if not s:
            continue
        if len(s) < min_cols:
            raise FormatError(f"{path} line {line_no}: expected at least {min_cols} fields, got {len(s)}")
        rows.append(s)
    return rows


def floats(row: Sequence[str], path: Path, line: int) -> list[float]:
    try:
        return [float(v) for v in row]
    except ValueError as exc:
        raise FormatError(f"{path} row {line}: expected numbers ({exc})") from None


def nearest(times: np.ndarray, t: float) -> int:
    """Index of the value of the sorted ``times`` closest to ``t``."""
    i = int(np.searchsorted(times, t))
    if i == len(times) or (i > 0 and t - times[i - 1] <= times[i] - t):
        i -= 1
    return i


class RGBDSequence:
    """Frames of a posed RGB-D sequence (see the module docstring).

    Args:
        path: the capture's folder (or file), for messages and ``scene_name``.
        specs: the frames in time order.
        color_K: intrinsics of the colour images (validated; rescaled to the images' size when the
            aspect ratio agrees).
        depth_K: intrinsics of the depth images (default: ``color_K`` scaled to the depth size).
        layout: the layout's name (``"tum"``, ...). depth_scale: depth units per metre.
        intrinsics: user override of ``color_K`` (and ``depth_K``): an Intrinsics or a 3x3 K.
        fps: override of the timestamps: frame k gets ``k / fps`` (k counted before stride).
        stride, max_frames: subsampling.
        up_axis: the layout's declared world up axis (``"z"``, ``"y"``) or None (estimate).
        gravity: (3,) gravity direction in the layout's world when it is IMU-levelled, else None.
        labels: instance id -> category for ``FrameSpec.instance`` masks.
        depth_reader: reads a depth file into metres (default: 16-bit PNG / depth_scale).
        color_reader: reads frame k's colour image (default: the ``color`` file).
        invalid_depth: raw depth value meaning "no measurement" besides 0 (e.g. 65535), or None.
    """

    has_poses = True

    def __init__(self, path: str | os.PathLike, specs: list[FrameSpec], color_K: Intrinsics | np.ndarray | None,
                 *, layout: str, depth_scale: float = 1000.0, depth_K: Intrinsics | np.ndarray | None = None,
                 intrinsics: Intrinsics | np.ndarray | None = None, hfov_deg: float | None = None,
                 fps: float | None = None, stride: int = 1, max_frames: int | None = None,
                 up_axis: str | None = None, gravity: np.ndarray | None = None, labels: dict[int, str] | None = None,
                 depth_reader: Callable[[Path], np.ndarray] | None = None,
                 color_reader: Callable[[int, FrameSpec], np.ndarray] | None = None,
                 invalid_depth: int | None = None, what_K: str = "intrinsics") -> None:
        self.path = Path(path)
        self.scene_name = self.path.stem if self.path.is_file() else self.path.name
        self.layout, self.up_axis = layout, up_axis
        self.gravity = None if gravity is None else np.asarray(gravity, np.float64)
        if stride < 1:
            raise InputError(f"--stride must be >= 1, got {stride}")
        if max_frames is not None and max_frames < 1:
            raise InputError(f"--max-frames must be >= 1, got {max_frames}")
        if not depth_scale > 0 or not np.isfinite(depth_scale):
            raise InputError(f"--depth-scale must be a positive number of depth units per metre, got {depth_scale}")
        if fps is not None and not fps > 0:
            raise InputError(f"--fps must be positive, got {fps}")
        if not specs:
            raise FormatError(f"{self.path}: the {layout} layout lists no frame with colour, depth and pose")
        self.depth_scale = float(depth_scale)
        self.fps = fps
        self.labels = dict(labels or {})
        self._pos = list(range(len(specs)))[::stride][: max_frames]
        self.specs = [specs[i] for i in self._pos]
        self._t0 = specs[0].timestamp_s
        self._read_depth = depth_reader or (lambda p: read_depth_mm(p, self.depth_scale, invalid_depth))
        self._read_color = color_reader or (lambda k, s: read_rgb(s.color))
        self.color_size = self._color_size()
        given = intrinsics if intrinsics is not None else color_K
        what = "--intrinsics" if intrinsics is not None else what_K
        if given is None:
            if hfov_deg is None:
                raise InputError(f"{self.path}: the {layout} layout has no camera intrinsics; pass --intrinsics FILE "
                                 "or --fov DEG")
            given = Intrinsics.from_fov(*self.color_size, check_fov(hfov_deg))
        elif intrinsics is None and hfov_deg is not None:
            given = Intrinsics.from_fov(*self.color_size, check_fov(hfov_deg))
            what = "--fov"
        self.color_K = resolve_intrinsics(given, self.color_size, what)
        first_depth = next((s.depth for s in self.specs if s.depth is not None), None)
        if first_depth is None:
            self.depth_size = None
        else:
            d0 = self._read_depth(first_depth)
            self.depth_size = (int(d0.shape[1]), int(d0.shape[0]))
        if self.depth_size is None:
            self.depth_K = None
        elif depth_K is not None and intrinsics is None and hfov_deg is None:
            self.depth_K = resolve_intrinsics(depth_K, self.depth_size, what_K)
        else:
            self.depth_K = self.color_K.scaled(*self.depth_size)

    def _color_size(self) -> tuple[int, int]:
        return image_size(self.specs[0].color)

    @property
    def metadata(self) -> dict:
        return {"source_layout": self.layout}

    def __len__(self) -> int:
        return len(self.specs)

    def read(self, k: int) -> Frame | None:
        """The ``k``-th frame, or None when the layout has no valid pose for it (lost tracking)."""
        s = self.specs[k]
        T = read_matrix(s.pose) if isinstance(s.pose, Path) else s.pose
        if T is None or not np.all(np.isfinite(T)):
            return None
        what = s.pose_file or (str(s.pose) if isinstance(s.pose, Path) else f"{self.path} frame {s.number}")
        if T.shape != (4, 4):
            raise FormatError(f"{what}: expected a 4x4 world_from_camera matrix, got shape {T.shape}")
        pose = check_pose(T, what)
        rgb = self._read_color(k, s)
        if (rgb.shape[1], rgb.shape[0]) != self.color_size:
            raise FormatError(f"{s.color}: {rgb.shape[1]}x{rgb.shape[0]} pixels, but the first colour image is "
                              f"{self.color_size[0]}x{self.color_size[1]}; every frame must have one size")
        depth = None
        if s.depth is not None:
            depth = self._read_depth(s.depth)
            if (depth.shape[1], depth.shape[0]) != self.depth_size:
                raise FormatError(f"{s.depth}: {depth.shape[1]}x{depth.shape[0]} pixels, but the first depth image "
                                  f"is {self.depth_size[0]}x{self.depth_size[1]}; every depth frame must have one size")
        ids = read_png16(s.instance).astype(np.int32) if s.instance is not None else None
        t = self._pos[k] / self.fps if self.fps else s.timestamp_s - self._t0
        return Frame(index=int(s.number), timestamp_s=float(t), rgb=rgb, intrinsics=self.color_K,
                     world_from_camera=pose, depth_m=depth, depth_intrinsics=self.depth_K, instance_ids=ids,
                     instance_labels=self.labels if ids is not None else {})

    def __iter__(self) -> Iterator[Frame]:
        for k in range(len(self.specs)):
            f = self.read(k)
            if f is not None:
                yield f


__all__ = ["RGBDSequence", "FrameSpec", "read_matrix", "GL_TO_CV", "pose_from_quat", "quat_to_matrix", "read_table",
           "nearest", "floats"]
