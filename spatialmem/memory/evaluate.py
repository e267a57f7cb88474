"""Evaluate a memory's instances and room against a synthetic scene's ground truth (scene.json).

Ground truth = the scene's objects whose ``first_visible_s`` is not null (objects without the field
count as visible). Objects that are never visible in the video (never ``first_visible_min_pixels`` mask
pixels in one frame, docs/formats.md) need not be in a memory built from it, so they are excluded
(their number is reported as ``n_gt_never_visible``). They are *don't care* objects, not absent ones:
a memory may still have fused one from slivers of it (pixels below the visibility threshold), and such
an instance is a true object, not a false positive. So at each threshold, a prediction left unmatched
whose IoU with a never-visible object of its category reaches the threshold is ignored: left out of the
precision's denominator (counted in ``n_pred_ignored_25`` / ``n_pred_ignored_50``).

Matching: for each IoU threshold (0.25, 0.5) a one-to-one assignment between predicted and
ground-truth boxes of the *same category* maximising first the number of pairs with 3D IoU >=
threshold, then their total IoU (Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``).
Precision = matches / (predicted instances - ignored ones); recall = matches / ground-truth objects (with no
predictions precision is 1.0 only when there is no ground truth either, else 0.0).

IoU is exact for boxes of any rotation (:func:`spatialmem.geometry.boxes.iou_3d`). Errors over the
pairs matched at IoU 0.25: centre error = Euclidean distance of box centres (m);
size error = Euclidean norm of the difference of (longer horizontal side, shorter horizontal side,
height) (m; independent of how the horizontal axes are labelled). Room-area error = |memory area -
true area| / true area.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from spatialmem.errors import FormatError, InputError
from spatialmem.geometry.boxes import OrientedBox, iou_3d
from spatialmem.memory.annotations import upright_axes
from spatialmem.memory.scene import SceneMemory

IOU_THRESHOLDS = (0.25, 0.5)


@dataclass(frozen=True)
class MemoryEvalReport:
    """Instance and room metrics of one memory against one scene (see module docstring).

    Attributes:
        precision_25 / recall_25 / precision_50 / recall_50: at 3D IoU >= 0.25 / 0.5, category must match.
        median_center_error_m / median_size_error_m: over pairs matched at IoU 0.25 (None if none).
        room_area_error: relative |pred - true| / true (None if either side has no room area).
        room_area_m2 / true_room_area_m2: the two areas (m²).
        n_gt: visible ground-truth objects; n_gt_never_visible: excluded objects; n_pred: memory instances.
        n_pred_ignored_25 / n_pred_ignored_50: unmatched instances of a never-visible object (IoU >= the
            threshold, same category), left out of the precision at that threshold.
        n_matched_25 / n_matched_50: matched pairs at each threshold.
        per_category: category -> {"n_gt", "n_pred", "n_matched_50"}.
        unmatched_gt_50: ``"category#id"`` of ground-truth objects not matched at IoU 0.5.
    """

    precision_25: float
    recall_25: float
    precision_50: float
    recall_50: float
    median_center_error_m: float | None
    median_size_error_m: float | None
    room_area_error: float | None
    room_area_m2: float | None
    true_room_area_m2: float | None
    n_gt: int
    n_gt_never_visible: int
    n_pred: int
    n_matched_25: int
    n_matched_50: int
    per_category: dict[str, dict[str, int]] = field(default_factory=dict)
    unmatched_gt_50: tuple[str, ...] = ()
    n_pred_ignored_25: int = 0
    n_pred_ignored_50: int = 0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["unmatched_gt_50"] = list(self.unmatched_gt_50)
        return d


def load_scene_dict(scene: str | os.PathLike | dict) -> dict:
    """``scene`` as a parsed scene.json dict: a dict, a scene folder, or a path to scene.json."""
    if isinstance(scene, dict):
        return scene
    p = Path(scene)
    if p.is_dir():
        p = p / "scene.json"
    if not p.is_file():
        raise InputError(f"{p}: no such scene file (expected a scene folder written by `spatialmem synth`)")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(f"{p}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise FormatError(f"{p}: not a spatialmem scene (no 'objects' list)")
    return data


def _gt_box(obj: dict, i: int) -> OrientedBox:
    try:
        box = OrientedBox(obj["center"], obj["size"], obj.get("axes", np.eye(3)))
    except (KeyError, ValueError, TypeError) as exc:
        raise FormatError(f"scene.json objects[{i}]: bad box ({exc})") from None
    return upright_axes(box)[0]


def _dims(box: OrientedBox) -> np.ndarray:
    horiz = sorted(box.size[:2].tolist(), reverse=True)
    return np.array([horiz[0], horiz[1], box.size[2]])


def _match(iou: np.ndarray, same_cat: np.ndarray, thr: float) -> list[tuple[int, int]]:
    """One-to-one (pred, gt) pairs with IoU >= thr and the same category, maximum count then IoU."""
    if iou.size == 0:
        return []
    valid = same_cat & (iou >= thr)
    if not valid.any():
        return []
    weight = np.where(valid, 1000.0 + iou, 0.0)
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [(int(r), int(c)) for r, c in zip(rows, cols) if valid[r, c]]


def _ratio(num: int, den: int, empty: float) -> float:
    return float(num) / den if den else empty


def evaluate_memory(memory: SceneMemory, scene: str | os.PathLike | dict) -> MemoryEvalReport:
    """Score ``memory`` against the ground truth of ``scene`` (folder, scene.json path or parsed dict)."""
    sd = load_scene_dict(scene)
    where = "scene" if isinstance(scene, dict) else str(Path(scene) / "scene.json" if Path(scene).is_dir() else scene)
    objects = sd.get("objects")
    if not isinstance(objects, list):
        raise FormatError(f"{where}: not a spatialmem scene (no 'objects' list)")
    for i, o in enumerate(objects):
        if not isinstance(o, dict):
            raise FormatError(f"{where}: objects[{i}] must be a JSON object, got {type(o).__name__}")
        if not isinstance(o.get("category"), str):
            raise FormatError(f"{where}: objects[{i}] has no 'category' string")
    gt = [(i, o) for i, o in enumerate(objects) if o.get("first_visible_s", 0.0) is not None]
    gt_boxes = [_gt_box(o, i) for i, o in gt]
    unseen = [(_gt_box(o, i), str(o["category"]).strip().lower()) for i, o in enumerate(objects)
              if o.get("first_visible_s", 0.0) is None]
    gt_cats = [str(o["category"]).strip().lower() for _, o in gt]
    preds = list(memory.instances)
    pred_boxes = [upright_axes(p.box)[0] for p in preds]
    pred_cats = [p.category.strip().lower() for p in preds]

    iou = np.zeros((len(preds), len(gt)))
    same = np.zeros((len(preds), len(gt)), dtype=bool)
    for a, (pb, pc) in enumerate(zip(pred_boxes, pred_cats)):
        for b, (gb, gc) in enumerate(zip(gt_boxes, gt_cats)):
            if pc == gc:
                same[a, b] = True
                iou[a, b] = iou_3d(pb, gb)

    matches = {thr: _match(iou, same, thr) for thr in IOU_THRESHOLDS}
    unseen_iou = np.array([[iou_3d(pb, ub) if pc == uc else 0.0 for ub, uc in unseen]
                           for pb, pc in zip(pred_boxes, pred_cats)]).reshape(len(preds), len(unseen))
    matched = {thr: {p for p, _ in matches[thr]} for thr in IOU_THRESHOLDS}
    ignored = {thr: sum(1 for a in range(len(preds)) if a not in matched[thr]
                        and unseen and unseen_iou[a].max() >= thr) for thr in IOU_THRESHOLDS}
    m25, m50 = matches[0.25], matches[0.5]
    centre_err = [float(np.linalg.norm(pred_boxes[a].center - gt_boxes[b].center)) for a, b in m25]
    size_err = [float(np.linalg.norm(_dims(pred_boxes[a]) - _dims(gt_boxes[b]))) for a, b in m25]

    room = sd.get("room") or {}
    if not isinstance(room, dict):
        raise FormatError(f"{where}: 'room' must be a JSON object")
    true_area = room.get("floor_area_m2")
    pred_area = None if memory.room is None else float(memory.room.area_m2)
    area_err = None
    if true_area and pred_area is not None:
        area_err = abs(pred_area - float(true_area)) / float(true_area)

    per_cat: dict[str, dict[str, int]] = {}
    for c in sorted(set(gt_cats) | set(pred_cats)):
        per_cat[c] = {"n_gt": gt_cats.count(c), "n_pred": pred_cats.count(c), "n_matched_50": 0}
    for _, b in m50:
        per_cat[gt_cats[b]]["n_matched_50"] += 1
    matched_gt = {b for _, b in m50}
    unmatched = tuple(f"{gt_cats[b]}#{gt[b][1].get('id', gt[b][0] + 1)}" for b in range(len(gt)) if b not in matched_gt)

    n_pred, n_gt = len(preds), len(gt)
    empty_p = 1.0 if n_gt == 0 else 0.0
    return MemoryEvalReport(
        precision_25=_ratio(len(m25), n_pred - ignored[0.25], empty_p),
        recall_25=_ratio(len(m25), n_gt, 1.0),
        precision_50=_ratio(len(m50), n_pred - ignored[0.5], empty_p),
        recall_50=_ratio(len(m50), n_gt, 1.0),
        median_center_error_m=float(np.median(centre_err)) if centre_err else None,
        median_size_error_m=float(np.median(size_err)) if size_err else None,
        room_area_error=area_err,
        room_area_m2=pred_area,
        true_room_area_m2=None if true_area is None else float(true_area),
        n_gt=n_gt,
        n_gt_never_visible=len(objects) - n_gt,
        n_pred=n_pred,
        n_matched_25=len(m25),
        n_matched_50=len(m50),
        per_category=per_cat,
        unmatched_gt_50=unmatched,
        n_pred_ignored_25=ignored[0.25],
        n_pred_ignored_50=ignored[0.5],
    )
