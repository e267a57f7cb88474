"""Lift, association, the builder's snapshot and its bounded per-frame cost, on tiny ray-cast worlds."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from spatialmem.geometry.boxes import iou_3d
from spatialmem.geometry.se3 import look_at
from spatialmem.memory.builder import BuilderConfig, MemoryBuilder, build_memory
from spatialmem.memory.lift import LiftConfig, lift_detections
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.types import Detection2D

_spec = importlib.util.spec_from_file_location("mem_scene_kit", Path(__file__).with_name("mem_scene_kit.py"))
kit = sys.modules.setdefault("mem_scene_kit", importlib.util.module_from_spec(_spec))
if not hasattr(kit, "World"):
    _spec.loader.exec_module(kit)

CFG = BuilderConfig(lift=LiftConfig(stride=1), maintenance_every=5)


def two_chairs_world(gap: float = 0.15) -> "kit.World":
    w = kit.World()
    w.add(1, "chair", [2.0, 2.0, 0.45], [0.5, 0.5, 0.9])
    w.add(2, "chair", [2.5 + gap, 2.0, 0.45], [0.5, 0.5, 0.9])
    w.add(3, "table", [3.2, 3.0, 0.375], [1.2, 0.7, 0.75], 0.3)
    return w


@pytest.fixture(scope="module")
def orbit_frames():
    w = two_chairs_world()
    K = kit.small_K(128, 96)
    return w, kit.frames(w, kit.orbit_poses([2.5, 2.3], 1.5, 16, target_z=0.4), K)


def test_lift_keeps_the_object_and_drops_mask_bleed():
    w = kit.World()
    w.add(1, "box", [2.5, 2.0, 0.3], [0.6, 0.6, 0.6])
    K = kit.small_K(128, 96)
    (f,) = kit.frames(w, [look_at([2.5, 0.3, 1.2], [2.5, 2.0, 0.3])], K)
    mask = f.instance_ids == 1
    bleed = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    bleed[ys.min():ys.max() + 1, xs.max() + 1:xs.max() + 4] = True  # a 3-px rim on the wall behind
    obs, cloud = lift_detections(f, [Detection2D(0, "box", mask | bleed)], LiftConfig(stride=1, voxel_m=0.01))
    (o,) = obs
    assert o.points_world[:, 1].max() < 2.3 + 0.011  # nothing from the wall 1.7 m behind
    assert o.points_world[:, 0].max() == pytest.approx(2.8, abs=0.011)
    assert o.pixel_count == int((mask | bleed).sum())
    assert o.mask_fraction == pytest.approx(o.pixel_count / mask.size)
    assert cloud.claimed.sum() == (mask | bleed).sum() and not cloud.structure_mask()[mask].any()


def test_builder_recovers_objects_and_keeps_adjacent_chairs_apart(orbit_frames):
    w, frames = orbit_frames
    mem = build_memory(frames, CFG)
    assert sorted(i.category for i in mem.instances) == ["chair", "chair", "table"]
    truth = {i: b for i, _, b in w.boxes}
    for inst in mem.instances:
        best = max(iou_3d(inst.box, b) for i, c, b in w.boxes if c == inst.category)
        assert best > 0.85, (inst.category, inst.box.to_dict())
    chairs = sorted((i for i in mem.instances if i.category == "chair"), key=lambda i: i.box.center[0])
    np.testing.assert_allclose(chairs[0].box.center, truth[1].center, atol=0.03)
    np.testing.assert_allclose(chairs[1].box.center, truth[2].center, atol=0.03)
    assert all(i.n_observations >= 8 for i in mem.instances)
    assert mem.instances[0].first_seen_s == 0.0 and mem.instances[0].last_seen_s > 1.0


def test_same_object_seen_from_opposite_sides_becomes_one_instance():
    w = kit.World()
    w.add(1, "sofa", [2.5, 2.0, 0.45], [2.0, 0.9, 0.9])
    K = kit.small_K(128, 96)
    front = look_at([2.5, 0.4, 1.6], [2.5, 2.0, 0.4])
    back = look_at([2.5, 3.7, 1.6], [2.5, 2.0, 0.4])
    frames = kit.frames(w, [front, front, back, back], K)
    mem = build_memory(frames, dataclasses.replace(CFG, maintenance_every=1))
    assert len(mem.instances) == 1
    assert iou_3d(mem.instances[0].box, w.boxes[0][2]) > 0.9


def test_association_ignores_source_instance_ids(orbit_frames):
    """Shuffling the source's ids per frame (same masks, same labels) must not change the memory."""
    w, frames = orbit_frames
    rng = np.random.default_rng(5)
    shuffled = []
    for f in frames:
        a, b = rng.permutation([1, 2]) + 10 * rng.integers(1, 5)
        perm = {1: int(a), 2: int(b), 3: 77}
        lut = np.zeros(4, np.int32)
        lut[[1, 2, 3]] = [perm[1], perm[2], perm[3]]
        ids = lut[f.instance_ids]
        labels = {perm[k]: v for k, v in f.instance_labels.items()}
        shuffled.append(dataclasses.replace(f, instance_ids=ids, instance_labels=labels))
    m1, m2 = build_memory(frames, CFG), build_memory(shuffled, CFG)
    c1 = sorted((i.category, tuple(np.round(i.box.center, 4))) for i in m1.instances)
    c2 = sorted((i.category, tuple(np.round(i.box.center, 4))) for i in m2.instances)
    assert c1 == c2


