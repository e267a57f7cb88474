"""The whole memory CLI chain on a tiny synthetic scene: synth -> ingest -> inspect -> render -> eval-memory."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from spatialmem.cli import main
from spatialmem.synth.writer import SynthConfig, write_scene


@pytest.fixture(scope="module")
def scene_dir(tmp_path_factory):
    cfg = SynthConfig(num_frames=40, fps=10.0, width=128, height=96, renderer="auto")
    return write_scene(tmp_path_factory.mktemp("synth_e2e"), 2, cfg)


def test_ingest_inspect_render_eval(scene_dir, tmp_path, capsys):
    mem = tmp_path / "mem"
    assert main(["ingest", str(scene_dir), "--out", str(mem), "--window", "4", "--keyframes", "6"]) == 0
    out = capsys.readouterr().out
    assert "instances" in out and "frames/s" in out

    assert main(["inspect", str(mem), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    scene = json.loads((scene_dir / "scene.json").read_text())
    assert info["n_frames"] == 40 and info["n_cameras"] > 0 and 0 < info["n_keyframes"] <= 6
    assert info["n_points"] > 0 and info["instances"]
    visible = {o["category"] for o in scene["objects"] if o["first_visible_s"] is not None}
    assert {d["category"] for d in info["instances"]} <= visible

    png = tmp_path / "top.png"
    assert main(["render", str(mem), "--topdown", str(png)]) == 0
    img = np.asarray(Image.open(png))
    assert img.shape[1] == 800 and len(np.unique(img.reshape(-1, 3), axis=0)) > 20

    capsys.readouterr()
    assert main(["eval-memory", str(mem), str(scene_dir), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["n_gt"] == sum(o["first_visible_s"] is not None for o in scene["objects"])
    assert r["recall_25"] >= 0.8 and r["precision_25"] >= 0.8
    assert r["median_center_error_m"] is not None and r["median_center_error_m"] < 0.1
    assert r["room_area_error"] is not None and r["room_area_error"] < 0.1, r["room_area_error"]


def test_ingest_never_overwrites_without_flag(scene_dir, tmp_path, capsys):
    mem = tmp_path / "mem"
    mem.mkdir()
    (mem / "keep.txt").write_text("mine")
    assert main(["ingest", str(scene_dir), "--out", str(mem)]) == 2
    assert (mem / "keep.txt").read_text() == "mine"
    # even with --overwrite a folder that is not a memory is refused
    assert main(["ingest", str(scene_dir), "--out", str(mem), "--overwrite", "--max-frames", "5"]) == 2
    assert (mem / "keep.txt").read_text() == "mine"
