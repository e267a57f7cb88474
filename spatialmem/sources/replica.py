"""Source for a Replica sequence in the NICE-SLAM layout: results/frameXXXXXX.jpg, depthXXXXXX.png, traj.txt.

```
room0/
  results/frame000000.jpg    colour (1200x680)
  results/depth000000.png    uint16 depth in 1/6553.5 m
  traj.txt                   one world_from_camera per line: 16 numbers, row-major (OpenCV camera)
  cam_params.json (optional) {"camera": {"w", "h", "fx", "fy", "cx", "cy", "scale"}}
```
Intrinsics: ``cam_params.json`` when present, else the NICE-SLAM Replica camera (600, 600, 599.5, 339.5
at 1200x680); ``--intrinsics`` / ``--fov`` override. Timestamps ``k / fps`` (30 unless ``--fps``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError
from spatialmem.sources.rgbd import FrameSpec, RGBDSequence, floats, read_table
from spatialmem.types import Intrinsics

REPLICA_K = Intrinsics(600.0, 600.0, 599.5, 339.5, 1200, 680)
REPLICA_DEPTH_SCALE = 6553.5
_FRAME = re.compile(r"^frame(\d+)\.(jpg|jpeg|png)$", re.IGNORECASE)


def is_replica(p: Path) -> bool:
    r = p / "results"
    return (p / "traj.txt").is_file() and r.is_dir() and any(_FRAME.match(f.name) for f in r.iterdir())


class ReplicaSource(RGBDSequence):
    """Frames of a NICE-SLAM Replica folder (module docstring); options as :class:`RGBDSequence`."""

    def __init__(self, path: str | os.PathLike, depth_scale: float | None = None, fps: float = 30.0,
                 stride: int = 1, max_frames: int | None = None, intrinsics: Intrinsics | np.ndarray | None = None,
                 hfov_deg: float | None = None) -> None:
        root = Path(path)
        K, scale, what = REPLICA_K, REPLICA_DEPTH_SCALE, "the NICE-SLAM Replica intrinsics (1200x680)"
        cam = root / "cam_params.json"
        if cam.is_file():
            try:
                c = json.loads(cam.read_text())["camera"]
                K = Intrinsics(float(c["fx"]), float(c["fy"]), float(c["cx"]), float(c["cy"]), int(c["w"]),
                               int(c["h"]))
                scale, what = float(c.get("scale", scale)), str(cam)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"{cam}: expected {{'camera': {{'w', 'h', 'fx', 'fy', 'cx', 'cy', 'scale'}}}} "
                                  f"({exc})") from None
        rows = read_table(root / "traj.txt", 16, "a NICE-SLAM Replica folder needs traj.txt")
        frames = sorted((int(m.group(1)), f) for f in (root / "results").iterdir() if (m := _FRAME.match(f.name)))
        if len(rows) < len(frames):
            raise FormatError(f"{root / 'traj.txt'}: {len(rows)} poses for {len(frames)} frames in results/; "
                              "every frame needs a line")
        specs = []
        for n, color in frames:
            depth = root / "results" / f"depth{color.stem[5:]}.png"
            if not depth.is_file():
                raise FormatError(f"missing {depth} (the depth of {color.name})")
            T = np.array(floats(rows[n][:16], root / "traj.txt", n + 1)).reshape(4, 4)
            specs.append(FrameSpec(n, n / fps if fps else 0.0, color, depth, T, f"{root / 'traj.txt'} line {n + 1}"))
        super().__init__(root, specs, K, layout="replica", depth_scale=scale if depth_scale is None else depth_scale,
                         intrinsics=intrinsics, hfov_deg=hfov_deg, fps=fps, stride=stride, max_frames=max_frames,
                         what_K=what)


__all__ = ["ReplicaSource", "REPLICA_K", "REPLICA_DEPTH_SCALE", "is_replica"]
