"""Source for a synthetic scene folder (written by ``spatialmem synth``; layout in docs/formats.md).

Frames carry rgb, metric depth (from the millimetre PNGs), the ground-truth pose, the per-pixel
instance ids and the id -> category map from ``scene.json`` (used by the ``given`` instance backend
for masks and labels only).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError
from spatialmem.sources.files import read_depth_mm, read_png16, read_rgb, read_text
from spatialmem.types import Frame, Intrinsics, check_intrinsics, check_pose


class SyntheticSceneSource:
    """Frames of a synthetic scene folder (z-up world, depth in millimetres).

    Args:
        path: the scene folder (with scene.json, intrinsics.json, frames.jsonl).
        stride: read every ``stride``-th frame.
        max_frames: stop after this many frames (None = all).
        load_instances: read the instance PNGs (turn off when a detector provides masks).
        rgb_only: leave out the ground-truth pose and depth (frames carry rgb, intrinsics and masks only),
            as an RGB-only geometry backend such as ``sfm`` sees them.
    """

    def __init__(self, path: str | os.PathLike, stride: int = 1, max_frames: int | None = None,
                 load_instances: bool = True, rgb_only: bool = False) -> None:
        self.path = Path(path)
        self.layout, self.up_axis, self.depth_scale, self.has_poses = "synthetic", "z", 1000.0, True
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        self.stride, self.max_frames, self.load_instances = int(stride), max_frames, load_instances
        self.rgb_only = bool(rgb_only)
        self.has_poses = not self.rgb_only
        self.scene = self._load_json(self.path / "scene.json")
        if not isinstance(self.scene, dict) or self.scene.get("format") != "spatialmem-scene":
            raise FormatError(f"{self.path / 'scene.json'}: field 'format' must be 'spatialmem-scene'")
        self.scene_name = str(self.scene.get("scene_name") or self.path.name)
        self.intrinsics = self._load_intrinsics(self.path / "intrinsics.json")
        try:
            self.labels = {int(o["id"]): str(o["category"]).lower() for o in self.scene.get("objects", [])}
        except (KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"{self.path / 'scene.json'}: every object needs an integer 'id' and a 'category' "
                              f"({exc})") from None
        self.rows = self._load_rows()

    @staticmethod
    def _load_json(p: Path) -> dict:
        try:
            return json.loads(p.read_text())
        except FileNotFoundError:
            raise InputError(f"missing {p}; is this a synthetic scene folder written by 'spatialmem synth'?") from None
        except json.JSONDecodeError as exc:
            raise FormatError(f"{p}: invalid JSON ({exc})") from None

    @classmethod
    def _load_intrinsics(cls, p: Path) -> Intrinsics:
        d = cls._load_json(p)
        if not isinstance(d, dict):
            raise FormatError(f"{p}: expected a JSON object with fx, fy, cx, cy, width, height")
        for key in ("fx", "fy", "cx", "cy", "width", "height"):
            if key not in d:
                raise FormatError(f"{p}: missing field '{key}' (needs fx, fy, cx, cy, width, height)")
        try:
            K = Intrinsics.from_dict(d)
        except (TypeError, ValueError) as exc:
            raise FormatError(f"{p}: fields fx, fy, cx, cy, width, height must be numbers ({exc})") from None
        return check_intrinsics(K, str(p))

    def _load_rows(self) -> list[dict]:
        p = self.path / "frames.jsonl"
        rows = []
        text = read_text(p, f"missing {p}; is this a synthetic scene folder written by 'spatialmem synth'?")
        for line_no, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                row["index"], row["timestamp_s"] = int(row["index"]), float(row["timestamp_s"])
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"{p} line {line_no}: needs JSON with 'index' and 'timestamp_s' "
                                  f"({exc})") from None
            for key in ("rgb", "depth", "world_from_camera"):
                if key not in row:
                    raise FormatError(f"{p} line {line_no}: missing field '{key}'")
            rows.append(row)
        rows = rows[:: self.stride]
        if self.max_frames is not None:
            rows = rows[: int(self.max_frames)]
        return rows

    def __len__(self) -> int:
        return len(self.rows)

    def read(self, k: int) -> Frame:
        """The ``k``-th frame of this source (after stride / max_frames)."""
        row = self.rows[k]
        rgb = read_rgb(self.path / row["rgb"])
        ids = None
        if self.load_instances and row.get("instance"):
            ids = read_png16(self.path / row["instance"]).astype(np.int32)
        if self.rgb_only:
            return Frame(index=row["index"], timestamp_s=row["timestamp_s"], rgb=rgb, intrinsics=self.intrinsics,
                         instance_ids=ids, instance_labels=self.labels if ids is not None else {})
        depth = read_depth_mm(self.path / row["depth"])
        pose = check_pose(row["world_from_camera"], f"{self.path / 'frames.jsonl'} frame {row['index']}")
        return Frame(index=row["index"], timestamp_s=row["timestamp_s"], rgb=rgb, intrinsics=self.intrinsics,
                     world_from_camera=pose, depth_m=depth, instance_ids=ids,
                     instance_labels=self.labels if ids is not None else {})

    def __iter__(self) -> Iterator[Frame]:
        for k in range(len(self.rows)):
            yield self.read(k)
