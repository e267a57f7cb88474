"""Source for a TUM RGB-D sequence (``rgbd_dataset_freiburg*``).

```
SEQ/
  rgb.txt            "timestamp rgb/<timestamp>.png" per line ('#' comments)
  depth.txt          "timestamp depth/<timestamp>.png"; depth in 1/5000 m (uint16), 0 = none
  groundtruth.txt    "timestamp tx ty tz qx qy qz qw": world_from_camera (optical frame), motion capture world
  rgb/, depth/
```
Each colour image is paired with the depth image and the ground-truth pose nearest in time (within
``max_dt_s``, 20 ms by default); images without both are skipped. Intrinsics: the published
calibration of freiburg1/2/3 when the folder name says which (``freiburg1`` ...), else the ROS default
(525, 525, 319.5, 239.5); ``--intrinsics`` / ``--fov`` override. The motion-capture world is not z-up:
the up direction is estimated (:mod:`spatialmem.sources.prepare`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError
from spatialmem.sources.rgbd import FrameSpec, RGBDSequence, floats, nearest, pose_from_quat, read_table
from spatialmem.types import Intrinsics

#: published pinhole calibration (fx, fy, cx, cy) at 640x480 of the TUM RGB-D cameras
TUM_CAMERAS = {"freiburg1": (517.3, 516.5, 318.6, 255.3), "freiburg2": (520.9, 521.0, 325.1, 249.7),
               "freiburg3": (535.4, 539.2, 320.1, 247.6), "default": (525.0, 525.0, 319.5, 239.5)}


def tum_intrinsics(path: Path) -> Intrinsics:
    """The calibration of the camera named in the folder name (freiburg1/2/3), else the ROS default, at 640x480."""
    name = path.resolve().name.lower()
    key = next((k for k in TUM_CAMERAS if k in name), "default")
    return Intrinsics(*TUM_CAMERAS[key], 640, 480)


def _index(path: Path, name: str) -> tuple[np.ndarray, list[Path]]:
    rows = read_table(path / name, 2, f"a TUM RGB-D sequence needs {name}")
    try:
        times = np.array([float(r[0]) for r in rows])
    except ValueError as exc:
        raise FormatError(f"{path / name}: the first column must be a timestamp ({exc})") from None
    files = [path / r[1] for r in rows]
    order = np.argsort(times, kind="stable")
    return times[order], [files[i] for i in order]


class TUMSource(RGBDSequence):
    """Frames of a TUM RGB-D sequence folder (module docstring); options as :class:`RGBDSequence`."""

    def __init__(self, path: str | os.PathLike, depth_scale: float = 5000.0, fps: float | None = None,
                 stride: int = 1, max_frames: int | None = None, intrinsics: Intrinsics | np.ndarray | None = None,
                 hfov_deg: float | None = None, max_dt_s: float = 0.02) -> None:
        root = Path(path)
        rgb_t, rgb_f = _index(root, "rgb.txt")
        dep_t, dep_f = _index(root, "depth.txt")
        gt = read_table(root / "groundtruth.txt", 8, "a TUM RGB-D sequence needs groundtruth.txt for its poses "
                        "(or use another geometry backend on its rgb/ images)")
        vals = np.array([floats(r[:8], root / "groundtruth.txt", i + 1) for i, r in enumerate(gt)])
        vals = vals[np.argsort(vals[:, 0], kind="stable")]
        specs = []
        for t, f in zip(rgb_t, rgb_f, strict=True):
            i, j = nearest(dep_t, t), nearest(vals[:, 0], t)
            if abs(dep_t[i] - t) > max_dt_s or abs(vals[j, 0] - t) > max_dt_s:
                continue
            try:
                T = pose_from_quat(vals[j, 1:4], vals[j, 4:8])
            except ValueError as exc:
                raise FormatError(f"{root / 'groundtruth.txt'} at time {vals[j, 0]:.4f}: {exc}") from None
            specs.append(FrameSpec(len(specs), float(t), f, dep_f[i], T,
                                   f"{root / 'groundtruth.txt'} at time {vals[j, 0]:.4f}"))
        if not specs:
            raise FormatError(f"{root}: no colour image of rgb.txt has a depth image and a ground-truth pose within "
                              f"{1000 * max_dt_s:.0f} ms")
        super().__init__(root, specs, tum_intrinsics(root), layout="tum", depth_scale=depth_scale,
                         intrinsics=intrinsics, hfov_deg=hfov_deg, fps=fps, stride=stride, max_frames=max_frames,
                         what_K=f"TUM calibration for {root.name}")


__all__ = ["TUMSource", "TUM_CAMERAS", "tum_intrinsics"]
