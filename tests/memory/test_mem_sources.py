"""Frame sources (synthetic folder, ScanNet layout, video, image folder), auto-detection and given backends."""

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatialmem import registry
from spatialmem.errors import FormatError, InputError
from spatialmem.geometry.boxes import iou_3d
from spatialmem.memory.builder import BuilderConfig, build_memory
from spatialmem.memory.lift import LiftConfig
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.sources import detect_kind, open_source
from spatialmem.types import Frame, Intrinsics

_spec = importlib.util.spec_from_file_location("mem_scene_kit", Path(__file__).with_name("mem_scene_kit.py"))
kit = sys.modules.setdefault("mem_scene_kit", importlib.util.module_from_spec(_spec))
if not hasattr(kit, "World"):
    _spec.loader.exec_module(kit)


def _world():
    w = kit.World()
    w.add(1, "chair", [2.0, 2.0, 0.45], [0.5, 0.5, 0.9])
    w.add(2, "trash bin", [3.0, 2.2, 0.2], [0.3, 0.3, 0.4], 0.4)
    return w


def _poses(n=8):
    return kit.orbit_poses([2.5, 2.1], 1.4, n, target_z=0.3)


def test_synthetic_folder_source_reads_the_contract(tmp_path):
    w = _world()
    K = kit.small_K(96, 72)
    d = kit.write_scene_folder(tmp_path, w, _poses(6), K)
    assert detect_kind(d) == "synthetic"
    src = open_source(d)
    assert len(src) == 6 and src.scene_name == "scene_00000" and src.path == d
    frames = list(src)
    f = frames[2]
    assert f.rgb.shape == (72, 96, 3) and f.depth_m.dtype == np.float32 and f.instance_ids.dtype == np.int32
    assert f.instance_labels == {1: "chair", 2: "trash bin"} and f.timestamp_s == pytest.approx(0.2)
    depth, ids = kit.cast(w, K, f.world_from_camera)
    np.testing.assert_allclose(f.depth_m, depth, atol=0.0006)
    np.testing.assert_array_equal(f.instance_ids, ids)
    assert len(open_source(d, stride=2)) == 3 and len(open_source(d, max_frames=4)) == 4
    mem = build_memory(open_source(d), BuilderConfig(lift=LiftConfig(stride=1)))
    assert mem.scene_id == "scene_00000" and mem.categories() == {"chair": 1, "trash bin": 1}


def test_synthetic_folder_errors_name_the_file(tmp_path):
    d = kit.write_scene_folder(tmp_path, _world(), _poses(2), kit.small_K(32, 24))
    (d / "frames.jsonl").write_text('{"index": 0}\n')
    with pytest.raises(FormatError, match="frames.jsonl line 1"):
        open_source(d)
    with pytest.raises(InputError, match="does not exist"):
        open_source(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="not a known layout"):
        open_source(tmp_path / "empty")


def _write_scannet(root: Path, w, poses, Kc: Intrinsics, Kd: Intrinsics, with_instances=True) -> Path:
    d = root / "scan0001"
    for sub in ("color", "depth", "pose", "intrinsic", "instance"):
        (d / sub).mkdir(parents=True)
    M = lambda K: np.array([[K.fx, 0, K.cx, 0], [0, K.fy, K.cy, 0], [0, 0, 1, 0], [0, 0, 0, 1]])  # noqa: E731
    np.savetxt(d / "intrinsic" / "intrinsic_color.txt", M(Kc))
    np.savetxt(d / "intrinsic" / "intrinsic_depth.txt", M(Kd))
    for k, T in enumerate(poses):
        depth, _ = kit.cast(w, Kd, T)
        dc, ids = kit.cast(w, Kc, T)
        Image.fromarray(kit.colour(ids, dc)).save(d / "color" / f"{k}.jpg")
        Image.fromarray(np.rint(depth * 1000).astype(np.uint16)).save(d / "depth" / f"{k}.png")
        np.savetxt(d / "pose" / f"{k}.txt", T)
        if with_instances:
            Image.fromarray(ids.astype(np.uint8)).save(d / "instance" / f"{k}.png")
    np.savetxt(d / "pose" / f"{len(poses)}.txt", np.full((4, 4), -np.inf))  # lost tracking: skipped
    Image.fromarray(np.zeros((Kc.height, Kc.width, 3), np.uint8)).save(d / "color" / f"{len(poses)}.jpg")
    Image.fromarray(np.zeros((Kd.height, Kd.width), np.uint16)).save(d / "depth" / f"{len(poses)}.png")
    (d / "instance_labels.json").write_text(json.dumps({"1": "Chair", "2": "trash bin"}))
    return d