def test_per_frame_state_stays_bounded_on_a_long_repeated_stream(orbit_frames):
    w, frames = orbit_frames
    cfg = dataclasses.replace(CFG, window=4, keyframes=6, max_cameras=64, instance_max_voxels=800,
                              scene_point_budget=3000)
    b = MemoryBuilder(cfg)
    sizes = []
    for k in range(240):
        f = frames[k % len(frames)]
        b.step(dataclasses.replace(f, index=k, timestamp_s=k / 10.0))
        if k in (60, 239):
            sizes.append((len(b.instances), sum(len(i) for i in b.instances.values()), len(b.cloud)))
    assert sizes[0][0] == sizes[1][0] == 3  # no duplicates appear however often things are seen
    assert all(len(i) <= 800 for i in b.instances.values())
    assert sizes[1][1] <= sizes[0][1] * 1.05 + 50 and len(b.cloud) <= 3000
    assert len(b.working) == 4 and len(b.keyframes.entries) == 6
    assert len(b.track.samples) <= 64 + 6
    mem = b.snapshot()
    assert len(mem.keyframes) == 6 and mem.metadata["n_frames"] == 240
    kf = {k.frame_index for k in mem.keyframes}
    assert {k.frame_index for k in mem.keyframes} <= {c.frame_index for c in mem.cameras}
    for inst in mem.instances:
        assert set(inst.keyframe_indices) <= kf and inst.n_observations > 200
        assert inst.first_seen_s == 0.0 and inst.last_seen_s >= 23.0
    assert [c.frame_index for c in mem.cameras] == sorted(c.frame_index for c in mem.cameras)


def test_snapshot_mid_stream_is_consistent_and_immutable(orbit_frames):
    _, frames = orbit_frames
    b = MemoryBuilder(CFG, scene_id="mid")
    for f in frames[:3]:
        b.step(f)
    m1 = b.snapshot()
    assert m1.scene_id == "mid" and len(m1.cameras) == 3 and 1 <= len(m1.keyframes) <= 3
    n1 = len(m1.instances)
    for f in frames[3:]:
        b.step(f)
    m2 = b.snapshot()
    assert len(m1.cameras) == 3 and len(m1.instances) == n1  # the earlier snapshot did not change
    assert len(m2.cameras) == len(frames) and len(m2.instances) == 3
    assert all(k.rgb.shape[1] <= 320 and k.rgb.dtype == np.uint8 for k in m2.keyframes)
    assert len(m2.points_world) == len(m2.colors_rgb) > 100


