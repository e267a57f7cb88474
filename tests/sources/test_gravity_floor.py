"""Gravity (up direction) and robust floor estimation: pure geometry, then through the builder."""

from __future__ import annotations

import mem_scene_kit as kit  # registered by conftest.py
import numpy as np
import pytest

from spatialmem.geometry.floor import FloorEstimator
from spatialmem.geometry.gravity import estimate_up, given_up, rotation_to_z, up_from_axis
from spatialmem.memory.builder import BuilderConfig, build_memory
from spatialmem.types import Frame


def rot_x(deg: float) -> np.ndarray:
    a = np.radians(deg)
    return np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])


def table_world():
    """A 5x4 m room whose camera circles a 2 x 1.2 m table at 1.2 m: the table holds a large share of points."""
    w = kit.World()
    w.add(1, "table", [2.5, 2.0, 0.375], [2.0, 1.2, 0.75])
    poses = kit.orbit_poses([2.5, 2.0], 1.2, 10, height=1.5, target_z=0.6)
    return w, poses


def cloud(w, poses, K):
    pts = []
    for T in poses:
        d, _ = kit.cast(w, K, T)
        v, u = np.nonzero(d > 0)
        z = d[v, u]
        cam = np.stack([(u - K.cx) / K.fx * z, (v - K.cy) / K.fy * z, z], 1)
        pts.append(cam @ T[:3, :3].T + T[:3, 3])
    return np.concatenate(pts)


def to_world(R: np.ndarray, poses, pts):
    """Re-express z-up poses and points in a world rotated by R (p_new = R p)."""
    T = np.eye(4)
    T[:3, :3] = R
    return np.stack([T @ P for P in poses]), pts @ R.T


@pytest.mark.parametrize("R", [rot_x(90), rot_x(-90), rot_x(70), np.eye(3)], ids=["y-down", "y-up", "tilted", "z"])
def test_plane_estimate_recovers_up_in_any_world(R):
    w, poses = table_world()
    pts = cloud(w, poses, kit.small_K(64, 48))
    P, q = to_world(R, poses, pts)
    e = estimate_up(q, P)
    assert e.method == "plane" and not e.weak
    assert e.up == pytest.approx(R @ [0, 0, 1], abs=0.01)
    assert e.rotation @ e.up == pytest.approx([0, 0, 1], abs=1e-9)
    assert (q @ e.rotation.T)[:, 2].min() == pytest.approx(0.0, abs=0.02)  # back to z-up: floor at 0 again
    assert np.allclose(e.rotation @ e.rotation.T, np.eye(3)) and np.linalg.det(e.rotation) == pytest.approx(1.0)


def test_imu_gravity_wins_and_cameras_are_the_last_resort():
    w, poses = table_world()
    P, _ = to_world(rot_x(90), poses, np.zeros((0, 3)))  # z-up -> y-down world
    imu = estimate_up(None, P, imu_gravity=np.array([[0.0, 9.81, 0.1], [0.0, 9.79, -0.1]]))
    assert imu.method == "imu" and imu.up == pytest.approx([0, -1, 0], abs=1e-9)  # snapped onto -y
    cams = estimate_up(None, P)
    assert cams.method == "cameras" and cams.up == pytest.approx([0, -1, 0], abs=1e-9)
    single = estimate_up(None, P[:1])
    assert single.weak  # one camera: a guess


def test_given_axes_and_rotation_to_z():
    assert given_up("-y").up == pytest.approx([0, -1, 0]) and given_up("z").method == "given"
    with pytest.raises(ValueError, match="unknown up axis"):
        up_from_axis("up")
    rng = np.random.default_rng(1)
    for v in [*rng.normal(size=(5, 3)), np.array([0, 0, -1.0]), np.array([0, 0, 1.0])]:
        R = rotation_to_z(v)
        assert R @ (v / np.linalg.norm(v)) == pytest.approx([0, 0, 1], abs=1e-9)
        assert np.linalg.det(R) == pytest.approx(1.0)


def test_table_heavy_capture_finds_the_real_floor_within_3cm():
    w, poses = table_world()
    pts = cloud(w, poses, kit.small_K(96, 72))
    f = FloorEstimator()
    f.add(pts)
    for T in poses:
        f.add_camera(T[2, 3])
    on_table = np.abs(pts[:, 2] - 0.75) < 0.02
    on_floor = np.abs(pts[:, 2]) < 0.02
    assert on_table.sum() > on_floor.sum()  # the table is the biggest horizontal peak...
    assert f.hist.floor_z() == pytest.approx(0.75, abs=0.03)  # ...so the plain histogram rule takes it
    est = f.estimate()
    assert est.method == "plane" and est.z == pytest.approx(0.0, abs=0.03)
    assert len(est.planes) == 2 and est.planes[1][0] == pytest.approx(0.75, abs=0.02)
    assert est.planes[1][1] == pytest.approx(2.4, rel=0.2)  # the table top's extent, m²


def test_builder_without_masks_puts_the_floor_under_the_table():
    w, poses = table_world()
    K = kit.small_K(96, 72)
    frames = [Frame(f.index, f.timestamp_s, f.rgb, K, f.world_from_camera, f.depth_m)
              for f in kit.frames(w, poses, K)]  # no masks: the table is structure too
    mem = build_memory(frames, BuilderConfig(), prefetch_frames=0)
    assert mem.room is not None and mem.room.floor_z == pytest.approx(0.0, abs=0.03)
    assert mem.metadata["floor"]["method"] == "plane"
    assert len(mem.instances) == 0
