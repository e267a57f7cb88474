"""Source for a 7-Scenes style sequence: ``frame-XXXXXX.color.png`` (or ``.jpg``), ``.depth.png``, ``.pose.txt``.

```
seq-01/
  frame-000000.color.png     colour (640x480)
  frame-000000.depth.png     uint16 depth in millimetres; 0 and 65535 = none
  frame-000000.pose.txt      4x4 world_from_camera (camera to world)
```
A scene folder holding one ``seq-*`` folder is read through it; with several, the error names them (pass
one). Intrinsics: the 7-Scenes default (585, 585, 320, 240 at 640x480) unless ``--intrinsics`` or
``--fov`` say otherwise. Timestamps are ``k / fps`` (30 frames/s unless ``--fps``). The world is the first
camera's frame (not z-up): the up direction is estimated.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError
from spatialmem.sources.rgbd import FrameSpec, RGBDSequence
from spatialmem.types import Intrinsics

SEVEN_SCENES_K = Intrinsics(585.0, 585.0, 320.0, 240.0, 640, 480)
_COLOR = re.compile(r"^frame-(\d+)\.color\.(png|jpg|jpeg)$", re.IGNORECASE)


def has_frames(p: Path) -> bool:
    return p.is_dir() and any(_COLOR.match(f.name) for f in p.iterdir())


def sequence_folder(p: Path) -> Path:
    """``p`` itself when it holds frames, else its single ``seq-*`` folder (InputError when several)."""
    if has_frames(p):
        return p
    seqs = sorted(d for d in p.iterdir() if d.is_dir() and has_frames(d)) if p.is_dir() else []
    if len(seqs) > 1:
        raise InputError(f"{p} holds several 7-Scenes sequences ({', '.join(d.name for d in seqs)}); pass one of them")
    if not seqs:
        raise InputError(f"{p}: no frame-XXXXXX.color.png files")
    return seqs[0]


class SevenScenesSource(RGBDSequence):
    """Frames of a 7-Scenes style folder (module docstring); options as :class:`RGBDSequence`."""

    def __init__(self, path: str | os.PathLike, depth_scale: float = 1000.0, fps: float = 30.0, stride: int = 1,
                 max_frames: int | None = None, intrinsics: Intrinsics | np.ndarray | None = None,
                 hfov_deg: float | None = None) -> None:
        root = sequence_folder(Path(path))
        frames = sorted((int(m.group(1)), f) for f in root.iterdir() if (m := _COLOR.match(f.name)))
        specs = []
        for n, color in frames:
            stem = color.name.split(".")[0]
            depth, pose = root / f"{stem}.depth.png", root / f"{stem}.pose.txt"
            for need in (depth, pose):
                if not need.is_file():
                    raise FormatError(f"missing {need} (every frame needs .color, .depth.png and .pose.txt)")
            specs.append(FrameSpec(n, n / fps if fps else 0.0, color, depth, pose))
        super().__init__(root, specs, SEVEN_SCENES_K, layout="7scenes", depth_scale=depth_scale,
                         intrinsics=intrinsics, hfov_deg=hfov_deg, fps=fps, stride=stride, max_frames=max_frames,
                         invalid_depth=65535, what_K="the 7-Scenes default intrinsics (640x480)")


__all__ = ["SevenScenesSource", "SEVEN_SCENES_K", "has_frames", "sequence_folder"]