def test_l_shaped_room_area_within_five_percent():
    w = kit.World(polygon=kit.L_SHAPE.copy(), height=2.5)
    w.add(1, "bed", [1.0, 4.8, 0.3], [1.6, 2.0, 0.6])
    w.add(2, "cabinet", [5.6, 1.5, 0.5], [0.6, 1.2, 1.0])
    K = kit.small_K(96, 72, hfov=80)
    poses = []
    for cx, cy in ([1.5, 1.5], [4.5, 1.5], [1.5, 4.5]):
        poses += kit.orbit_poses([cx, cy], 0.2, 10, height=1.5)
    b = MemoryBuilder(dataclasses.replace(CFG, lift=LiftConfig(stride=1)))
    for f in kit.frames(w, _outward(poses), K):
        b.step(f)
    room = b.snapshot().room
    assert room is not None and room.floor_z == pytest.approx(0.0, abs=0.01)
    assert room.area_m2 == pytest.approx(27.0, rel=0.05)
    assert room.ceiling_z is None or room.ceiling_z == pytest.approx(2.5, abs=0.02)


def _outward(poses):
    """Cameras that look outwards (away from their orbit centre) so they see the walls."""
    out = []
    for k, T in enumerate(poses):
        eye = T[:3, 3]
        a = 2 * np.pi * (k % 10) / 10
        out.append(look_at(eye, eye + [np.cos(a), np.sin(a), -0.35]))
    return out


def test_object_seen_piecewise_in_different_frames_is_merged_but_covisible_neighbours_are_not():
    w = kit.World()
    w.add(1, "door", [2.5, 3.95, 1.0], [0.9, 0.06, 2.0])
    w.add(2, "door", [3.55, 3.95, 1.0], [0.9, 0.06, 2.0])  # a second door 15 cm to the right
    K = kit.small_K(128, 96, hfov=50)
    low = [look_at([2.5 + dx, 2.4, 0.5], [2.5 + dx, 3.9, 0.5]) for dx in (-0.05, 0.0, 0.05)]
    high = [look_at([2.5 + dx, 2.4, 1.55], [2.5 + dx, 3.9, 1.55]) for dx in (-0.05, 0.0, 0.05)]
    both = [look_at([3.0, 1.0, 1.0], [3.0, 3.9, 1.0])] * 3
    frames = kit.frames(w, low + high + both, K)
    mem = build_memory(frames, dataclasses.replace(CFG, maintenance_every=1))
    doors = sorted(mem.by_category("door"), key=lambda i: i.box.center[0])
    assert len(doors) == 2
    for d, (_, _, truth) in zip(doors, w.boxes, strict=True):  # only the front faces were seen: check width, height
        assert d.box.size[0] == pytest.approx(0.9, abs=0.03) and d.box.size[2] == pytest.approx(2.0, abs=0.03)
        assert d.box.center[[0, 2]] == pytest.approx(truth.center[[0, 2]], abs=0.02)
        assert abs(np.sin(d.box.yaw)) < 0.03


def test_noisy_depth_still_gives_one_instance_per_object(orbit_frames):
    w, frames = orbit_frames
    cfg = dataclasses.replace(CFG, geometry=GeometryConfig("fake", options={"depth_noise_m": 0.01, "seed": 3}),
                              box_trim_fraction=0.01)
    mem = build_memory(frames, cfg)
    assert sorted(i.category for i in mem.instances) == ["chair", "chair", "table"]
    for inst in mem.instances:
        assert max(iou_3d(inst.box, b) for _, c, b in w.boxes if c == inst.category) > 0.6


def test_features_keep_geometrically_overlapping_observations_apart(orbit_frames):
    """Same category and same place, but dissimilar features (e.g. a picture replaced by another): two instances."""
    _, frames = orbit_frames
    f0, f1 = frames[0], frames[1]
    m0, m1 = f0.instance_ids == 1, f1.instance_ids == 1
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    canned = {0: [Detection2D(0, "chair", m0, 1.0, a)], 1: [Detection2D(1, "chair", m1, 1.0, b)],
              2: [Detection2D(2, "chair", m0, 1.0, a)]}
    seq = [f0, f1, dataclasses.replace(f0, index=2, timestamp_s=0.2)]
    cfg = dataclasses.replace(CFG, instances=InstancesConfig("fake", options={"detections": canned}),
                              min_observations=1)
    mem = build_memory(seq, cfg)
    assert len(mem.instances) == 2
    assert sorted(i.n_observations for i in mem.instances) == [1, 2]
    same = {0: canned[0], 1: [Detection2D(1, "chair", m1, 1.0, a)]}
    mem2 = build_memory(seq[:2], dataclasses.replace(cfg, instances=InstancesConfig("fake",
                                                                                  options={"detections": same})))
    assert len(mem2.instances) == 1 and mem2.instances[0].feature is not None


