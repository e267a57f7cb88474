"""Round trips: a synthetic scene written in each capture layout ingests to the same memory as the scene itself.

The layouts that are not z-up (TUM, 7-Scenes: y-down; Stray Scanner, Record3D, ARKitScenes: y-up; one
tilted world) must come out z-up without being told.
"""

from __future__ import annotations

from pathlib import Path

import layout_writers as W  # registered by conftest.py
import mem_scene_kit as kit  # registered by conftest.py
import numpy as np
import pytest

from spatialmem.cli import main
from spatialmem.memory.builder import BuilderConfig, build_memory
from spatialmem.memory.store import load_memory
from spatialmem.sources import detect_kind, open_source
from spatialmem.sources.prepare import prepare_source

CFG = BuilderConfig(window=4)


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    w = kit.World()
    w.add(1, "table", [2.5, 2.0, 0.375], [1.4, 0.8, 0.75])
    w.add(2, "cabinet", [4.6, 3.5, 0.6], [0.6, 0.8, 1.2])
    poses = kit.orbit_poses([2.5, 2.0], 1.0, 8, height=1.5, target_z=0.4)
    return kit.write_scene_folder(tmp_path_factory.mktemp("scene"), w, poses, kit.small_K(64, 48, hfov=80))


@pytest.fixture(scope="module")
def reference(scene):
    src = prepare_source(open_source(scene, load_instances=False))
    return build_memory(src, CFG, prefetch_frames=0)


def _ingest(src, **kw):
    s = prepare_source(open_source(src, **kw))
    return s.report, build_memory(s, CFG, prefetch_frames=0)


def _same_memory(mem, ref, yaw_free: bool = False):
    cams = np.array([c.world_from_camera[:3, 3] for c in mem.cameras])
    ref_cams = np.array([c.world_from_camera[:3, 3] for c in ref.cameras])
    assert len(cams) == len(ref_cams)
    if yaw_free:  # compare what a turn about the vertical keeps: heights and distances
        assert cams[:, 2] == pytest.approx(ref_cams[:, 2], abs=0.01)
        d = np.linalg.norm(cams[:, None] - cams[None], axis=-1)
        assert d == pytest.approx(np.linalg.norm(ref_cams[:, None] - ref_cams[None], axis=-1), abs=0.01)
    else:
        assert cams == pytest.approx(ref_cams, abs=0.01)
    assert mem.room.floor_z == pytest.approx(ref.room.floor_z, abs=0.02)
    assert mem.room.floor_z == pytest.approx(0.0, abs=0.03)
    assert mem.room.area_m2 == pytest.approx(ref.room.area_m2, rel=0.05)
    assert len(mem.points_world) == pytest.approx(len(ref.points_world), rel=0.1)


@pytest.mark.parametrize("layout, writer, world, flags, method", [
    ("scannet", W.write_scannet, W.Z_UP, {}, "plane"),
    ("tum", W.write_tum, W.Y_DOWN, {"intrinsics": "K"}, "plane"),
    ("7scenes", W.write_7scenes, W.Y_DOWN, {"intrinsics": "K"}, "plane"),
    ("replica", W.write_replica, W.Y_DOWN, {}, "plane"),
    ("arkitscenes", W.write_arkitscenes, W.Y_UP, {}, "plane"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_round_trip(tmp_path, scene, reference, layout, writer, world, flags, method):
    src = writer(scene, tmp_path / layout, world=world)
    assert detect_kind(src) == layout
    if flags.get("intrinsics") == "K":
        flags = {"intrinsics": np.loadtxt(W.write_intrinsics_text(scene, tmp_path / "K.txt"))}
    report, mem = _ingest(src, **flags)
    assert report.layout == layout and report.up.method == method
    assert report.up.rotation @ (world @ [0, 0, 1.0]) == pytest.approx([0, 0, 1], abs=1e-9)
    _same_memory(mem, reference)


def test_phone_layouts_use_the_arkit_gravity(tmp_path, scene, reference):
    pytest.importorskip("av")
    pytest.importorskip("OpenEXR")
    pytest.importorskip("lzfse")
    for layout, writer, name in (("stray", W.write_stray, "stray"), ("record3d", W.write_record3d, "r3d_export"),
                                 ("record3d", W.write_r3d, "capture.r3d")):
        src = writer(scene, tmp_path / name)
        assert detect_kind(src) == layout
        report, mem = _ingest(src)
        assert report.up.method == "imu" and report.up.up == pytest.approx([0, 1, 0])
        _same_memory(mem, reference)


def test_tilted_world_and_the_up_flag(tmp_path, scene, reference):
    a, b = np.radians(25), np.radians(40)
    tilt = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]]) @ \
        np.array([[np.cos(b), -np.sin(b), 0], [np.sin(b), np.cos(b), 0], [0, 0, 1]])
    src = W.write_replica(scene, tmp_path / "tilted", world=tilt)
    report, mem = _ingest(src)
    assert report.up.up == pytest.approx(tilt @ [0, 0, 1.0], abs=0.01)
    _same_memory(mem, reference, yaw_free=True)
    # --up given: used as is, even when wrong (the user knows best); here the right one for a y-down world
    ydown = W.write_replica(scene, tmp_path / "ydown", world=W.Y_DOWN)
    out = tmp_path / "mem"
    assert main(["ingest", str(ydown), "--out", str(out), "--up", "-y"]) == 0
    m = load_memory(out)
    assert m.metadata["gravity"]["method"] == "given" and m.room.floor_z == pytest.approx(0.0, abs=0.03)


def test_ambiguous_and_incomplete_layouts_say_what_to_do(tmp_path, scene, capsys):
    both = W.write_tum(scene, tmp_path / "both")
    W.write_7scenes(scene, tmp_path / "both")  # a seq-01 folder inside the TUM folder
    for rc_args, must in (([str(both)], "matches several layouts (tum, 7scenes)"),):
        assert main(["ingest", *rc_args, "--out", str(tmp_path / "m")]) == 2
        assert must in capsys.readouterr().err.replace("\n", "")
    assert main(["ingest", str(both), "--layout", "tum", "--out", str(tmp_path / "m"), "--intrinsics",
                 str(W.write_intrinsics_text(scene, tmp_path / "K.txt"))]) == 0
    capsys.readouterr()
    seven = W.write_7scenes(scene, tmp_path / "seven")
    W.write_7scenes(scene, tmp_path / "seven2")
    (tmp_path / "seven2" / "seq-01").rename(seven / "seq-02")
    assert main(["ingest", str(seven), "--out", str(tmp_path / "m2")]) == 2
    assert "several 7-Scenes sequences (seq-01, seq-02)" in capsys.readouterr().err.replace("\n", "")
    (seven / "seq-02" / "frame-000003.pose.txt").unlink()
    assert main(["ingest", str(seven / "seq-02"), "--out", str(tmp_path / "m3")]) == 2
    assert "frame-000003.pose.txt" in capsys.readouterr().err.replace("\n", "")
    tum = W.write_tum(scene, tmp_path / "tum")
    (tum / "groundtruth.txt").unlink()
    assert main(["ingest", str(tum), "--out", str(tmp_path / "m4")]) == 2
    assert "groundtruth.txt" in capsys.readouterr().err.replace("\n", "")
    bad = tmp_path / "broken.r3d"
    bad.write_bytes(b"not a zip")
    assert main(["ingest", str(bad), "--out", str(tmp_path / "m5")]) == 2
    assert "broken.r3d: not a readable .r3d" in capsys.readouterr().err.replace("\n", "")
    assert not any((tmp_path / m).exists() for m in ("m2", "m3", "m4", "m5"))
