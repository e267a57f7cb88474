"""Working window, episodic keyframes (capacity + redundancy replacement), voxel cloud budget, camera track."""

import numpy as np
import pytest

from spatialmem.geometry.se3 import look_at
from spatialmem.memory.episodic import CameraTrack, KeyframeStore, VoxelCloud
from spatialmem.memory.instance_state import InstanceState
from spatialmem.memory.working import FrameRecord, WorkingMemory
from spatialmem.types import Intrinsics

K = Intrinsics.from_fov(64, 48, 60)


def rec(i: int, eye, target, visible: dict[int, int]) -> FrameRecord:
    return FrameRecord(i, i / 10, look_at(eye, target), K, np.zeros((48, 64, 3), np.uint8), (), list(visible),
                       dict(visible))


def test_working_memory_holds_the_last_w_frames():
    wm = WorkingMemory(3)
    evicted = [wm.push(rec(i, [0, 0, 1], [1, 0, 1], {})) for i in range(5)]
    assert [e is None for e in evicted] == [True, True, True, False, False]
    assert [e.frame_index for e in evicted[3:]] == [0, 1]
    assert [r.frame_index for r in wm.frames] == [2, 3, 4] and len(wm) == 3
    with pytest.raises(ValueError):
        WorkingMemory(0)


def test_working_memory_remaps_merged_instances():
    wm = WorkingMemory(2)
    wm.push(rec(0, [0, 0, 1], [1, 0, 1], {5: 100, 7: 10}))
    wm.remap(7, 5)
    assert wm.frames[0].visible == {5: 110}


def test_keyframe_capacity_is_respected_and_redundant_views_are_replaced():
    store = KeyframeStore(capacity=3)
    a = rec(0, [0, 0, 1.5], [1, 0, 1], {1: 500})
    b = rec(1, [0, 0, 1.5], [0, 1, 1], {2: 500})
    c = rec(2, [0, 0, 1.5], [-1, 0, 1], {3: 500})
    for r in (a, b, c):
        assert store.offer(r)
    # a near-duplicate of `a` showing nothing new: the most redundant of the pair goes (the older one)
    a2 = rec(3, [0.01, 0, 1.5], [1, 0, 1], {1: 500})
    assert store.offer(a2)
    assert len(store.entries) == 3 and sorted(r.frame_index for r in store.records()) == [1, 2, 3]
    # a new view of an unseen object replaces one of the redundant ones, never the sole view of an object
    d = rec(4, [3, 3, 1.5], [3, 4, 1], {4: 500})
    assert store.offer(d)
    kept = {iid for r in store.records() for iid in r.visible}
    assert len(store.entries) == 3 and 4 in kept
    assert store.replacements == 2


def test_keyframe_store_keeps_sole_views_and_clones_independently():
    store = KeyframeStore(capacity=2)
    store.offer(rec(0, [0, 0, 1.5], [1, 0, 1], {1: 500}))
    store.offer(rec(1, [2, 2, 1.5], [2, 3, 1], {2: 500}))
    store.offer(rec(2, [2, 2, 1.5], [2, 3, 1], {2: 500}))  # exact repeat of frame 1
    assert len(store.entries) == 2 and 0 in [r.frame_index for r in store.records()]
    before = [r.frame_index for r in store.records()]
    clone = store.clone()
    assert clone.offer(rec(3, [5, 5, 1.5], [5, 6, 1], {9: 50}))
    assert [r.frame_index for r in store.records()] == before and len(store.entries) == 2
    assert 3 in [r.frame_index for r in clone.records()]


def test_voxel_cloud_keeps_its_budget_by_coarsening():
    vc = VoxelCloud(voxel_m=0.05, budget=500)
    rng = np.random.default_rng(0)
    pts = rng.uniform(0, 2, (5000, 3)).astype(np.float32)
    vc.add(pts, np.full((5000, 3), 7, np.uint8))
    assert len(vc) <= 500 and vc.voxel_m > 0.05
    n, v = len(vc), vc.voxel_m
    vc.add(pts, np.zeros((5000, 3), np.uint8))  # same points again: nothing new
    assert len(vc) == n and vc.voxel_m == v and (vc.rgb == 7).all()


def test_camera_track_thins_but_keeps_keyframes_and_ends():
    tr = CameraTrack(max_cameras=8)
    for i in range(100):
        tr.add(i, i / 10, np.eye(4), protected={3}, intrinsics=K)
    idx = [s.frame_index for s in tr.samples]
    assert len(idx) <= 9 and idx[0] == 0 and 3 in idx and idx == sorted(idx)
    assert tr.stride > 1


def test_instance_voxel_cap_coarsens_instead_of_growing():
    inst = InstanceState(1, "table", voxel_m=0.01, max_voxels=300, assoc_voxel_m=0.05)
    rng = np.random.default_rng(0)
    for _ in range(5):
        inst.add_points(rng.uniform([0, 0, 0.7], [1.2, 0.8, 0.75], (3000, 3)))
    assert len(inst) <= 300 and inst.voxel_m > 0.01
    p = inst.points
    assert p[:, 0].min() < 0.1 and p[:, 0].max() > 1.1  # still covers the whole top


def test_feature_mean_ignores_featureless_observations():
    inst = InstanceState(1, "chair", voxel_m=0.02, max_voxels=100, assoc_voxel_m=0.05)
    a, b = np.array([1.0, 0.0], np.float32), np.array([0.0, 1.0], np.float32)
    inst.observe(0, 0.0, a)
    inst.observe(1, 0.1, None)
    inst.observe(2, 0.2, None)
    inst.observe(3, 0.3, b)
    np.testing.assert_allclose(inst.feature, [0.5, 0.5])
    other = InstanceState(2, "chair", voxel_m=0.02, max_voxels=100, assoc_voxel_m=0.05)
    other.observe(4, 0.4, None)
    other.observe(5, 0.5, b)
    inst.absorb(other)  # weights: 2 featured observations here, 1 there
    np.testing.assert_allclose(inst.feature, [1 / 3, 2 / 3], rtol=1e-6)
    assert inst.n_observations == 6 and inst.n_features == 3


def test_episodic_memory_consolidates_evicted_frames_into_bounded_keyframes():
    from spatialmem.memory.episodic import EpisodicMemory

    ep = EpisodicMemory(keyframe_capacity=1, keyframe_width=32)
    a = rec(0, [0, 0, 1.5], [1, 0, 1], {1: 500})
    b = rec(1, [0, 0, 1.5], [1, 0, 1], {})  # the same view, showing nothing a keeps the only view of
    assert ep.consolidate(a) and a.rgb.shape == (24, 32, 3) and a.intrinsics.width == 32
    assert a.full_intrinsics.width == 64 and [s.frame_index for s in ep.track.samples] == [0]
    assert not ep.consolidate(b) and b.rgb.size == 0 and b.observations == ()
    assert len(ep.keyframes.entries) == 1