def test_scannet_layout_with_different_colour_and_depth_resolutions(tmp_path):
    w = _world()
    Kc = Intrinsics.from_fov(160, 120, 70)
    Kd = Intrinsics.from_fov(80, 60, 70)
    poses = _poses(8)
    d = _write_scannet(tmp_path, w, poses, Kc, Kd)
    assert detect_kind(d) == "scannet"
    src = open_source(d, fps=10)
    assert len(src) == 9
    frames = list(src)
    assert len(frames) == 8  # the -inf pose is skipped
    f = frames[1]
    assert f.rgb.shape == (120, 160, 3) and f.depth_m.shape == (60, 80)
    assert f.depth_camera().width == 80 and f.intrinsics.width == 160
    assert f.timestamp_s == pytest.approx(0.1) and f.instance_labels[1] == "chair"
    mem = build_memory(frames, BuilderConfig(lift=LiftConfig(stride=1)))
    assert mem.categories() == {"chair": 1, "trash bin": 1}
    chair = mem.by_category("chair")[0]
    assert iou_3d(chair.box, w.boxes[0][2]) > 0.6  # masks at 2x the depth resolution still line up


def test_video_source_decodes_a_pyav_file(tmp_path):
    av = pytest.importorskip("av")
    p = tmp_path / "clip.mp4"
    with av.open(str(p), "w") as out:
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for k in range(12):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:, : 5 * (k + 1)] = 200
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    assert detect_kind(p) == "video"
    src = open_source(p, hfov_deg=90)
    assert len(src) == 12 and src.scene_name == "clip"
    frames = list(src)
    assert len(frames) == 12 and frames[0].rgb.shape == (48, 64, 3)
    assert frames[0].world_from_camera is None and frames[0].depth_m is None
    assert frames[0].intrinsics.fx == pytest.approx(32.0)
    assert [f.timestamp_s for f in frames[:3]] == pytest.approx([0.0, 0.1, 0.2])
    assert frames[5].rgb[:, 40:].mean() < 60 < frames[5].rgb[:, :20].mean()
    assert len(list(open_source(p, stride=3))) == 4
    with pytest.raises(InputError, match="'given' geometry backend needs a pose"):
        build_memory(frames, BuilderConfig())


def test_image_folder_source(tmp_path):
    for name in ("img10.png", "img2.png", "img1.jpg"):
        Image.fromarray(np.full((30, 40, 3), 9, np.uint8)).save(tmp_path / name)
    (tmp_path / "notes.txt").write_text("x")
    assert detect_kind(tmp_path) == "images"
    src = open_source(tmp_path, fps=2.0)
    frames = list(src)
    assert [f.timestamp_s for f in frames] == [0.0, 0.5, 1.0] and len(src) == 3
    assert [p.name for p in src.files] == ["img1.jpg", "img2.png", "img10.png"]
    assert frames[0].intrinsics.width == 40


def test_given_backends_are_registered_and_validate():
    geo = registry.build("geometry", "given", GeometryConfig(max_depth_m=5.0))
    K = Intrinsics.from_fov(4, 3, 60)
    depth = np.array([[1, 2, 9, 0]] * 3, np.float32)
    f = Frame(0, 0.0, np.zeros((3, 4, 3), np.uint8), K, np.eye(4), depth)
    out = geo.process(f)
    assert out.depth_m[0].tolist() == [1, 2, 0, 0]
    with pytest.raises(InputError, match="frame 0"):
        geo.process(dataclasses.replace(f, world_from_camera=None))
    with pytest.raises(FormatError):
        geo.process(dataclasses.replace(f, world_from_camera=np.diag([1.0, 1.0, -1.0, 1.0])))
    inst = registry.build("instances", "given", InstancesConfig(min_pixels=2))
    ids = np.array([[0, 1, 1, 2], [0, 1, 3, 3], [4, 4, 4, 4]], np.int32)
    dets = inst.detect(dataclasses.replace(f, instance_ids=ids, instance_labels={1: "Chair", 3: "wall", 4: "lamp"}))
    assert [(d.category, int(d.mask.sum())) for d in dets] == [("chair", 3), ("lamp", 4)]
    fcfg = InstancesConfig(name="fake", min_pixels=1, options={"rename": {"lamp": "light"}})
    fake = registry.build("instances", "fake", fcfg)
    assert [d.category for d in fake.detect(dataclasses.replace(f, instance_ids=ids, instance_labels={4: "lamp"}))] \
        == ["light"]
    fg = registry.build("geometry", "fake", GeometryConfig(name="fake", options={"depth_noise_m": 0.01}))
    noisy = fg.process(f).depth_m
    assert (noisy[depth == 0] == 0).all() and 0 < np.abs(noisy - depth)[depth > 0].max() < 0.1


