"""Fast checks of the SfM building blocks: keyframe choice, similarity alignment, interpolation, sparse depth."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spatialmem.perception.sfm.keyframes import KeyframeConfig, KeyframeSelector, image_motion, thumbnail
from spatialmem.perception.sfm.poses import Sim3, align_poses, interpolate_pose, sparse_depth, umeyama
from spatialmem.types import Intrinsics


def _texture(seed: int = 0, w: int = 400, h: int = 240) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 8, w // 8, 3), dtype=np.uint8)
    return np.repeat(np.repeat(small, 8, axis=0), 8, axis=1)


def _pose(rotvec, t) -> np.ndarray:
    T = np.eye(4)
    T[:3, :3] = Rotation.from_rotvec(rotvec).as_matrix()
    T[:3, 3] = t
    return T


def test_image_motion_grows_with_the_shift():
    big = _texture(1, 480, 240)
    a = thumbnail(big[:, :320], 96)
    small = thumbnail(big[:, 8:328], 96)
    large = thumbnail(big[:, 60:380], 96)
    assert image_motion(a, a) < 0.01
    assert image_motion(a, small) < image_motion(a, large)
    assert image_motion(a, large) > 0.15


def test_keyframes_follow_motion_and_skip_blur():
    big = _texture(2, 1200, 240)
    sel = KeyframeSelector(KeyframeConfig(min_motion=0.06, max_gap=100, blur_window=2))
    static = [k for i in range(10) for k in sel.offer(i, big[:, :320])]
    assert static == [0]  # no motion: only the first frame
    sel = KeyframeSelector(KeyframeConfig(min_motion=0.06, max_gap=100, blur_window=2))
    keys = []
    for i in range(30):
        img = big[:, 10 * i:10 * i + 320].copy()
        if i % 2 == 1:  # every other frame is blurred (a box filter along x)
            img = np.mean([np.roll(img, s, axis=1) for s in range(-6, 7)], axis=0).astype(np.uint8)
        keys += sel.offer(i, img)
    assert len(keys) >= 5  # 290 px of motion at >= 0.06 * 320 px per keyframe
    assert all(k % 2 == 0 for k in keys)  # the sharp neighbour wins over a blurred candidate


def test_align_poses_recovers_a_similarity():
    rng = np.random.default_rng(3)
    truth = Sim3(2.5, Rotation.from_rotvec([0.2, -0.4, 1.0]).as_matrix(), np.array([1.0, -2.0, 0.5]))
    model = [_pose(rng.normal(size=3) * 0.3, rng.normal(size=3)) for _ in range(5)]
    world = [truth.pose(m) for m in model]
    est = align_poses(model, world)
    assert est is not None
    assert est.scale == pytest.approx(2.5, rel=1e-9)
    np.testing.assert_allclose(est.rotation, truth.rotation, atol=1e-9)
    np.testing.assert_allclose(est.translation, truth.translation, atol=1e-9)
    assert align_poses(model[:1], world[:1]) is None
    pts = rng.normal(size=(10, 3))
    u = umeyama(pts, truth.points(pts))
    assert u.scale == pytest.approx(2.5)
    both = truth.then(Sim3(0.5, np.eye(3), np.zeros(3)))
    np.testing.assert_allclose(both.points(pts), 0.5 * truth.points(pts))


def test_interpolate_pose_halfway():
    a, b = _pose([0, 0, 0], [0, 0, 0]), _pose([0, 0, np.pi / 2], [2.0, 0, 0])
    mid = interpolate_pose(a, b, 0.5)
    np.testing.assert_allclose(mid[:3, 3], [1.0, 0, 0])
    np.testing.assert_allclose(Rotation.from_matrix(mid[:3, :3]).as_rotvec(), [0, 0, np.pi / 4], atol=1e-9)


def test_sparse_depth_projects_splats_and_hides_occluded_points():
    K = Intrinsics(100.0, 100.0, 50.0, 40.0, 100, 80)
    T = np.eye(4)
    pts = np.array([[0.0, 0.0, 2.0], [0.01, 0.0, 4.0], [1.0, 0.0, 2.0], [0.0, 0.0, -1.0]])
    d = sparse_depth(pts, T, K, splat=2)
    assert d[40, 50] == pytest.approx(2.0)  # the near point wins its pixel block
    assert (d > 3).sum() == 0  # the far point behind it (same 8 px cell) is hidden
    assert (d == 2.0).sum() == 4  # one 2 x 2 splat; the point at x = 1 m projects outside (u = 100)
    uv = np.array([[10.2, 20.7]], np.float32)
    d2 = sparse_depth(pts[:1], T, K, uv=uv, splat=2)
    assert d2[21, 10] == pytest.approx(2.0) and d2[20, 10] == pytest.approx(2.0)
