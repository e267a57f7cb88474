"""Source for an RGB-D folder in the ScanNet export layout (SensReader output plus the label files).

```
SCAN/
  color/<n>.jpg                       colour frames (any resolution, e.g. 1296x968)
  depth/<n>.png                       uint16 depth in millimetres (e.g. 640x480), 0 = none
  pose/<n>.txt                        4x4 world_from_camera (camera-to-world), whitespace separated
  intrinsic/intrinsic_color.txt       4x4 (or 3x3) K of the colour images
  intrinsic/intrinsic_depth.txt       4x4 (or 3x3) K of the depth images
  instance/<n>.png or instance-filt/<n>.png (optional)   per-pixel instance ids (0 = none), any resolution
  label-filt/<n>.png (optional)       per-pixel ScanNet label ids (the label map's ``id`` column)
  instance_labels.json (optional)     {"<id>": "category", ...}
  <scene>.aggregation.json (optional) segGroups: objectId (instance id - 1) -> raw label and mesh segments
  <scene>_vh_clean_2.0.010000.segs.json (optional)  mesh segment of each vertex
  scannetv2-labels.combined.tsv (optional, here or in a parent folder)  the official label map
```
Frames are matched by the integer stem ``<n>`` and ordered by it; poses with non-finite values
(ScanNet marks lost tracking with ``-inf``) are skipped. The timestamp is ``(n - first n) / fps``.

Instance categories, first match wins: ``labels=`` given as a dict; ``instance_labels.json``; the
aggregation's raw label of object ``id - 1``; the most common ``label-filt`` id under the instance in
that frame. Raw names are mapped through the label map's column chosen by ``label_set``: ``"nyu40"``
(``nyu40class``), ``"scannet200"`` (``category``) or ``"raw"`` (unchanged). With a segs file, objects of
the aggregation whose segments are not in the mesh are dropped (they were never reconstructed).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.errors import FormatError, InputError
from spatialmem.sources.files import read_png16
from spatialmem.sources.rgbd import FrameSpec, RGBDSequence, read_matrix
from spatialmem.types import Frame, Intrinsics

LABEL_SETS = ("nyu40", "scannet200", "raw")
_LABEL_COLUMN = {"nyu40": "nyu40class", "scannet200": "category", "raw": "raw_category"}
LABEL_MAP_NAME = "scannetv2-labels.combined.tsv"


def _stems(folder: Path, suffixes: tuple[str, ...]) -> dict[int, Path]:
    if not folder.is_dir():
        raise InputError(f"missing folder {folder}; expected a ScanNet-layout scan with color/, depth/ and pose/")
    out = {}
    for f in folder.iterdir():
        if f.suffix.lower() in suffixes and f.stem.lstrip("-").isdigit():
            out[int(f.stem)] = f
    return out


def _load_json(p: Path) -> Any:
    try:
        return json.loads(p.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{p}: invalid JSON ({exc})") from None


class LabelMap:
    """The official ScanNet label map TSV: label id and raw name -> the name of a label set."""

    def __init__(self, path: Path, label_set: str) -> None:
        self.path, self.column = path, _LABEL_COLUMN[label_set]
        try:
            with path.open(newline="") as fh:
                rows = list(csv.DictReader(fh, delimiter="\t"))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise FormatError(f"{path}: cannot read the label map ({exc})") from None
        need = {"id", "raw_category", self.column}
        if not rows or not need <= set(rows[0]):
            raise FormatError(f"{path}: the label map needs the columns {sorted(need)}; is this "
                              f"{LABEL_MAP_NAME}?")
        self.by_raw = {r["raw_category"].strip().lower(): r[self.column].strip().lower() for r in rows}
        self.by_id: dict[int, str] = {}
        for r in rows:
            try:
                self.by_id[int(r["id"])] = r[self.column].strip().lower()
            except ValueError:
                raise FormatError(f"{path}: non-integer id {r['id']!r}") from None

    def name(self, raw: str) -> str:
        return self.by_raw.get(raw.strip().lower(), raw.strip().lower())


def find_label_map(path: Path) -> Path | None:
    """The label map TSV in the scan folder or up to two folders above it."""
    for d in (path, path.parent, path.parent.parent):
        if (d / LABEL_MAP_NAME).is_file():
            return d / LABEL_MAP_NAME
    return None


class ScanNetSource(RGBDSequence):
    """Frames of a ScanNet-layout RGB-D folder.

    Args:
        path: the scan folder.
        fps: capture rate used for timestamps (ScanNet exports are 30 fps, often subsampled).
        stride: read every ``stride``-th frame; max_frames: stop after this many.
        depth_scale: depth PNG units per metre (1000 = millimetres).
        labels: an id -> category map overriding the files, or a label set name (see the module docstring).
        intrinsics, hfov_deg: override the colour (and depth) intrinsics.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 30.0, stride: int = 1, max_frames: int | None = None,
                 depth_scale: float = 1000.0, labels: dict[int, str] | str | None = None,
                 intrinsics: Intrinsics | np.ndarray | None = None, hfov_deg: float | None = None) -> None:
        root = Path(path)
        colors = _stems(root / "color", (".jpg", ".jpeg", ".png"))
        depths = _stems(root / "depth", (".png",))
        poses = _stems(root / "pose", (".txt",))
        inst_dir = root / "instance"
        if not inst_dir.is_dir():
            inst_dir = root / "instance-filt"
        instances = _stems(inst_dir, (".png",)) if inst_dir.is_dir() else {}
        self.label_pngs = _stems(root / "label-filt", (".png",)) if (root / "label-filt").is_dir() else {}
        common = sorted(set(colors) & set(depths) & set(poses))
        if not common:
            raise FormatError(f"{root}: no frame number has all of color/<n>.jpg, depth/<n>.png and pose/<n>.txt")
        partial = sorted((set(colors) | set(depths) | set(poses)) - set(common))
        notes = [f"{root}: {len(partial)} frame number(s) lack a colour, depth or pose file and are skipped "
                 f"(first: {partial[0]})"] if partial else []
        if not fps > 0:
            raise InputError(f"--fps must be positive, got {fps}")
        label_set = labels if isinstance(labels, str) else "nyu40"
        if label_set not in LABEL_SETS:
            raise InputError(f"--labels must be one of {', '.join(LABEL_SETS)}, got {label_set!r}")
        tsv = find_label_map(root)
        self.label_map = LabelMap(tsv, label_set) if tsv is not None else None
        specs = [FrameSpec(n, (n - common[0]) / fps, colors[n], depths[n], poses[n], str(poses[n]),
                           instances.get(n)) for n in common]
        fixed = dict(labels) if isinstance(labels, dict) else self._labels(root)
        super().__init__(root, specs, self._K(root, "intrinsic_color.txt"), layout="scannet",
                         depth_K=self._K(root, "intrinsic_depth.txt"), depth_scale=depth_scale,
                         intrinsics=intrinsics, hfov_deg=hfov_deg, stride=stride, max_frames=max_frames,
                         labels=fixed, what_K=str(root / "intrinsic" / "intrinsic_color.txt"))
        self.numbers = [s.number for s in self.specs]
        self.notes = notes

    @staticmethod
    def _K(root: Path, name: str) -> np.ndarray:
        M = read_matrix(root / "intrinsic" / name)
        if M.shape not in ((4, 4), (3, 3), (3, 4)):
            raise FormatError(f"{root / 'intrinsic' / name}: expected a 3x3 or 4x4 matrix, got {M.shape}")
        return M

    def _labels(self, root: Path) -> dict[int, str]:
        p = root / "instance_labels.json"
        if p.is_file():
            raw = _load_json(p)
            try:
                return {int(k): str(v).lower() for k, v in raw.items()}
            except (ValueError, AttributeError) as exc:
                raise FormatError(f"{p}: expected {{\"<id>\": \"category\", ...}} ({exc})") from None
        aggs = sorted(root.glob("*.aggregation.json")) or sorted(root.glob("*_vh_clean.aggregation.json"))
        if not aggs:
            return {}
        agg = _load_json(aggs[0])
        groups = agg.get("segGroups") if isinstance(agg, dict) else None
        if not isinstance(groups, list):
            raise FormatError(f"{aggs[0]}: expected {{'segGroups': [{{'objectId', 'label', 'segments'}}, ...]}}")
        in_mesh = self._mesh_segments(root)
        out = {}
        for i, g in enumerate(groups):
            try:
                oid, label, segs = int(g["objectId"]), str(g["label"]), g.get("segments", [])
            except (KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"{aggs[0]}: segGroups[{i}] needs an integer objectId and a label ({exc})") from None
            if in_mesh is not None and not in_mesh.intersection(segs):
                continue
            out[oid + 1] = self.label_map.name(label) if self.label_map is not None else label.strip().lower()
        return out

    @staticmethod
    def _mesh_segments(root: Path) -> set[int] | None:
        segs = sorted(root.glob("*_vh_clean_2.0.010000.segs.json"))
        if not segs:
            return None
        d = _load_json(segs[0])
        if not isinstance(d, dict) or not isinstance(d.get("segIndices"), list):
            raise FormatError(f"{segs[0]}: expected {{\"segIndices\": [...]}}")
        return set(d["segIndices"])

    def read(self, k: int) -> Frame | None:
        f = super().read(k)
        if f is None or f.instance_ids is None or self.labels or self.label_map is None:
            return f
        n = self.specs[k].number
        if n not in self.label_pngs:
            return f
        sem = read_png16(self.label_pngs[n])
        ids = f.instance_ids
        if sem.shape != ids.shape:
            raise FormatError(f"{self.label_pngs[n]}: {sem.shape[1]}x{sem.shape[0]} pixels, but the instance image "
                              f"is {ids.shape[1]}x{ids.shape[0]}")
        labels = {}
        for iid in np.unique(ids[ids > 0]).tolist():
            top = Counter(sem[ids == iid].tolist()).most_common(1)[0][0]
            labels[iid] = self.label_map.by_id.get(int(top), f"label {top}")
        return dataclasses.replace(f, instance_labels=labels)

    def __iter__(self) -> Iterator[Frame]:
        for k in range(len(self.specs)):
            f = self.read(k)
            if f is not None:
                yield f


__all__ = ["ScanNetSource", "LabelMap", "LABEL_SETS", "find_label_map", "read_matrix"]