def test_check_pose_rejects_ragged_or_non_numeric_matrices():
    from spatialmem.types import check_pose

    with pytest.raises(FormatError, match="frames.jsonl frame 3"):
        check_pose([[1, 0, 0, 0], [0, 1, 0]], "frames.jsonl frame 3")
    with pytest.raises(FormatError, match="pose 7"):
        check_pose([["a", "b", "c", "d"]] * 4, "pose 7")


def test_synthetic_intrinsics_missing_field_names_file_and_field(tmp_path):
    d = kit.write_scene_folder(tmp_path, _world(), _poses(2), kit.small_K(32, 24))
    data = json.loads((d / "intrinsics.json").read_text())
    del data["cy"]
    (d / "intrinsics.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"intrinsics\.json: missing field 'cy'"):
        open_source(d)
    data["cy"] = "centre"
    (d / "intrinsics.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"intrinsics\.json"):
        open_source(d)
    (d / "intrinsics.json").write_text("[1, 2]")
    with pytest.raises(FormatError, match=r"intrinsics\.json"):
        open_source(d)


def test_synthetic_frame_with_ragged_pose_names_the_frame(tmp_path):
    d = kit.write_scene_folder(tmp_path, _world(), _poses(2), kit.small_K(32, 24))
    rows = [json.loads(line) for line in (d / "frames.jsonl").read_text().splitlines()]
    rows[1]["world_from_camera"] = [[1, 0, 0, 0], [0, 1, 0]]
    (d / "frames.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    src = open_source(d)
    with pytest.raises(FormatError, match=r"frames\.jsonl frame 1"):
        list(src)


def test_scannet_corrupt_first_image_is_a_format_error(tmp_path):
    Kc = Intrinsics.from_fov(32, 24, 70)
    d = _write_scannet(tmp_path, _world(), _poses(2), Kc, Kc, with_instances=False)
    (d / "color" / "0.jpg").write_bytes(b"not a jpeg at all")
    with pytest.raises(FormatError, match=r"color/0\.jpg"):
        open_source(d)
    d2 = _write_scannet(tmp_path / "b", _world(), _poses(2), Kc, Kc, with_instances=False)
    (d2 / "depth" / "0.png").write_bytes(b"\x89PNG broken")
    with pytest.raises(FormatError, match=r"depth/0\.png"):
        open_source(d2)


def test_video_decode_error_mid_stream_names_file_and_frame(tmp_path):
    av = pytest.importorskip("av")
    from spatialmem.sources.video import VideoSource

    p = tmp_path / "clip.mp4"
    with av.open(str(p), "w") as out:
        st = out.add_stream("libx264", rate=10)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for k in range(6):
            img = np.full((48, 64, 3), 30 * k, np.uint8)
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    src = VideoSource(p)

    class _Broken:
        """Stands in for a container whose decoder fails on the third frame."""

        def __init__(self, real):
            self.real, self.streams = real, real.streams

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.real.close()

        def decode(self, st):
            for k, vf in enumerate(self.real.decode(st)):
                if k == 2:
                    raise av.error.InvalidDataError(1094995529, "Invalid data found when processing input")
                yield vf

    real_open = av.open
    try:
        av.open = lambda *a, **kw: _Broken(real_open(*a, **kw))
        it = iter(src)
        assert next(it).index == 0 and next(it).index == 1
        with pytest.raises(FormatError, match=r"clip\.mp4: cannot decode video frame 2"):
            next(it)
    finally:
        av.open = real_open


def test_given_instances_negative_ids_is_a_format_error_naming_the_frame():
    inst = registry.build("instances", "given", InstancesConfig(min_pixels=1))
    K = Intrinsics.from_fov(2, 2, 60)
    f = Frame(4, 0.0, np.zeros((2, 2, 3), np.uint8), K, np.eye(4),
              instance_ids=np.array([[0, -1], [1, 1]], np.int32), instance_labels={1: "chair"})
    with pytest.raises(FormatError, match="frame 4"):
        inst.detect(f)
