"""Annotation importer: defaults, normalisation, gravity alignment and every malformed-field message."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from spatialmem.errors import FormatError, InputError
from spatialmem.geometry.boxes import OrientedBox, iou_3d
from spatialmem.memory.annotations import import_annotations, parse_annotations, upright_axes

GOOD = {
    "scene_id": "scan_0042",
    "up": "z",
    "objects": [
        {"category": "  Chair ", "center": [1.0, 2.0, 0.45], "size": [0.5, 0.5, 0.9]},
        {"category": "TV", "center": [0.0, 3.5, 1.2], "size": [1.2, 0.1, 0.7],
         "axes": [[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0], [0.0, 0.0, 1.0]], "first_seen_s": 3.5},
        {"category": "trash   Bin", "center": [2, 0, 0.2], "size": [0.3, 0.3, 0.4], "first_seen_s": 0},
    ],
    "room": {"floor_polygon": [[0, 0], [4, 0], [4, 5], [0, 5]]},
}


def write(tmp_path, data, name="ann.json"):
    p = tmp_path / name
    p.write_text(json.dumps(data) if not isinstance(data, str) else data)
    return p


def test_good_file_and_defaults(tmp_path):
    mem = import_annotations(write(tmp_path, GOOD))
    assert mem.scene_id == "scan_0042"
    assert [i.id for i in mem.instances] == [1, 2, 3]
    assert [i.category for i in mem.instances] == ["chair", "tv", "trash bin"]
    chair, tv, trash = mem.instances
    np.testing.assert_array_equal(chair.box.axes, np.eye(3))
    np.testing.assert_array_equal(chair.box.center, [1.0, 2.0, 0.45])
    np.testing.assert_array_equal(tv.box.size, [1.2, 0.1, 0.7])
    assert chair.first_seen_s is None and tv.first_seen_s == 3.5 and trash.first_seen_s == 0.0
    assert all(i.points_world.shape == (0, 3) for i in mem.instances)
    assert mem.cameras == () and mem.keyframes == ()
    assert mem.room is not None and mem.room.area_m2 == pytest.approx(20.0)
    assert mem.room.floor_z == 0.0 and mem.room.floor_polygon.shape == (4, 2)
    assert mem.metadata["source"] == "annotations" and mem.metadata["notes"] == []


def test_missing_optional_top_level_fields(tmp_path):
    mem = import_annotations(write(tmp_path, {"objects": []}, "my_scene.json"))
    assert mem.scene_id == "my_scene" and mem.instances == () and mem.room is None


def test_room_area_only_gives_empty_polygon(tmp_path):
    mem = import_annotations(write(tmp_path, {"objects": [], "room": {"area_m2": 12.5}}))
    assert mem.room.area_m2 == 12.5 and mem.room.floor_polygon.shape == (0, 2)


def test_room_both_keeps_given_area_and_notes_disagreement():
    mem = parse_annotations({"objects": [], "room": {"area_m2": 30.0, "floor_polygon": [[0, 0], [4, 0], [4, 5]]}})
    assert mem.room.area_m2 == 30.0
    assert any("differs" in n for n in mem.metadata["notes"])


def test_clockwise_polygon_is_reversed():
    mem = parse_annotations({"objects": [], "room": {"floor_polygon": [[0, 0], [0, 5], [4, 5], [4, 0]]}})
    p = mem.room.floor_polygon
    signed = 0.5 * np.sum(p[:, 0] * np.roll(p[:, 1], -1) - np.roll(p[:, 0], -1) * p[:, 1])
    assert signed == pytest.approx(20.0) and mem.room.area_m2 == pytest.approx(20.0)


def test_vertical_axis_in_wrong_slot_is_reordered_to_same_box():
    axes = [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]  # second axis is vertical
    obj = {"category": "shelf", "center": [1, 1, 1], "size": [2.0, 1.5, 0.4], "axes": axes}
    mem = parse_annotations({"objects": [obj]})
    box = mem.instances[0].box
    assert box.is_gravity_aligned() and box.axes[2, 2] == 1.0
    np.testing.assert_allclose(box.size, [2.0, 0.4, 1.5])
    original = OrientedBox([1, 1, 1], [2.0, 1.5, 0.4], axes)
    np.testing.assert_allclose(np.sort(box.corners(), axis=0), np.sort(original.corners(), axis=0), atol=1e-12)
    assert "reordered" in mem.metadata["notes"][0] and "objects[0]" in mem.metadata["notes"][0]


def test_tilted_box_keeps_its_full_rotation_with_note():
    t = np.radians(20)
    axes = [[1, 0, 0], [0, np.cos(t), np.sin(t)], [0, -np.sin(t), np.cos(t)]]
    mem = parse_annotations({"objects": [{"category": "a", "center": [0, 0, 1], "size": [1, 2, 3], "axes": axes}]})
    box = mem.instances[0].box
    np.testing.assert_allclose(box.axes, axes, atol=1e-12)
    np.testing.assert_allclose(box.size, [1, 2, 3])
    assert box.volume == pytest.approx(6.0) and box.longest_side == 3.0  # not inflated
    assert "tilted 20.0 deg" in mem.metadata["notes"][0] and "full rotation" in mem.metadata["notes"][0]
    assert iou_3d(box, box) == pytest.approx(1.0)  # usable by the metrics
    enclosing = box.gravity_aligned()  # still available for floor-plane reasoning
    assert enclosing.is_gravity_aligned() and np.all(enclosing.contains(box.corners(), tol=1e-9))


def test_tilted_box_with_its_up_axis_first_is_relabelled_not_changed():
    t = np.radians(5)
    axes = [[0, -np.sin(t), np.cos(t)], [1, 0, 0], [0, np.cos(t), np.sin(t)]]  # first axis is nearly up
    original = OrientedBox([1, 1, 1], [0.3, 1.0, 2.0], axes)
    box, note = upright_axes(original)
    assert box.axes[2, 2] == pytest.approx(np.cos(t)) and np.linalg.det(box.axes) == pytest.approx(1.0)
    np.testing.assert_allclose(box.size, [1.0, 2.0, 0.3])
    np.testing.assert_allclose(np.sort(box.corners(), axis=0), np.sort(original.corners(), axis=0), atol=1e-12)
    assert "tilted 5.0 deg" in note


def test_upright_axes_leaves_aligned_box_alone():
    b = OrientedBox.from_yaw([0, 0, 0], [1, 2, 3], 0.3)
    same, note = upright_axes(b)
    assert same is b and note is None


def _bad(path_fn, value):
    data = copy.deepcopy(GOOD)
    path_fn(data, value)
    return data


def _set_obj(i, key):
    def f(data, value):
        if value is _DELETE:
            del data["objects"][i][key]
        else:
            data["objects"][i][key] = value
    return f


_DELETE = object()

MALFORMED = [
    (_set_obj(2, "size"), [0.3, -0.3, 0.4], "objects[2].size: expected 3 positive numbers"),
    (_set_obj(2, "size"), [0.3, 0.3], "objects[2].size: expected 3 positive numbers"),
    (_set_obj(1, "size"), [0.3, 0.0, 0.4], "objects[1].size: expected 3 positive numbers"),
    (_set_obj(0, "size"), _DELETE, "objects[0].size: missing"),
    (_set_obj(1, "center"), [1, "2", 3], "objects[1].center: expected 3 finite numbers"),
    (_set_obj(1, "center"), [1, True, 3], "objects[1].center: expected 3 finite numbers"),
    (_set_obj(0, "center"), _DELETE, "objects[0].center: missing"),
    (_set_obj(2, "category"), "   ", "objects[2].category: expected a non-empty string"),
    (_set_obj(2, "category"), 7, "objects[2].category: expected a non-empty string"),
    (_set_obj(0, "category"), _DELETE, "objects[0].category: missing"),
    (_set_obj(1, "axes"), [[1, 0, 0], [0, 1, 0]], "objects[1].axes: expected 3 rows of 3 finite numbers"),
    (_set_obj(1, "axes"), [[1, 0, 0], [0, 1, 0], [0, 1, 0]], "objects[1].axes: rows must be orthogonal unit"),
    (_set_obj(1, "axes"), [[2, 0, 0], [0, 1, 0], [0, 0, 1]], "objects[1].axes: rows must be orthogonal unit"),
    (_set_obj(1, "first_seen_s"), -1, "objects[1].first_seen_s: expected a number of seconds >= 0"),
    (_set_obj(1, "first_seen_s"), "3", "objects[1].first_seen_s: expected a number of seconds >= 0"),
    (lambda d, v: d["objects"].__setitem__(1, v), "chair", "objects[1]: expected an object"),
    (lambda d, v: d.__setitem__("objects", v), {"a": 1}, "objects: expected a list"),
    (lambda d, v: d.pop("objects"), None, "objects: missing"),
    (lambda d, v: d.__setitem__("up", v), "y", 'up: only "z" is supported'),
    (lambda d, v: d.__setitem__("scene_id", v), 5, "scene_id: expected a non-empty string"),
    (lambda d, v: d.__setitem__("room", v), [1], "room: expected an object"),
    (lambda d, v: d["room"].__setitem__("area_m2", v), -3, "room.area_m2: expected a positive number"),
    (lambda d, v: d["room"].__setitem__("floor_polygon", v), [[0, 0], [1, 1]], "room.floor_polygon: expected a list"),
    (lambda d, v: d["room"].__setitem__("floor_polygon", v), [[0, 0], [1, 1], [2, 2]], "zero area"),
    (lambda d, v: d["room"].__setitem__("floor_z", v), "low", "room.floor_z: expected a number"),
]


@pytest.mark.parametrize("mutate,value,message", MALFORMED, ids=[m[2][:40] for m in MALFORMED])
def test_malformed_field_messages(tmp_path, mutate, value, message):
    p = write(tmp_path, _bad(mutate, value))
    with pytest.raises(FormatError) as e:
        import_annotations(p)
    text = str(e.value)
    assert text.startswith(str(p) + ": ")
    assert message in text
    assert "\n" not in text


def test_not_json_names_line_and_column(tmp_path):
    p = write(tmp_path, '{"objects": [\n  {"category": "a",}\n]}')
    with pytest.raises(FormatError, match=r"not valid JSON \(line 2 column"):
        import_annotations(p)


def test_top_level_not_an_object(tmp_path):
    with pytest.raises(FormatError, match="top level: expected a JSON object"):
        import_annotations(write(tmp_path, "[1, 2]"))


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="annotation file .* does not exist"):
        import_annotations(tmp_path / "nope.json")
