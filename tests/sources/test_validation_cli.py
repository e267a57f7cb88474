"""Bad inputs through ``spatialmem ingest``: exit 2, a message naming the file, nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import layout_writers as W  # registered by conftest.py
import mem_scene_kit as kit  # registered by conftest.py
import numpy as np
import pytest
from PIL import Image

from spatialmem.cli import main
from spatialmem.memory.store import load_memory


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    w = kit.World()
    w.add(1, "table", [2.5, 2.0, 0.375], [1.4, 0.8, 0.75])
    w.add(2, "chair", [1.2, 1.0, 0.45], [0.5, 0.5, 0.9], 0.3)
    poses = kit.orbit_poses([2.5, 2.0], 1.3, 6, height=1.5, target_z=0.5)
    return kit.write_scene_folder(tmp_path_factory.mktemp("scene"), w, poses, kit.small_K(64, 48, hfov=75))


@pytest.fixture
def scannet(scene, tmp_path) -> Path:
    return W.write_scannet(scene, tmp_path / "scan")


def ingest(capsys, src, out, *flags):
    rc = main(["ingest", str(src), "--out", str(out), *flags])
    cap = capsys.readouterr()
    return rc, cap.out + cap.err


def _fail(capsys, tmp_path, src, must_name, *flags):
    out = tmp_path / "mem"
    rc, text = ingest(capsys, src, out, *flags)
    assert rc == 2, text
    assert must_name in text.replace("\n", ""), text
    assert not out.exists()
    return text


@pytest.mark.parametrize("K", [[[0, 0, 31.5], [0, 40, 23.5], [0, 0, 1]], np.zeros((4, 4)).tolist(),
                               [[40, 0, 90], [0, 40, 23.5], [0, 0, 1]]], ids=["fx0", "zero-K", "cx-outside"])
def test_bad_intrinsics_file(capsys, tmp_path, scannet, K):
    np.savetxt(scannet / "intrinsic" / "intrinsic_color.txt", np.array(K, float))
    _fail(capsys, tmp_path, scannet, "intrinsic_color.txt")


def test_intrinsics_flag_of_another_aspect_ratio(capsys, tmp_path, scannet):
    p = tmp_path / "K.json"
    p.write_text(json.dumps({"fx": 50, "fy": 50, "cx": 49.5, "cy": 49.5, "width": 100, "height": 100}))
    text = _fail(capsys, tmp_path, scannet, "--intrinsics", "--intrinsics", str(p))
    assert "100x100" in text and "64x48" in text
    p.write_text("1 2 3\n4 5")
    _fail(capsys, tmp_path, scannet, "K.json", "--intrinsics", str(p))


def test_depth_frame_of_another_size(capsys, tmp_path, scannet):
    Image.fromarray(np.zeros((24, 32), np.uint16)).save(scannet / "depth" / "3.png")
    _fail(capsys, tmp_path, scannet, "3.png")


def test_frames_missing_a_file_are_named(capsys, tmp_path, scannet):
    (scannet / "depth" / "4.png").unlink()
    rc, text = ingest(capsys, scannet, tmp_path / "mem")
    assert rc == 0 and "1 frame number(s) lack a colour, depth or pose file and are skipped (first: 4)" in \
        text.replace("\n", "")
    assert load_memory(tmp_path / "mem").metadata["n_frames"] == 5


def test_pose_that_is_not_a_rotation(capsys, tmp_path, scannet):
    T = np.loadtxt(scannet / "pose" / "2.txt")
    T[:3, :3] *= 1.5
    np.savetxt(scannet / "pose" / "2.txt", T)
    _fail(capsys, tmp_path, scannet, "2.txt")


def test_options_a_layout_cannot_use_and_bad_values(capsys, tmp_path, scene, scannet):
    _fail(capsys, tmp_path, scene, "--depth-scale", "--depth-scale", "5000")
    _fail(capsys, tmp_path, scannet, "--fov", "--fov", "190")
    _fail(capsys, tmp_path, scannet, "--up", "--up", "sideways")
    _fail(capsys, tmp_path, scannet, "--labels", "--labels", "nyu41")


def test_depth_scale_warning_and_no_masks_warning(capsys, tmp_path, scene):
    src = W.write_scannet(scene, tmp_path / "nomask", masks=False)
    rc, text = ingest(capsys, src, tmp_path / "m1", "--depth-scale", "20")
    assert rc == 0
    assert "median depth" in text and "--depth-scale" in text
    assert "no instance masks" in text and "--instances" in text
    rc, text = ingest(capsys, src, tmp_path / "m2")
    assert rc == 0 and "median depth" not in text


def test_floor_height_op_and_inspect_on_a_y_down_capture(capsys, tmp_path, scene):
    src = W.write_scannet(scene, tmp_path / "ydown", world=W.Y_DOWN)
    rc, text = ingest(capsys, src, tmp_path / "mem")
    assert rc == 0, text
    mem = load_memory(tmp_path / "mem")
    g = mem.metadata["gravity"]
    assert g["method"] == "plane" and g["up"] == pytest.approx([0, -1, 0], abs=1e-9)
    assert mem.room.floor_z == pytest.approx(0.0, abs=0.02)
    assert main(["inspect", str(tmp_path / "mem")]) == 0
    shown = capsys.readouterr().out.replace("\n", "")
    assert "layout scannet" in shown and "(plane, confidence" in shown and "floor at z = " in shown
    assert main(["inspect", str(tmp_path / "mem"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["source_layout"] == "scannet" and info["depth_scale"] == 1000
    assert info["floor_z"] == pytest.approx(0.0, abs=0.02) and info["gravity"]["method"] == "plane"
    assert main(["run", str(tmp_path / "mem"), "-e", "answer(camera(0).position[2] - floor_height())"]) == 0
    assert float(capsys.readouterr().out.split()[0]) == pytest.approx(1.5, abs=0.03)


def test_synthetic_intrinsics_with_zero_focal_length(capsys, tmp_path, scene):
    import shutil

    bad = tmp_path / "scene"
    shutil.copytree(scene, bad)
    K = json.loads((bad / "intrinsics.json").read_text())
    (bad / "intrinsics.json").write_text(json.dumps({**K, "fx": 0}))
    _fail(capsys, tmp_path, bad, "intrinsics.json")
