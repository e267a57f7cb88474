"""Memory commands end to end through ``spatialmem.cli.main``: exit codes, outputs, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from spatialmem.cli import main
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.store import load_memory

ANN = {
    "scene_id": "ann_scene",
    "objects": [
        {"category": "Sofa", "center": [1.5, 1.0, 0.4], "size": [2.0, 0.9, 0.8], "first_seen_s": 1.0},
        {"category": "tv", "center": [5.5, 3.0, 1.0], "size": [1.2, 0.1, 0.7],
         "axes": [[0, 1, 0], [-1, 0, 0], [0, 0, 1]], "first_seen_s": 2.5},
        {"category": "chair", "center": [3.0, 2.0, 0.45], "size": [0.5, 0.5, 0.9]},
    ],
    "room": {"floor_polygon": [[0, 0], [6, 0], [6, 4], [0, 4]]},
}


@pytest.fixture
def ann_file(tmp_path):
    p = tmp_path / "ann.json"
    p.write_text(json.dumps(ANN))
    return p


@pytest.fixture
def mem(tmp_path, ann_file):
    out = tmp_path / "mem"
    assert main(["import-annotations", str(ann_file), "--out", str(out)]) == 0
    return out


def scene_json(tmp_path, shift: float = 0.0):
    """A ground-truth scene folder matching ANN (sofa optionally shifted along x)."""
    objs = []
    for k, o in enumerate(ANN["objects"]):
        box = OrientedBox(np.add(o["center"], [shift if k == 0 else 0.0, 0, 0]), o["size"], o.get("axes", np.eye(3)))
        objs.append({"id": k + 1, "category": o["category"].lower(), **box.to_dict(),
                     "first_visible_frame": 0, "first_visible_s": 0.0})
    d = tmp_path / "scene_00000"
    d.mkdir(exist_ok=True)
    (d / "scene.json").write_text(json.dumps({"objects": objs, "room": {"floor_area_m2": 25.0}}))
    return d


def test_import_then_inspect_json(mem, capsys):
    capsys.readouterr()
    assert main(["inspect", str(mem), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["scene_id"] == "ann_scene" and info["room_area_m2"] == pytest.approx(24.0)
    assert info["n_frames"] == 0
    assert [(d["id"], d["category"]) for d in info["instances"]] == [(1, "sofa"), (2, "tv"), (3, "chair")]
    assert info["instances"][0]["center"] == [1.5, 1.0, 0.4]
    assert info["instances"][1]["first_seen_s"] == 2.5 and info["instances"][2]["first_seen_s"] is None


def test_inspect_table(mem, capsys):
    capsys.readouterr()
    assert main(["inspect", str(mem)]) == 0
    out = capsys.readouterr().out
    assert "ann_scene" in out and "24.00" in out and "sofa" in out and "chair" in out


def test_import_refuses_existing_output_without_overwrite(mem, ann_file, capsys):
    before = (mem / "memory.sqlite").read_bytes()
    capsys.readouterr()
    assert main(["import-annotations", str(ann_file), "--out", str(mem)]) == 2
    assert "--overwrite" in " ".join(capsys.readouterr().err.split())
    assert (mem / "memory.sqlite").read_bytes() == before
    assert main(["import-annotations", str(ann_file), "--out", str(mem), "--overwrite"]) == 0


def test_import_bad_file_exits_nonzero_with_one_line(tmp_path, capsys):
    bad = json.loads(json.dumps(ANN))
    bad["objects"][2]["size"] = [0.5, -1, 0.9]
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    capsys.readouterr()
    code = main(["import-annotations", str(p), "--out", str(tmp_path / "m")])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert "objects[2].size: expected 3 positive numbers" in " ".join(err.split())
    assert not (tmp_path / "m").exists()


def test_render_topdown_png(mem, tmp_path):
    out = tmp_path / "maps" / "top.png"
    assert main(["render", str(mem), "--topdown", str(out), "--width", "320"]) == 2  # no folder "maps": refused
    assert not out.parent.exists()
    out.parent.mkdir()
    assert main(["render", str(mem), "--topdown", str(out), "--width", "320"]) == 0
    img = np.asarray(Image.open(out))
    assert img.shape[1] == 320 and img.shape[2] == 3 and len(np.unique(img.reshape(-1, 3), axis=0)) > 5
    assert [p.name for p in out.parent.iterdir()] == ["top.png"]


def test_eval_memory_json_and_table(mem, tmp_path, capsys):
    scene = scene_json(tmp_path)
    capsys.readouterr()
    assert main(["eval-memory", str(mem), str(scene), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["precision_50"] == 1.0 and r["recall_50"] == 1.0 and r["median_center_error_m"] == 0.0
    assert r["room_area_error"] == pytest.approx(abs(24.0 - 25.0) / 25.0)
    assert main(["eval-memory", str(mem), str(scene)]) == 0
    out = capsys.readouterr().out
    assert "recall@0.5" in out and "4.00 %" in out


def test_eval_memory_detects_shifted_object(mem, tmp_path, capsys):
    scene = scene_json(tmp_path, shift=1.0)  # sofa IoU = 1/3
    capsys.readouterr()
    assert main(["eval-memory", str(mem), str(scene), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["recall_50"] == pytest.approx(2 / 3) and r["recall_25"] == 1.0


def test_missing_memory_gives_store_error_exit_code(tmp_path, capsys):
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "nothing")]) == 4
    assert "no such memory directory" in " ".join(capsys.readouterr().err.split())


def test_ingest_refuses_existing_output_before_reading_source(mem, tmp_path, capsys):
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "no_such_source"), "--out", str(mem)]) == 2
    assert "--overwrite" in " ".join(capsys.readouterr().err.split())
    assert load_memory(mem).scene_id == "ann_scene"


def test_ingest_uses_builder_contract_and_writes_memory(tmp_path, monkeypatch, capsys):
    """ingest with stand-ins for open_source / build_memory: progress callback contract and output."""
    import sys
    import types

    import spatialmem.sources
    from spatialmem.memory.annotations import parse_annotations
    from spatialmem.perception.base import GeometryConfig, InstancesConfig

    calls = {}

    class FakeSource:
        scene_name = "fake_scene"
        path = tmp_path / "src"

        def __len__(self):
            return 5

        def __iter__(self):
            return iter(())

    class FakeConfig:
        def __init__(self, **kw):
            calls["config"] = kw

    def fake_build(source, config, progress=None):
        for k in range(len(source)):
            progress(k, len(source), k // 2)
        calls["progress"] = True
        m = parse_annotations(ANN)
        return type(m)(m.scene_id, m.instances, room=m.room, metadata={"n_frames": 5})

    fake = types.ModuleType("spatialmem.memory.builder")
    fake.BuilderConfig, fake.build_memory = FakeConfig, fake_build
    monkeypatch.setitem(sys.modules, "spatialmem.memory.builder", fake)
    monkeypatch.setattr(spatialmem.sources, "open_source", lambda p, **kw: FakeSource(), raising=False)
    out = tmp_path / "mem"
    capsys.readouterr()
    assert main(["ingest", str(tmp_path / "src"), "--out", str(out), "--window", "4", "--keyframes", "9",
                 "--geometry", "given", "--instances", "given"]) == 0  # (the default, auto, needs frames to look at)
    assert calls["config"] == {"window": 4, "keyframes": 9, "geometry": GeometryConfig("given"),
                               "instances": InstancesConfig("given")}
    assert calls["progress"] and "3 instances" in capsys.readouterr().out
    assert len(load_memory(out).instances) == 3
