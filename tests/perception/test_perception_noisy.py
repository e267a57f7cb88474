"""The ``noisy`` backends: each error's rate matches its parameter within sampling tolerance."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from spatialmem.errors import InputError
from spatialmem.geometry.se3 import look_at
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.perception.noise import PRESETS, confusion_partners, geometry_noise, instance_noise, preset_table
from spatialmem.perception.noisy import NoisyGeometry, NoisyInstances
from spatialmem.types import Frame, Intrinsics

CATS = ("sofa", "chair", "table", "desk", "cabinet", "dresser")


def grid_frame(index: int, n: int = 8, cell: int = 20, gap: int = 4, width: int | None = None) -> Frame:
    """A frame whose id image is an n x n grid of square objects (ids 1..n², categories cycling CATS)."""
    side = n * (cell + gap) + gap
    ids = np.zeros((side, side), np.int32)
    labels = {}
    for k in range(n * n):
        r, c = divmod(k, n)
        y, x = gap + r * (cell + gap), gap + c * (cell + gap)
        ids[y:y + cell, x:x + cell] = k + 1
        labels[k + 1] = CATS[k % len(CATS)]
    K = Intrinsics.from_fov(side, side, 60.0)
    return Frame(index, index / 10, np.zeros((side, side, 3), np.uint8), K, instance_ids=ids, instance_labels=labels)


def run(frames, **noise):
    det = NoisyInstances(InstancesConfig(name="noisy", min_pixels=1, options=noise))
    return [det.detect(f) for f in frames]


def test_misses_match_rate():
    frames = [grid_frame(i) for i in range(100)]
    out = run(frames, miss_rate=0.2)
    kept = sum(len(d) for d in out) / (64 * 100)
    assert abs((1 - kept) - 0.2) < 0.02  # 3 sigma of 6400 draws is 0.015


def test_false_positives_poisson_mean_and_plausible_labels():
    frames = [grid_frame(i) for i in range(200)]
    out = run(frames, false_positives_per_frame=0.5)
    extra = np.array([len(d) - 64 for d in out])
    assert extra.min() >= 0
    assert abs(extra.mean() - 0.5) < 0.15  # 3 sigma of the mean of 200 Poisson(0.5) draws
    assert abs(extra.var() - 0.5) < 0.25
    fp_cats = {d.category for dets in out for d in dets[64:]}
    plausible = set(CATS) | {p for c in CATS for p in confusion_partners(c)}
    assert fp_cats and fp_cats <= plausible


def test_confusion_is_systematic_per_object_and_between_partners():
    frames = [grid_frame(i, n=20, cell=6, gap=2) for i in range(3)]
    out = run(frames, confusion_rate=0.3)
    truth = frames[0].instance_labels
    labels = [[d.category for d in dets] for dets in out]
    assert labels[0] == labels[1] == labels[2]  # the same objects are confused in every frame
    wrong = [(truth[k + 1], c) for k, c in enumerate(labels[0]) if c != truth[k + 1]]
    assert abs(len(wrong) / 400 - 0.3) < 0.07  # 3 sigma of 400 objects is 0.069
    assert all(c in confusion_partners(t) for t, c in wrong)


def test_flicker_is_per_frame_and_matches_rate():
    frames = [grid_frame(i) for i in range(60)]
    out = run(frames, flicker_rate=0.1)
    truth = frames[0].instance_labels
    flips = [d.category != truth[k + 1] for dets in out for k, d in enumerate(dets)]
    assert len(flips) == 64 * 60
    assert abs(np.mean(flips) - 0.1) < 0.015
    per_frame = [sum(d.category != truth[k + 1] for k, d in enumerate(dets)) for dets in out]
    assert len(set(per_frame)) > 1 and max(per_frame) < 64


def test_mask_erosion_dilation_radius_statistics():
    # 640 px wide id image so mask_px is in pixels; each square's bounding box grows or shrinks by 2r
    frames = [grid_frame(i, n=8, cell=60, gap=20) for i in range(30)]
    assert frames[0].instance_ids.shape[1] == 660
    out = run(frames, mask_px=4.0)
    radii = []
    for dets in out:
        for d in dets:
            rows = np.nonzero(d.mask.any(axis=1))[0]
            radii.append((len(rows) - 60) / 2)
    radii = np.array(radii)
    scale = 660 / 640
    # r = round(U(0, 4 * scale)): mean ~ 2 * scale, both signs about equally often
    assert abs(np.abs(radii).mean() - 2.0 * scale) < 0.15
    grown, shrunk = (radii > 0).sum(), (radii < 0).sum()
    assert abs(grown / (grown + shrunk) - 0.5) < 0.06
    assert np.abs(radii).max() <= 4.0 * scale + 0.5


def test_split_fragments_match_rate():
    frames = [grid_frame(i) for i in range(50)]
    out = run(frames, split_rate=0.25)
    n = sum(len(d) for d in out)
    assert abs((n - 64 * 50) / (64 * 50) - 0.25) < 0.035  # each split adds exactly one fragment
    truth = frames[0].instance_ids
    for d in out[0]:
        assert np.unique(truth[d.mask]).size == 1  # fragments stay inside their object


def test_noise_is_deterministic_in_the_seed():
    f = grid_frame(5)
    a = run([f], miss_rate=0.3, flicker_rate=0.3, mask_px=3, seed=1)[0]
    b = run([f], miss_rate=0.3, flicker_rate=0.3, mask_px=3, seed=1)[0]
    c = run([f], miss_rate=0.3, flicker_rate=0.3, mask_px=3, seed=2)[0]
    key = lambda ds: [(d.category, int(d.mask.sum())) for d in ds]  # noqa: E731
    assert key(a) == key(b) and key(a) != key(c)


def depth_frame(index: int, eye=(1.0, 1.0, 1.5), near: float = 1.0, far: float = 4.0) -> Frame:
    K = Intrinsics.from_fov(100, 80, 60.0)
    depth = np.full((80, 100), near, np.float32)
    depth[:, 50:] = far
    pose = look_at(eye, np.add(eye, [1.0, 0.0, 0.0]))
    return Frame(index, index / 10, np.zeros((80, 100, 3), np.uint8), K, world_from_camera=pose, depth_m=depth)


def test_depth_noise_grows_with_distance():
    geo = NoisyGeometry(GeometryConfig(name="noisy", options={"depth_rel": 0.05}))
    out = geo.process(depth_frame(0)).depth_m
    near, far = out[:, :50] - 1.0, out[:, 50:] - 4.0
    assert abs(near.std() - 0.05) < 0.005 and abs(far.std() - 0.2) < 0.02
    assert abs(near.mean()) < 0.01 and abs(far.mean()) < 0.04


def test_global_scale_error_scales_depth_and_translation():
    geo = NoisyGeometry(GeometryConfig(name="noisy", options={"scale_error": 0.1, "seed": 4}))
    f0, f1 = depth_frame(0), depth_frame(1, eye=(3.0, 2.0, 1.5))
    g0, g1 = geo.process(f0), geo.process(f1)
    s = geo.scale
    assert s in (pytest.approx(1.1), pytest.approx(0.9))
    assert np.allclose(g1.depth_m / f1.depth_m, s, atol=1e-6)
    c0 = f0.world_from_camera[:3, 3]  # the first camera stays; the others move away from it by the scale
    assert np.allclose(g0.world_from_camera[:3, 3], c0)
    assert np.allclose(g1.world_from_camera[:3, 3], c0 + s * (f1.world_from_camera[:3, 3] - c0))
    assert np.allclose(g1.world_from_camera[:3, :3], f1.world_from_camera[:3, :3])


def test_pose_drift_is_a_random_walk_with_the_given_steps():
    geo = NoisyGeometry(GeometryConfig(name="noisy", options={"drift_m_per_frame": 0.01, "drift_deg_per_frame": 0.2}))
    poses = [geo.process(depth_frame(k)).world_from_camera for k in range(500)]
    pos = np.array([T[:3, 3] for T in poses])
    yaw = np.unwrap([np.arctan2(T[1, 2], T[0, 2]) for T in poses])  # heading of the optical axis
    assert abs(np.diff(pos, axis=0).std() - 0.01) < 0.001
    assert abs(np.degrees(np.diff(yaw)).std() - 0.2) < 0.02
    tilt = [abs(T[2, 2]) for T in poses]
    assert max(tilt) < 1e-9  # the optical axis stays horizontal: drift is in yaw only


def test_presets_grow_with_level_and_options_override():
    inst = [instance_noise({"level": lvl}) for lvl in ("low", "medium", "high")]
    geo = [geometry_noise({"level": lvl}) for lvl in ("low", "medium", "high")]
    for a, b in ((inst[0], inst[1]), (inst[1], inst[2]), (geo[0], geo[1]), (geo[1], geo[2])):
        for f in dataclasses.fields(a):
            if f.name != "seed":
                assert getattr(a, f.name) < getattr(b, f.name), f.name
    assert instance_noise({"level": "medium", "miss_rate": "0.5"}).miss_rate == 0.5
    with pytest.raises(InputError, match="low, medium, high"):
        instance_noise({"level": "extreme"})
    with pytest.raises(InputError, match="miss_rate"):
        instance_noise({"miss_rate": 2})
    assert preset_table().count("\n") == 2 + len(dataclasses.fields(inst[0])) + len(dataclasses.fields(geo[0])) - 3
    assert set(PRESETS) == {"low", "medium", "high"}


def test_docs_preset_table_is_in_sync():
    from pathlib import Path

    text = (Path(__file__).parents[2] / "docs" / "perception.md").read_text(encoding="utf-8")
    block = text.split("<!-- noise-presets:start -->\n", 1)[1].split("\n<!-- noise-presets:end -->", 1)[0]
    assert block == preset_table(), "regenerate with: python -c 'from spatialmem.perception.noise import " \
                                    "preset_table; print(preset_table())'"


def test_scenes_sharing_object_ids_draw_their_own_confusions_and_scale():
    """Synthetic scenes number their objects 1..N alike: the draws must differ per scene, and the confused
    fraction over many scenes must match the rate (it was the same objects in every scene)."""
    rate = 0.2
    confused = []
    for k in range(40):
        det = NoisyInstances(InstancesConfig(name="noisy", options={"confusion_rate": rate}))
        det.bind_scene(f"scene_{k:05d}")
        confused.append(frozenset(oid for oid in range(1, 26) if det._object_label(oid, "sofa") != "sofa"))
    assert len(set(confused)) > 30  # not one pattern repeated in every scene
    frac = sum(len(c) for c in confused) / (40 * 25)
    assert abs(frac - rate) < 0.05
    scales = set()
    for k in range(20):
        geo = NoisyGeometry(GeometryConfig(name="noisy", options={"scale_error": 0.05}))
        geo.bind_scene(f"scene_{k:05d}")
        scales.add(round(geo.scale, 6))
    assert scales == {0.95, 1.05}


def test_the_builder_binds_simulated_backends_to_its_scene():
    from spatialmem.memory.builder import BuilderConfig, MemoryBuilder
    from spatialmem.perception.noisy import scene_key

    b = MemoryBuilder(BuilderConfig(geometry=GeometryConfig(name="noisy"), instances=InstancesConfig(name="noisy")),
                      scene_id="scene_00007")
    assert b.detector.provenance()["scene_key"] == b.geometry.provenance()["scene_key"] == scene_key("scene_00007")