def test_sighting_fraction_is_exact_when_masks_are_coarser_than_the_id_image(orbit_frames):
    """A detector whose masks are at half the id image's resolution: the sighting test uses the mask fraction."""
    w, frames = orbit_frames
    frac = 0.04
    b = MemoryBuilder(dataclasses.replace(CFG, sighting_min_fraction=frac))
    inner = b.detector

    class Coarse:
        def detect(self, frame):
            return [dataclasses.replace(d, mask=d.mask[::2, ::2]) for d in inner.detect(frame)]

    b.detector = Coarse()
    for f in frames:
        b.step(f)
    mem = b.snapshot()
    assert len(mem.instances) >= 2
    for inst in mem.instances:
        oid = min(w.boxes, key=lambda t: np.linalg.norm(t[2].center - inst.box.center))[0]
        coarse = [f.instance_ids[::2, ::2] == oid for f in frames]
        sighted = [f.timestamp_s for f, m in zip(frames, coarse) if m.sum() >= frac * m.size]
        assert sighted, inst.category
        assert inst.first_seen_s == pytest.approx(sighted[0]), inst.category


def test_first_seen_counts_only_sightings_not_border_slivers(orbit_frames):
    """first_seen_s is the first frame whose mask reaches the sighting fraction, as the benchmark defines it."""
    w, frames = orbit_frames
    frac = 0.04
    mem = build_memory(frames, dataclasses.replace(CFG, sighting_min_fraction=frac))
    for inst in mem.instances:
        oid = min(w.boxes, key=lambda t: np.linalg.norm(t[2].center - inst.box.center))[0]
        counts = [int(np.sum(f.instance_ids == oid)) for f in frames]
        sighted = [f.timestamp_s for f, c in zip(frames, counts) if c >= frac * f.instance_ids.size]
        expected = sighted[0] if sighted else min(f.timestamp_s for f, c in zip(frames, counts) if c > 0)
        assert inst.first_seen_s == pytest.approx(expected), (inst.category, counts)
    # with a huge threshold nothing is ever "sighted": the first observation of any size is the fallback
    mem_any = build_memory(frames, dataclasses.replace(CFG, sighting_min_fraction=1.0))
    assert min(i.first_seen_s for i in mem_any.instances) == frames[0].timestamp_s


def test_builder_config_holds_the_backend_configs_with_their_one_set_of_defaults(orbit_frames):
    """BuilderConfig nests GeometryConfig/InstancesConfig (no flat copies of their fields); the memory's
    metadata keeps the backend *names* as strings and the provenance keeps ``backend`` + ``options``."""
    _, frames = orbit_frames
    assert BuilderConfig().geometry == GeometryConfig() and BuilderConfig().instances == InstancesConfig()
    assert not {"geometry_options", "instances_options", "min_mask_pixels"} & {
        f.name for f in dataclasses.fields(BuilderConfig)}
    with pytest.raises(TypeError, match=r"geometry=GeometryConfig\('fake'\)"):
        BuilderConfig(geometry="fake")
    cfg = dataclasses.replace(CFG, instances=InstancesConfig("given", min_pixels=10**9))
    b = MemoryBuilder(cfg)
    assert b.detector.config is cfg.instances  # the builder hands the config on, not a re-packed copy
    b.step(frames[0])
    assert b.n_instances == 0  # min_pixels reached the backend
    mem = build_memory(frames[:2], dataclasses.replace(
        CFG, geometry=GeometryConfig("fake", options={"seed": 1})))
    assert mem.metadata["geometry"] == "fake" and mem.metadata["instances"] == "given"
    assert mem.metadata["perception"]["geometry"]["backend"] == "fake"
    assert mem.metadata["perception"]["geometry"]["options"] == {"seed": 1}
