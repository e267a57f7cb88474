"""Source for a folder of images (multi-view photos or extracted frames): colour only.

Images are ordered by name (natural order: ``img2`` before ``img10``); timestamps are ``k / fps``.
Intrinsics come from ``intrinsics=`` or a horizontal field of view ``hfov_deg``; images of a
different size than the first get the intrinsics rescaled.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spatialmem.errors import InputError
from spatialmem.sources.files import DEFAULT_HFOV_DEG, check_fov, image_size, read_rgb, resolve_intrinsics
from spatialmem.types import Frame, Intrinsics

_SUFFIXES = (".jpg", ".jpeg", ".png")


def _natural_key(p: Path) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", p.name)]


class ImageFolderSource:
    """Frames of an image folder.

    Args:
        path: the folder; images are its ``.jpg``/``.jpeg``/``.png`` files.
        fps: rate used for timestamps.
        hfov_deg: horizontal field of view when ``intrinsics`` is not given (None: a 60 degree guess, and
            ``intrinsics_known`` is False so that geometry backends self-calibrate).
        intrinsics: Intrinsics (of the first image's size) or a 3x3 K.
        stride, max_frames: subsampling.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 1.0, hfov_deg: float | None = None,
                 intrinsics: Intrinsics | np.ndarray | None = None, stride: int = 1,
                 max_frames: int | None = None) -> None:
        self.path = Path(path)
        self.scene_name = self.path.name
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        files = sorted((f for f in self.path.iterdir() if f.is_file() and f.suffix.lower() in _SUFFIXES),
                       key=_natural_key)
        if not files:
            raise InputError(f"{self.path}: no .jpg/.jpeg/.png images found")
        self.files = files[::stride][: max_frames if max_frames is not None else None]
        if not fps > 0:
            raise InputError(f"--fps must be positive, got {fps}")
        self.fps, self.hfov_deg = float(fps), check_fov(hfov_deg or DEFAULT_HFOV_DEG)
        self.intrinsics_known = intrinsics is not None or hfov_deg is not None
        self._given = intrinsics

    def _intrinsics(self, w: int, h: int) -> Intrinsics:
        K = self._given
        if K is None:
            return Intrinsics.from_fov(w, h, self.hfov_deg)
        if not isinstance(K, Intrinsics):  # a bare K is for the first image's size
            K = self._given = resolve_intrinsics(K, image_size(self.files[0]), "--intrinsics")
        return resolve_intrinsics(K, (w, h), "--intrinsics")

    def __len__(self) -> int:
        return len(self.files)

    def __iter__(self) -> Iterator[Frame]:
        for k, f in enumerate(self.files):
            rgb = read_rgb(f)
            K = self._intrinsics(rgb.shape[1], rgb.shape[0])
            yield Frame(index=k, timestamp_s=k / self.fps, rgb=rgb, intrinsics=K)
