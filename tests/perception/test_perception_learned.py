"""Learned backends (``depth``, ``open-vocab``) on tiny random models loaded offline from folders.

No download: every model is built from a config and saved with ``save_pretrained`` (tiny_models.py).
The checks are on types, shapes, batching, alignment and the errors a user sees.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from spatialmem.cli import main
from spatialmem.errors import InputError, MissingDependencyError, ModelWeightsError
from spatialmem.memory.builder import BuilderConfig, MemoryBuilder
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.perception.depth_align import fit_scale_shift
from spatialmem.perception.depth_learned import DEFAULT_DEPTH_MODEL, LearnedDepthGeometry
from spatialmem.perception.hub import load_pretrained
from spatialmem.perception.open_vocab import OpenVocabInstances, nms, read_vocabulary
from spatialmem.types import Detection2D, Frame, Intrinsics


def _load(name: str, path: Path, marker: str):
    """A helper module loaded by path once (the suite runs with --import-mode=importlib)."""
    mod = sys.modules.get(name)
    if mod is None or not hasattr(mod, marker):
        spec = importlib.util.spec_from_file_location(name, path)
        mod = sys.modules.setdefault(name, importlib.util.module_from_spec(spec))
        spec.loader.exec_module(mod)
    return mod


tiny = _load("tiny_models", Path(__file__).with_name("tiny_models.py"), "save_depth")
kit = _load("mem_scene_kit", Path(__file__).parents[1] / "memory" / "mem_scene_kit.py", "World")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """The three default models, each in one of the layouts --model-dir accepts."""
    root = tmp_path_factory.mktemp("models")
    tiny.save_depth(root / DEFAULT_DEPTH_MODEL.replace("/", "--"))  # org--name
    tiny.save_owlv2(root / "owlv2-base-patch16-ensemble")  # the id's last part
    tiny.save_sam(root / "facebook" / "sam-vit-base")  # org/name nested
    tiny.save_depth(root / "relative-depth", kind="relative")
    return root


def frame(index: int, w: int = 40, h: int = 30, pose=True, depth=None) -> Frame:
    rng = np.random.default_rng(index)
    K = Intrinsics.from_fov(w, h, 60.0)
    T = np.eye(4) if pose else None
    return Frame(index, index / 10, rng.integers(0, 255, (h, w, 3), dtype=np.uint8), K, world_from_camera=T,
                 depth_m=depth)


def depth_backend(model_dir, **opts) -> LearnedDepthGeometry:
    return LearnedDepthGeometry(GeometryConfig(name="depth", options={"model_dir": str(model_dir), **opts}))


def test_depth_from_folder_typed_outputs_and_batching(model_dir):
    geo = depth_backend(model_dir, batch_size=2)
    frames = [frame(0, pose=False), frame(1, 48, 36), frame(2)]
    out = geo.process_batch(frames)
    assert [f.depth_m.shape for f in out] == [(30, 40), (36, 48), (30, 40)]
    for f in out:
        assert f.depth_m.dtype == np.float32 and (f.depth_m >= 0).all() and (f.depth_m > 0).mean() > 0.9
        assert f.depth_camera().width == f.rgb.shape[1]
    assert out[0].world_from_camera[2, 3] == pytest.approx(1.5)  # a level camera 1.5 m above the floor
    assert out[0].world_from_camera[2, 2] == pytest.approx(0.0)  # looking horizontally
    single = depth_backend(model_dir).process(frames[2])
    np.testing.assert_allclose(single.depth_m, out[2].depth_m, rtol=1e-4, atol=1e-5)  # batch == one by one
    prov = geo.provenance()
    assert prov["models"][0]["model_id"] == DEFAULT_DEPTH_MODEL
    assert prov["models"][0]["source"].endswith(DEFAULT_DEPTH_MODEL.replace("/", "--"))
    with pytest.raises(InputError, match="--geometry sfm"):
        geo.process(frame(3, pose=False))  # a second frame without a pose: depth alone has no motion


def test_depth_aligns_to_sparse_metric_anchors(model_dir):
    geo = depth_backend(model_dir)
    f = frame(5)
    pred = geo.predict([f.rgb])[0]
    rng = np.random.default_rng(1)
    sparse = np.zeros_like(pred)
    rows, cols = rng.integers(0, 30, 150), rng.integers(0, 40, 150)
    sparse[rows, cols] = 2.0 * pred[rows, cols] + 0.3
    sparse[rows[:20], cols[:20]] *= 3.0  # outliers
    out = geo.process(Frame(f.index, f.timestamp_s, f.rgb, f.intrinsics, np.eye(4), sparse))
    good = sparse > 0
    good[rows[:20], cols[:20]] = False
    np.testing.assert_allclose(out.depth_m, 2.0 * pred + 0.3, rtol=1e-3)
    fit = geo.alignments[-1]
    assert fit.n_inliers == int(good.sum()) and fit.scale == pytest.approx(2.0, rel=1e-3)
    few = np.zeros_like(pred)
    few[0, :5] = 9.0  # below min_anchors: the metric prediction is kept
    np.testing.assert_allclose(geo.process(Frame(6, 0.6, f.rgb, f.intrinsics, np.eye(4), few)).depth_m, pred,
                               rtol=1e-4)


def test_relative_depth_needs_anchors_and_aligns_in_inverse_depth(model_dir):
    geo = LearnedDepthGeometry(GeometryConfig(name="depth", options={
        "model_dir": str(model_dir / "relative-depth"), "model": "someone/relative-depth"}))
    assert geo.space == "inverse"
    f = frame(7)
    with pytest.raises(InputError, match="relative depth"):
        geo.process(f)
    pred = geo.predict([f.rgb])[0]
    truth = 1.0 / (0.5 * pred + 0.2)
    sparse = np.zeros_like(pred)
    sparse[::3, ::3] = truth[::3, ::3]
    out = geo.process(Frame(8, 0.8, f.rgb, f.intrinsics, np.eye(4), sparse))
    np.testing.assert_allclose(out.depth_m, np.where(truth <= 20.0, truth, 0.0), rtol=1e-3)


def test_fit_scale_shift_is_robust_in_both_spaces():
    rng = np.random.default_rng(0)
    z = rng.uniform(0.5, 6.0, 400)
    outl = rng.random(400) < 0.3
    for space, pred in (("depth", (z - 0.4) / 1.7), ("inverse", (1.0 / z - 0.05) / 0.8)):
        target = np.where(outl, z * rng.uniform(1.5, 3.0, 400), z)
        fit = fit_scale_shift(pred, target, space)
        assert fit is not None and fit.n_inliers == int((~outl).sum())
        np.testing.assert_allclose(fit.apply(pred)[~outl], z[~outl], rtol=1e-6)
    assert fit_scale_shift(np.ones(2), np.ones(2)) is None


def test_missing_weights_name_the_model_and_the_fix(model_dir, tmp_path, capsys):
    with pytest.raises(ModelWeightsError, match="no weights for .*--model-dir"):
        depth_backend(tmp_path)  # an empty folder
    with pytest.raises(ModelWeightsError) as err:
        load_pretrained("AutoModelForDepthEstimation", "spatialmem-test/no-such-model", offline=True)
    msg = str(err.value)
    assert "spatialmem-test/no-such-model" in msg and "HF_HOME" in msg and "--model-dir" in msg
    scene = kit.write_scene_folder(tmp_path, kit.World(), kit.orbit_poses([2.5, 2.0], 1.5, 2), kit.small_K())
    code = main(["ingest", str(scene), "--out", str(tmp_path / "m"), "--geometry", "depth",
                 "--model-dir", str(tmp_path / "nowhere")])
    out = capsys.readouterr().err
    assert code == 3 and "does not exist" in out and DEFAULT_DEPTH_MODEL in out and "Traceback" not in out


def test_missing_extra_names_the_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "transformers", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'spatialmem\[learned\]'"):
        load_pretrained("AutoModelForDepthEstimation", DEFAULT_DEPTH_MODEL)


def detector(model_dir, **opts) -> OpenVocabInstances:
    options = {"model_dir": str(model_dir), "threshold": 0.0, "vocabulary": ["chair", "table", "sofa"], **opts}
    return OpenVocabInstances(InstancesConfig(name="open-vocab", min_pixels=1, options=options))


def _key(dets):
    return [(d.category, round(d.score, 4), int(d.mask.sum())) for d in dets]


def test_open_vocab_typed_detections_features_and_batching(model_dir):
    det = detector(model_dir, batch_size=2)
    frames = [frame(0), frame(1, 48, 36), frame(2)]
    out = det.detect_batch(frames)
    assert len(out) == 3 and all(out)
    for f, dets in zip(frames, out, strict=True):
        for d in dets:
            assert isinstance(d, Detection2D) and d.frame_index == f.index
            assert d.mask.dtype == bool and d.mask.shape == f.rgb.shape[:2]
            assert d.category in ("chair", "table", "sofa") and 0.0 <= d.score <= 1.0
            assert d.feature.dtype == np.float32 and d.feature.shape == (16,)
            assert np.linalg.norm(d.feature) == pytest.approx(1.0, abs=1e-5)
    assert _key(detector(model_dir).detect(frames[1])) == _key(out[1])  # batched == one at a time
    cat, sim = det.category_of(out[0][0].feature)
    assert cat in det.vocabulary and -1.0 <= sim <= 1.0 and det.text_features().shape == (3, 16)
    prov = det.provenance()
    assert [m["model_id"] for m in prov["models"]] == ["google/owlv2-base-patch16-ensemble", "facebook/sam-vit-base"]


def test_open_vocab_thresholds_stride_nms_and_box_masks(model_dir, tmp_path):
    f = frame(4)
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [20, 20, 30, 30]], float)
    kept = nms(boxes, np.array([0.5, 0.9, 0.4, 0.3]), np.array([0, 0, 1, 0]), 0.5)
    assert kept.tolist() == [1, 2, 3]  # box 0 overlaps the better box 1 of its class; box 2 is another class
    everything = detector(model_dir, nms_iou=1.0, segmenter="none").detect(f)
    suppressed = detector(model_dir, nms_iou=0.1, segmenter="none").detect(f)
    assert 0 < len(suppressed) < len(everything) <= 16
    seen = [d.category for d in everything]
    cat = max(set(seen), key=seen.count)
    only = detector(model_dir, nms_iou=1.0, segmenter="none",
                    thresholds={c: 1.0 for c in ("chair", "table", "sofa") if c != cat}).detect(f)
    assert [d.category for d in only] == [c for c in seen if c == cat]  # per-category thresholds
    vocab = tmp_path / "v.txt"
    vocab.write_text("# mine\nchair: 1.0\nTrash  Bin\n")
    assert read_vocabulary(str(vocab)) == (("chair", "trash bin"), {"chair": 1.0})
    vocab.write_text("Trash  Bin  # one category: every box is one\n")
    from_file = detector(model_dir, vocabulary=str(vocab), segmenter="none").detect(f)
    assert from_file and {d.category for d in from_file} == {"trash bin"}
    bad = tmp_path / "bad.txt"
    bad.write_text("chair: 7\n")
    with pytest.raises(InputError, match="line 1"):
        read_vocabulary(str(bad))
    strided = detector(model_dir, stride=2).detect_batch([frame(10), frame(11)])
    assert strided[0] and strided[1] == []
    assert everything
    for d in everything:  # without SAM the mask is the filled box
        rows, cols = np.nonzero(d.mask)
        assert d.mask.sum() == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)


def test_learned_backends_through_the_builder_record_provenance(model_dir):
    w = kit.World()
    w.add(1, "table", [2.5, 2.0, 0.35], [1.0, 0.6, 0.7])
    rng = np.random.default_rng(0)  # textured images: the random tiny detector saturates on flat colours
    frames = [dataclasses.replace(f, rgb=rng.integers(0, 255, f.rgb.shape, dtype=np.uint8))
              for f in kit.frames(w, kit.orbit_poses([2.5, 2.0], 1.5, 4), kit.small_K(64, 48))]
    cfg = BuilderConfig(geometry=GeometryConfig("depth", options={"model_dir": str(model_dir), "batch_size": 4}),
                        instances=InstancesConfig("open-vocab", min_pixels=1,
                                                  options={"model_dir": str(model_dir), "threshold": 0.0,
                                                           "vocabulary": ["table"], "segmenter": "none"}),
                        min_observations=1, min_instance_points=1)
    b = MemoryBuilder(cfg)
    assert b.batch_size == 4
    b.step_batch(frames)
    mem = b.snapshot()
    p = mem.metadata["perception"]
    assert p["geometry"]["backend"] == "depth" and p["geometry"]["frames"] == 4
    assert p["geometry"]["output"] == "depth" and p["geometry"]["models"][0]["model_id"] == DEFAULT_DEPTH_MODEL
    assert len(p["instances"]["models"]) == 1 and p["instances"]["vocabulary"] == ["table"]
    assert {"torch", "transformers"} <= set(p["libraries"])
    assert mem.instances and all(i.category == "table" and i.feature is not None for i in mem.instances)


def test_sfm_hands_on_learned_depth_aligned_to_its_sparse_points(model_dir):
    from spatialmem.perception.sfm.backend import SfmGeometry

    sfm = SfmGeometry(GeometryConfig(name="sfm", options={"depth": {"model_dir": str(model_dir / "relative-depth")}}))
    f = frame(7)
    pred = sfm._depth.predict([f.rgb])[0]  # relative: inverse depth up to scale and shift
    rng = np.random.default_rng(2)
    sparse = np.zeros_like(pred)
    rows, cols = rng.integers(0, 30, 120), rng.integers(0, 40, 120)
    sparse[rows, cols] = 1.0 / (0.5 * pred[rows, cols] + 0.2)  # the SfM points, metric
    anchored = dataclasses.replace(f, depth_m=sparse, depth_intrinsics=f.intrinsics)
    bare = dataclasses.replace(frame(8), depth_m=np.zeros_like(pred), depth_intrinsics=f.intrinsics)
    out = [(0, anchored), (1, bare)]
    assert sfm._learned_depth(out) == [True, False]  # no anchors: left to densify (a relative model cannot run)
    np.testing.assert_allclose(out[0][1].depth_m, 1.0 / (0.5 * pred + 0.2), rtol=1e-3)
    assert out[0][1].world_from_camera is not None and out[1][1] is bare
    assert sfm.metadata()["learned_depth"]["frames_aligned"] == 1
