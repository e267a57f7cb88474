"""Source for an RGB-D folder in the ScanNet export layout.

```
SCAN/
  color/<n>.jpg                       colour frames (any resolution, e.g. 1296x968)
  depth/<n>.png                       uint16 depth in millimetres (e.g. 640x480), 0 = none
  pose/<n>.txt                        4x4 world_from_camera (camera-to-world), whitespace separated
  intrinsic/intrinsic_color.txt       4x4 (or 3x3) K of the colour images
  intrinsic/intrinsic_depth.txt       4x4 (or 3x3) K of the depth images
  instance/<n>.png  (optional)        uint16/uint8 per-pixel instance ids (0 = none), any resolution
  instance_labels.json (optional)     {"<id>": "category", ...}
```
Frames are matched by the integer stem ``<n>`` and ordered by it; poses with non-finite values
(ScanNet marks lost tracking with ``-inf``) are skipped. The timestamp is ``(n - first n) / fps``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError
from spatialmem.sources._io import read_depth_mm, read_png16, read_rgb
from spatialmem.types import Frame, Intrinsics, check_pose


def read_matrix(path: Path) -> np.ndarray:
    """A whitespace-separated matrix text file as float64."""
    try:
        return np.loadtxt(path, dtype=np.float64, ndmin=2)
    except FileNotFoundError:
        raise InputError(f"missing {path}") from None
    except ValueError as exc:
        raise FormatError(f"{path}: expected a whitespace-separated numeric matrix ({exc})") from None


def _stems(folder: Path, suffixes: tuple[str, ...]) -> dict[int, Path]:
    if not folder.is_dir():
        raise InputError(f"missing folder {folder}; expected a ScanNet-layout scan with color/, depth/ and pose/")
    out = {}
    for f in folder.iterdir():
        if f.suffix.lower() in suffixes and f.stem.lstrip("-").isdigit():
            out[int(f.stem)] = f
    return out


class ScanNetSource:
    """Frames of a ScanNet-layout RGB-D folder.

    Args:
        path: the scan folder.
        fps: capture rate used for timestamps (ScanNet exports are 30 fps, often subsampled).
        stride: read every ``stride``-th frame; max_frames: stop after this many.
        depth_scale: depth PNG units per metre (1000 = millimetres).
        labels: optional id -> category map overriding ``instance_labels.json``.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 30.0, stride: int = 1, max_frames: int | None = None,
                 depth_scale: float = 1000.0, labels: dict[int, str] | None = None) -> None:
        self.path = Path(path)
        self.scene_name = self.path.name
        self.fps, self.depth_scale = float(fps), float(depth_scale)
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        colors = _stems(self.path / "color", (".jpg", ".jpeg", ".png"))
        depths = _stems(self.path / "depth", (".png",))
        poses = _stems(self.path / "pose", (".txt",))
        inst_dir = self.path / "instance"
        if not inst_dir.is_dir():
            inst_dir = self.path / "instance-filt"
        self.instances = _stems(inst_dir, (".png",)) if inst_dir.is_dir() else {}
        common = sorted(set(colors) & set(depths) & set(poses))
        if not common:
            raise FormatError(f"{self.path}: no frame number has all of color/<n>.jpg, depth/<n>.png and pose/<n>.txt")
        self.colors, self.depths, self.poses = colors, depths, poses
        self.color_K = self._intrinsics("intrinsic_color.txt", colors[common[0]])
        self.depth_K = self._intrinsics("intrinsic_depth.txt", depths[common[0]])
        self.labels = dict(labels) if labels is not None else self._labels()
        self.numbers = common[::stride]
        if max_frames is not None:
            self.numbers = self.numbers[: int(max_frames)]

    def _intrinsics(self, name: str, sample: Path) -> Intrinsics:
        M = read_matrix(self.path / "intrinsic" / name)
        if M.shape not in ((4, 4), (3, 3), (3, 4)):
            raise FormatError(f"{self.path / 'intrinsic' / name}: expected a 3x3 or 4x4 matrix, got {M.shape}")
        from PIL import Image

        try:
            with Image.open(sample) as im:
                w, h = im.size
        except OSError as exc:  # includes PIL.UnidentifiedImageError (corrupt or not an image)
            raise FormatError(f"cannot read image {sample} (needed for the size of {name}): {exc}") from None
        return Intrinsics(float(M[0, 0]), float(M[1, 1]), float(M[0, 2]), float(M[1, 2]), int(w), int(h))

    def _labels(self) -> dict[int, str]:
        p = self.path / "instance_labels.json"
        if not p.is_file():
            return {}
        try:
            raw = json.loads(p.read_text())
            return {int(k): str(v).lower() for k, v in raw.items()}
        except (json.JSONDecodeError, ValueError, AttributeError) as exc:
            raise FormatError(f"{p}: expected {{\"<id>\": \"category\", ...}} ({exc})") from None

    def __len__(self) -> int:
        return len(self.numbers)

    def read(self, k: int) -> Frame | None:
        """The ``k``-th frame, or None when its pose is invalid (lost tracking)."""
        n = self.numbers[k]
        T = read_matrix(self.poses[n])
        if T.shape != (4, 4):
            raise FormatError(f"{self.poses[n]}: expected a 4x4 matrix, got {T.shape}")
        if not np.all(np.isfinite(T)):
            return None
        pose = check_pose(T, str(self.poses[n]))
        rgb = read_rgb(self.colors[n])
        depth = read_depth_mm(self.depths[n], self.depth_scale)
        color_K = self.color_K if (rgb.shape[1], rgb.shape[0]) == (self.color_K.width, self.color_K.height) \
            else self.color_K.scaled(rgb.shape[1], rgb.shape[0])
        depth_K = self.depth_K if (depth.shape[1], depth.shape[0]) == (self.depth_K.width, self.depth_K.height) \
            else self.depth_K.scaled(depth.shape[1], depth.shape[0])
        ids = None
        if n in self.instances:
            ids = read_png16(self.instances[n]).astype(np.int32)
        return Frame(index=int(n), timestamp_s=(n - self.numbers[0]) / self.fps, rgb=rgb, intrinsics=color_K,
                     world_from_camera=pose,
                     depth_m=depth, depth_intrinsics=depth_K, instance_ids=ids,
                     instance_labels=self.labels if ids is not None else {})

    def __iter__(self) -> Iterator[Frame]:
        for k in range(len(self.numbers)):
            f = self.read(k)
            if f is not None:
                yield f
