"""Metric scale priors, memory rescaling and the automatic choice of backends."""

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.scene import CameraRecord, ObjectInstance, Room, SceneMemory
from spatialmem.perception import auto
from spatialmem.perception.scale import (
    CAMERA_HEIGHT_PRIOR,
    OBJECT_HEIGHT_PRIORS,
    from_camera_height,
    from_object_heights,
    fuse,
)
from spatialmem.types import Intrinsics


def test_camera_height_prior_gives_the_scale():
    h = np.full(20, 0.29)  # model units: the prior's mean height is 5x this
    log_s, sd = from_camera_height(h)
    assert np.exp(log_s) == pytest.approx(CAMERA_HEIGHT_PRIOR[0] / 0.29)
    assert sd == pytest.approx(CAMERA_HEIGHT_PRIOR[1] / CAMERA_HEIGHT_PRIOR[0])
    assert from_camera_height(np.array([1.0, np.nan])) is None


def test_object_heights_are_robust_and_category_balanced():
    true_scale = 0.2
    objs = [(c, OBJECT_HEIGHT_PRIORS[c][0] / true_scale) for c in ("table", "desk", "door", "toilet")]
    objs += [("chair", 0.85 / true_scale)] * 6  # six chairs count as one category
    objs += [("door", 0.9 / true_scale)]  # a door seen only to 0.9 m: an outlier
    objs += [("unicorn", 3.0)]  # not in the table: ignored
    log_s, sd, n = from_object_heights(objs)
    assert np.exp(log_s) == pytest.approx(true_scale, rel=0.02)
    assert n == 10 and 0 < sd < 0.1
    assert from_object_heights([("unicorn", 1.0)]) is None


def test_fusion_weights_by_inverse_variance():
    est = fuse((np.log(1.1), 0.1), (np.log(1.0), 0.1, 3))
    assert est.scale == pytest.approx(np.sqrt(1.1)) and not est.objects_rejected
    assert est.log_sd == pytest.approx(0.1 / np.sqrt(2))
    assert est.camera_height_scale == pytest.approx(1.1) and est.object_scale == pytest.approx(1.0)
    assert 0 < est.confidence < 1
    assert fuse(None, None) is None
    assert fuse((0.0, 0.05), None).confidence == pytest.approx(np.exp(-1))


def test_memory_scaled_scales_every_length():
    K = Intrinsics.from_fov(64, 48, 60)
    T = np.eye(4)
    T[:3, 3] = [1.0, 2.0, 1.5]
    box = OrientedBox.from_yaw([1.0, 1.0, 0.5], [0.4, 0.6, 1.0], 0.3)
    mem = SceneMemory("s", instances=(ObjectInstance(1, "chair", box, np.ones((3, 3), np.float32)),),
                      cameras=(CameraRecord(0, 0.0, T, K),),
                      room=Room(0.0, np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float), 4.0, 2.5),
                      points_world=np.ones((2, 3), np.float32))
    m2 = mem.scaled(2.0)
    np.testing.assert_allclose(m2.instances[0].box.size, [0.8, 1.2, 2.0])
    np.testing.assert_allclose(m2.instances[0].box.axes, box.axes)
    np.testing.assert_allclose(m2.cameras[0].world_from_camera[:3, 3], [2.0, 4.0, 3.0])
    assert m2.room.area_m2 == pytest.approx(16.0) and m2.room.ceiling_z == pytest.approx(5.0)
    np.testing.assert_allclose(m2.points_world, 2.0)
    assert mem.instances[0].box.size[0] == pytest.approx(0.4)  # the original is untouched


def test_auto_choice_uses_the_source_then_installed_backends(monkeypatch):
    c = auto.choose_backends(has_geometry=True, has_masks=True)
    assert (c.geometry, c.instances, c.objects_possible) == ("given", "given", True)
    c = auto.choose_backends(has_geometry=False, has_masks=True)
    assert c.geometry == "sfm" and c.instances == "given"
    monkeypatch.setattr(auto, "RGB_INSTANCES", ("no-such-detector",))
    c = auto.choose_backends(has_geometry=False, has_masks=False)
    assert c.geometry == "sfm" and not c.objects_possible
    assert any("no objects" in n for n in c.notes)
    c = auto.choose_backends(has_geometry=True, has_masks=False, geometry="fake", instances="fake")
    assert (c.geometry, c.instances) == ("fake", "fake")


def test_auto_geometry_names_the_extra_when_nothing_is_installed(monkeypatch):
    from spatialmem.errors import MissingDependencyError

    monkeypatch.setattr(auto, "installed", lambda kind, name: (False, f"{name} missing"))
    with pytest.raises(MissingDependencyError, match=r"spatialmem\[sfm\]"):
        auto.choose_backends(has_geometry=False, has_masks=True)


def test_fusion_leaves_out_objects_that_contradict_the_camera_height():
    est = fuse((0.0, 0.08), (np.log(0.7), 0.03, 5))  # 30 % apart, 2 sigma is about 17 %
    assert est.objects_rejected and est.scale == pytest.approx(1.0) and est.object_scale == pytest.approx(0.7)
    assert not fuse((0.0, 0.08), (np.log(0.95), 0.03, 5)).objects_rejected


def test_intrinsics_mode_is_set_on_a_copy_of_the_sfm_config_only():
    from spatialmem.perception.base import GeometryConfig

    class Video:
        intrinsics_known = False

    given = GeometryConfig("given")
    assert auto.with_intrinsics_mode(given, Video()) is given
    sfm = GeometryConfig("sfm", options={"max_keyframes": 5})
    got = auto.with_intrinsics_mode(sfm, Video())
    assert got.options == {"max_keyframes": 5, "known_intrinsics": False} and sfm.options == {"max_keyframes": 5}
    user = GeometryConfig("sfm", options={"known_intrinsics": True})
    assert auto.with_intrinsics_mode(user, Video()).options == {"known_intrinsics": True}
