"""Memory evaluation metrics on hand-built ground truth and memories."""

from __future__ import annotations

import json

import numpy as np
import pytest

from spatialmem.errors import FormatError, InputError
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.evaluate import evaluate_memory
from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory

GT_OBJECTS = [
    ("sofa", [1.0, 1.0, 0.4], [2.0, 0.9, 0.8], 0.0, 0.0),
    ("chair", [3.0, 1.0, 0.45], [0.5, 0.5, 0.9], 0.3, 1.5),
    ("chair", [3.0, 2.5, 0.45], [0.5, 0.5, 0.9], -0.2, 2.0),
    ("tv", [0.0, 4.0, 1.2], [1.2, 0.1, 0.7], np.pi / 2, 4.0),
]


def scene(hidden: bool = True, area: float = 20.0) -> dict:
    objs = []
    for k, (cat, c, s, yaw, fs) in enumerate(GT_OBJECTS):
        d = OrientedBox.from_yaw(c, s, yaw).to_dict()
        objs.append({"id": k + 1, "category": cat, **d, "first_visible_frame": int(fs * 30), "first_visible_s": fs})
    if hidden:  # never visible: excluded from the ground truth
        d = OrientedBox.from_yaw([4, 4, 0.3], [0.4, 0.4, 0.6], 0.0).to_dict()
        objs.append({"id": 5, "category": "trash bin", **d, "first_visible_frame": None, "first_visible_s": None})
    return {"format": "spatialmem-scene", "objects": objs,
            "room": {"floor_polygon": [[0, 0], [5, 0], [5, 4], [0, 4]], "floor_area_m2": area}}


def memory_from(boxes, area: float | None = 20.0) -> SceneMemory:
    insts = tuple(ObjectInstance(id=k + 1, category=cat, box=b) for k, (cat, b) in enumerate(boxes))
    room = None if area is None else Room(0.0, np.zeros((0, 2)), area)
    return SceneMemory("m", insts, room=room)


def gt_boxes():
    return [(cat, OrientedBox.from_yaw(c, s, yaw)) for cat, c, s, yaw, _ in GT_OBJECTS]


def test_identical_boxes_are_perfect():
    r = evaluate_memory(memory_from(gt_boxes()), scene())
    assert (r.precision_25, r.recall_25, r.precision_50, r.recall_50) == (1.0, 1.0, 1.0, 1.0)
    assert r.median_center_error_m == pytest.approx(0.0, abs=1e-9)
    assert r.median_size_error_m == pytest.approx(0.0, abs=1e-9)
    assert r.room_area_error == 0.0
    assert (r.n_gt, r.n_gt_never_visible, r.n_pred, r.n_matched_50) == (4, 1, 4, 4)
    assert r.unmatched_gt_50 == ()
    assert r.per_category["chair"] == {"n_gt": 2, "n_pred": 2, "n_matched_50": 2}


def test_swapped_horizontal_axes_are_not_a_size_error():
    boxes = gt_boxes()
    cat, b = boxes[0]
    boxes[0] = (cat, OrientedBox.from_yaw(b.center, [b.size[1], b.size[0], b.size[2]], b.yaw + np.pi / 2))
    r = evaluate_memory(memory_from(boxes), scene())
    assert r.recall_50 == 1.0 and r.median_size_error_m == pytest.approx(0.0, abs=1e-9)


def test_shifted_box_lowers_iou_and_reports_centre_error():
    boxes = gt_boxes()
    cat, b = boxes[0]  # sofa 2.0 x 0.9 x 0.8, shift 0.6 m along its long side: IoU = 1.4 / 2.6 = 0.538
    boxes[0] = (cat, OrientedBox(b.center + [0.6, 0, 0], b.size, b.axes))
    r = evaluate_memory(memory_from(boxes), scene())
    assert r.recall_50 == 1.0
    errs = sorted([0.6, 0, 0, 0])
    assert r.median_center_error_m == pytest.approx(np.median(errs))
    boxes[0] = (cat, OrientedBox(b.center + [1.0, 0, 0], b.size, b.axes))  # IoU = 1.0 / 3.0 = 0.333
    r = evaluate_memory(memory_from(boxes), scene())
    assert (r.n_matched_25, r.n_matched_50) == (4, 3)
    assert r.recall_50 == 0.75 and r.precision_50 == 0.75 and r.recall_25 == 1.0
    assert r.unmatched_gt_50 == ("sofa#1",)
    assert r.median_center_error_m == pytest.approx(0.0, abs=1e-9)  # median of (1.0, 0, 0, 0)


def test_size_error_is_norm_of_dimension_difference():
    boxes = gt_boxes()
    cat, b = boxes[3]
    boxes[3] = (cat, OrientedBox(b.center, b.size + [0.3, 0.0, 0.4], b.axes))
    boxes = boxes[3:]  # only the tv
    r = evaluate_memory(memory_from(boxes), scene())
    assert r.median_size_error_m == pytest.approx(0.5)


