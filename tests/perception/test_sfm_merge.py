"""Merging the pieces of an incremental reconstruction (no pycolmap needed: plain arrays)."""

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from spatialmem.perception.sfm.merge import Model, merge_models, ransac_sim3
from spatialmem.perception.sfm.poses import Sim3

RNG = np.random.default_rng(7)
POINTS = RNG.uniform(-3, 3, (120, 3))  # the scene, world frame
#: the second model's frame: world = TRUTH(model)
TRUTH = Sim3(0.4, Rotation.from_rotvec([0.3, -0.2, 1.1]).as_matrix(), np.array([2.0, -1.0, 0.5]))


def _pose(x: float) -> np.ndarray:
    T = np.eye(4)
    T[:3, 3] = [x, 0.0, 0.0]
    return T


def _inverse(sim: Sim3) -> Sim3:
    R = sim.rotation.T
    return Sim3(1.0 / sim.scale, R, -R @ sim.translation / sim.scale)


def _model(image_ids, frame: Sim3 | None, rows: np.ndarray) -> Model:
    """Cameras at x = image id (world), seeing POINTS[rows] with keypoint k -> point k of ``rows``."""
    to_model = _inverse(frame) if frame is not None else Sim3.identity()
    poses = {i: to_model.pose(_pose(float(i))) for i in image_ids}
    kp = {i: np.arange(len(rows), dtype=np.int64) for i in image_ids}
    return Model(poses, kp, to_model.points(POINTS[rows]))


def test_ransac_sim3_ignores_outliers():
    src = RNG.normal(size=(60, 3))
    dst = TRUTH.points(src)
    dst[:15] += RNG.normal(scale=2.0, size=(15, 3))  # a quarter are wrong
    sim, inl = ransac_sim3(src, dst, threshold=0.05)
    assert sim is not None and inl[15:].all() and not inl[:15].any()
    assert sim.scale == pytest.approx(TRUTH.scale, rel=1e-9)
    np.testing.assert_allclose(sim.rotation, TRUTH.rotation, atol=1e-9)
    assert ransac_sim3(src[:2], dst[:2], 0.05)[0] is None


def test_models_sharing_an_image_merge_into_the_largest():
    rows = np.arange(80)
    big = _model([0, 1, 2], None, rows)  # world frame
    small = _model([2, 3], TRUTH, rows)  # image 2 in both: the same features triangulated twice
    lonely = _model([9], TRUTH, rows)
    lonely.kp_point = {9: -np.ones(80, np.int64)}  # nothing triangulated: no correspondences
    merged, n = merge_models([small, lonely, big], matches={})
    assert n == 1
    assert sorted(merged.poses) == [0, 1, 2, 3]
    np.testing.assert_allclose(merged.poses[3], _pose(3.0), atol=1e-9)  # moved into the big model's frame
    np.testing.assert_allclose(merged.poses[2], big.poses[2])  # a shared camera keeps the big model's pose
    assert len(merged.xyz) == 160
    np.testing.assert_allclose(merged.xyz[merged.kp_point[3][:80]], POINTS[rows], atol=1e-9)


def test_models_joined_only_by_verified_matches_merge():
    big = _model([0, 1, 2], None, np.arange(80))
    other = _model([5, 6], TRUTH, np.arange(40, 120))  # no shared image; points 40..79 seen by both
    # verified matches between image 2 (big) and image 5 (other): keypoint k of 2 <-> keypoint k - 40 of 5
    mm = np.stack([np.arange(40, 80), np.arange(0, 40)], axis=1)
    merged, n = merge_models([big, other], matches={(2, 5): mm})
    assert n == 1 and sorted(merged.poses) == [0, 1, 2, 5, 6]
    np.testing.assert_allclose(merged.poses[6], _pose(6.0), atol=1e-9)
    merged, n = merge_models([big, other], matches={(2, 5): mm[:10]})  # too few to trust
    assert n == 0 and sorted(merged.poses) == [0, 1, 2]


@pytest.mark.parametrize("options, words", [
    ({"depth": "foo"}, "depth must be a JSON object"),
    ({"depth": True}, "depth must be a JSON object"),
    ({"colmap": {"bogus": 1}}, "its fields are"),
    ({"keyframes": 3}, "keyframes must be a JSON object"),
    ({"nonsense": 1}, "unknown sfm option"),
])
def test_bad_sfm_options_are_input_errors_that_show_the_form(options, words):
    from spatialmem.errors import InputError
    from spatialmem.perception.sfm.backend import SfmOptions

    with pytest.raises(InputError, match=words):
        SfmOptions.from_options(options)
