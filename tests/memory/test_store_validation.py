"""Every number a memory directory or an annotation file holds is validated when it is read."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from spatialmem.cli import main
from spatialmem.errors import FormatError, InputError, StoreError
from spatialmem.memory.annotations import import_annotations
from spatialmem.memory.store import DB_NAME, load_memory, save_memory


@pytest.fixture
def saved(tmp_path, living):
    path = tmp_path / "mem"
    save_memory(living, path)
    return path


def _sql(path, statement: str, *args) -> None:
    con = sqlite3.connect(path / DB_NAME)
    con.execute(statement, args)
    con.commit()
    con.close()


def _nan_array(shape) -> str:
    return json.dumps({"dtype": "<f8", "shape": list(shape), "data": [float("nan")] * int(np.prod(shape))})


@pytest.mark.parametrize("statement, args, message", [
    ("UPDATE instances SET keyframe_indices = ? WHERE id = 1", ("[1e999]",), "keyframe_indices"),
    ("UPDATE instances SET keyframe_indices = ? WHERE id = 1", ('["x"]',), "keyframe_indices"),
    ("UPDATE instances SET center = ? WHERE id = 2", (_nan_array((3,)),), "instance 2 center"),
    ("UPDATE instances SET size = ? WHERE id = 2", (_nan_array((2,)),), "instance 2 size"),
    ("UPDATE instances SET first_seen_s = ? WHERE id = 3", ("soon",), "first_seen_s"),  # NaN is NULL in SQLite
    ("UPDATE cameras SET world_from_camera = ? WHERE seq = 0", (_nan_array((4, 4)),), "camera 0 pose"),
    ("UPDATE room SET ceiling_z = ?", (-1.0,), "ceiling_z -1 is not above floor_z"),
    ("UPDATE room SET area_m2 = ?", (float("inf"),), "room area_m2"),
    ("UPDATE meta SET value = ? WHERE key = 'metadata'", ("[" * 100_000 + "]" * 100_000,), "nested too deeply"),
])
def test_bad_numbers_in_a_memory_are_store_errors(saved, statement, args, message):
    _sql(saved, statement, *args)
    with pytest.raises(StoreError, match=message):
        load_memory(saved)


def test_cli_reports_a_nan_centre_instead_of_rendering(saved, tmp_path, capsys):
    _sql(saved, "UPDATE instances SET center = ? WHERE id = 2", _nan_array((3,)))
    assert main(["render", str(saved), "--topdown", str(tmp_path / "map.png")]) == StoreError.exit_code
    assert main(["run", str(saved), "-e", 'answer(the("tv").height)']) == StoreError.exit_code
    assert "instance 2 center" in capsys.readouterr().err


def _annotations(tmp_path, room=None, center=(1.0, 1.0, 0.5)) -> object:
    doc = {"objects": [{"category": "chair", "center": list(center), "size": [0.5, 0.5, 1.0]}]}
    if room is not None:
        doc["room"] = room
    p = tmp_path / "a.json"
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


def test_annotations_refuse_far_out_values_and_a_ceiling_below_the_floor(tmp_path):
    with pytest.raises(FormatError, match=r"objects\[0\].center"):
        import_annotations(_annotations(tmp_path, center=(1e308, 0.0, 0.0)))
    with pytest.raises(FormatError, match="room.area_m2"):
        import_annotations(_annotations(tmp_path, room={"area_m2": 1e308}))
    with pytest.raises(FormatError, match="ceiling_z: 1 is not above floor_z 2"):
        import_annotations(_annotations(tmp_path, room={"area_m2": 20, "floor_z": 2.0, "ceiling_z": 1.0}))
    assert import_annotations(_annotations(tmp_path, room={"area_m2": 20, "ceiling_z": 2.5})).room.ceiling_z == 2.5


def test_annotations_deeply_nested_bom_and_directory(tmp_path):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    with pytest.raises(FormatError, match="nested too deeply"):
        import_annotations(deep)
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + json.dumps({"objects": []}).encode())
    assert import_annotations(bom).instances == ()
    with pytest.raises(InputError, match="is a directory, not a file"):
        import_annotations(tmp_path)
    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"objects": [], "scene_id": "caf\xe9"}')
    with pytest.raises(InputError, match="not UTF-8 text"):
        import_annotations(latin)