def test_wrong_category_is_not_matched():
    boxes = gt_boxes()
    boxes[3] = ("monitor", boxes[3][1])
    r = evaluate_memory(memory_from(boxes), scene())
    assert r.n_matched_25 == 3 and r.precision_25 == 0.75 and r.recall_25 == 0.75
    assert r.per_category["monitor"] == {"n_gt": 0, "n_pred": 1, "n_matched_50": 0}


def test_duplicates_reduce_precision_only():
    boxes = gt_boxes() + [gt_boxes()[1], gt_boxes()[1], gt_boxes()[0]]
    r = evaluate_memory(memory_from(boxes), scene())
    assert r.recall_50 == 1.0 and r.precision_50 == pytest.approx(4 / 7)


def test_matching_is_one_to_one_and_maximises_matches():
    # one predicted chair overlapping both gt chairs must not be counted twice
    r = evaluate_memory(memory_from([("chair", OrientedBox.axis_aligned([2.7, 0.7, 0], [3.3, 2.8, 0.9]))]), scene())
    assert r.n_matched_25 <= 1 and r.recall_25 <= 0.5


def test_room_area_error_is_relative_and_missing_room_is_none():
    r = evaluate_memory(memory_from(gt_boxes(), area=21.0), scene())
    assert r.room_area_error == pytest.approx(0.05)
    assert r.room_area_m2 == 21.0 and r.true_room_area_m2 == 20.0
    assert evaluate_memory(memory_from(gt_boxes(), area=None), scene()).room_area_error is None


def test_empty_memory():
    r = evaluate_memory(memory_from([]), scene())
    assert (r.precision_50, r.recall_50, r.n_pred) == (0.0, 0.0, 0)
    assert r.median_center_error_m is None and r.median_size_error_m is None
    d = r.to_dict()
    assert json.loads(json.dumps(d))["recall_50"] == 0.0


def test_scene_from_folder_and_file(tmp_path):
    (tmp_path / "scene.json").write_text(json.dumps(scene()))
    a = evaluate_memory(memory_from(gt_boxes()), tmp_path)
    b = evaluate_memory(memory_from(gt_boxes()), tmp_path / "scene.json")
    assert a == b and a.recall_50 == 1.0


def test_bad_scene_inputs(tmp_path):
    with pytest.raises(InputError, match="no such scene file"):
        evaluate_memory(memory_from([]), tmp_path)
    (tmp_path / "scene.json").write_text("{oops")
    with pytest.raises(FormatError, match="not valid JSON"):
        evaluate_memory(memory_from([]), tmp_path)
    (tmp_path / "scene.json").write_text('{"rooms": []}')
    with pytest.raises(FormatError, match="no 'objects' list"):
        evaluate_memory(memory_from([]), tmp_path)


def test_objects_without_visibility_field_count_as_visible():
    sc = scene(hidden=False)
    for o in sc["objects"]:
        del o["first_visible_s"]
    r = evaluate_memory(memory_from(gt_boxes()), sc)
    assert r.n_gt == 4 and r.recall_50 == 1.0 and r.n_gt_never_visible == 0


def test_malformed_scene_objects_raise_format_error_naming_the_object(tmp_path):
    sc = scene(hidden=False)
    del sc["objects"][2]["category"]
    with pytest.raises(FormatError, match=r"objects\[2\].*category"):
        evaluate_memory(memory_from(gt_boxes()), sc)
    sc = scene(hidden=False)
    sc["objects"][1] = "chair"
    (tmp_path / "scene.json").write_text(json.dumps(sc))
    with pytest.raises(FormatError, match=r"scene\.json: objects\[1\] must be a JSON object"):
        evaluate_memory(memory_from(gt_boxes()), tmp_path)


def test_an_instance_of_a_never_visible_object_is_ignored_not_a_false_positive():
    hidden = OrientedBox.from_yaw([4, 4, 0.3], [0.4, 0.4, 0.6], 0.0)  # the never-visible trash bin
    r = evaluate_memory(memory_from(gt_boxes() + [("trash bin", hidden)]), scene())
    assert (r.precision_50, r.recall_50, r.n_pred, r.n_pred_ignored_50, r.n_gt) == (1.0, 1.0, 5, 1, 4)
    # a box elsewhere, or of another category, is still a false positive
    for extra in (("trash bin", OrientedBox.from_yaw([1, 3, 0.3], [0.4, 0.4, 0.6], 0.0)), ("lamp", hidden)):
        r = evaluate_memory(memory_from(gt_boxes() + [extra]), scene())
        assert (r.precision_50, r.n_pred_ignored_50) == (0.8, 0)
