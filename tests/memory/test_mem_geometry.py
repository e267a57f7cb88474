"""Projection, point-cloud utilities and floor/room geometry of the memory builder."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from spatialmem.geometry.floor import FreeSpaceGrid, HeightHistogram, offset_polygon, room_polygon
from spatialmem.geometry.pointcloud import (
    cluster_filter,
    min_distance,
    nn_ratio,
    pack_keys,
    radius_outliers,
    statistical_outliers,
    unpack_keys,
    voxel_downsample,
)
from spatialmem.geometry.projection import backproject_depth, project_points, resample_nearest
from spatialmem.geometry.se3 import look_at
from spatialmem.types import Intrinsics

_spec = importlib.util.spec_from_file_location("mem_scene_kit", Path(__file__).with_name("mem_scene_kit.py"))
kit = sys.modules.setdefault("mem_scene_kit", importlib.util.module_from_spec(_spec))
if not hasattr(kit, "World"):
    _spec.loader.exec_module(kit)


def test_backprojection_is_exact_inverse_of_projection():
    K = Intrinsics(500.0, 480.0, 319.5, 239.5, 640, 480)
    T = look_at([1.0, -2.0, 1.5], [0.3, 0.8, 0.4])
    rng = np.random.default_rng(1)
    depth = rng.uniform(0.5, 6.0, (480, 640)).astype(np.float32)
    depth[10, 20] = 0.0
    pts, valid, (rows, cols) = backproject_depth(depth, K, T, stride=3)
    assert pts.shape == (160, 214, 3) and valid.all()
    uv, z, inside = project_points(pts[valid].reshape(-1, 3), K, T)
    vv, uu = np.meshgrid(rows, cols, indexing="ij")
    np.testing.assert_allclose(uv[:, 0], uu[valid], atol=2e-3)
    np.testing.assert_allclose(uv[:, 1], vv[valid], atol=2e-3)
    np.testing.assert_allclose(z, depth[::3, ::3][valid], rtol=1e-5)
    assert inside.all()


def test_backprojection_of_a_ray_cast_floor_lies_on_the_floor():
    w = kit.World()
    K = kit.small_K(80, 60)
    T = look_at([2.0, 1.0, 1.5], [2.5, 3.0, 0.0])
    depth, ids = kit.cast(w, K, T)
    pts, valid, _ = backproject_depth(depth, K, T)
    u, v = np.meshgrid(np.arange(K.width), np.arange(K.height))
    dz = T[2, 0] * (u - K.cx) / K.fx + T[2, 1] * (v - K.cy) / K.fy + T[2, 2]  # world dz per metre of depth
    t_floor = -T[2, 3] / dz
    on_floor = valid & (np.abs(depth - t_floor) < 1e-4)
    assert on_floor.sum() > 1000
    assert np.abs(pts[on_floor][:, 2]).max() < 1e-4  # exact: float32 rounding only
    assert (pts[valid][:, 0] > -1e-3).all() and (pts[valid][:, 0] < 5 + 1e-3).all()


def test_invalid_depth_is_masked_and_size_mismatch_rejected():
    K = Intrinsics.from_fov(8, 6, 60)
    d = np.ones((6, 8), np.float32)
    d[0, 0], d[1, 1] = 0.0, np.nan
    _, valid, _ = backproject_depth(d, K)
    assert not valid[0, 0] and not valid[1, 1] and valid.sum() == 46
    with pytest.raises(ValueError, match="intrinsics"):
        backproject_depth(np.ones((5, 8)), K)


def test_resample_nearest_maps_pixel_centres_between_resolutions():
    big = np.arange(16 * 12).reshape(12, 16)
    small = big[::2, ::2]
    out = resample_nearest(small, np.array([0, 1, 2, 3]), np.array([0, 1, 2, 3]), (16, 12))
    assert out.shape == (4, 4)
    np.testing.assert_array_equal(out, big[np.ix_([0, 0, 2, 2], [0, 0, 2, 2])])


def test_voxel_keys_round_trip_and_downsample_means():
    c = np.array([[-5, 3, 0], [1048575, -1048576, 7], [0, 0, 0]])
    np.testing.assert_array_equal(unpack_keys(pack_keys(c)), c)
    pts = np.array([[0.01, 0.01, 0.01], [0.03, 0.03, 0.03], [0.51, 0.5, 0.5]])
    out, col = voxel_downsample(pts, 0.1, colors=np.array([[0, 0, 0], [10, 20, 30], [1, 1, 1]]))
    assert len(out) == 2
    np.testing.assert_allclose(out[0], [0.02, 0.02, 0.02], atol=1e-6)
    np.testing.assert_allclose(col[0], [5, 10, 15])


def test_outlier_filters_drop_isolated_points():
    rng = np.random.default_rng(0)
    blob = rng.normal(0, 0.05, (400, 3))
    pts = np.vstack([blob, [[3.0, 3.0, 3.0], [3.01, 3.0, 3.0]]])
    keep = cluster_filter(pts, voxel_m=0.05, min_fraction=0.05)
    assert keep[:400].all() and not keep[400:].any()
    assert not statistical_outliers(pts)[400:].any() and statistical_outliers(pts)[:400].mean() > 0.95
    assert not radius_outliers(pts, 0.2, 3)[400:].any()


def test_point_set_distances():
    a = np.array([[0.0, 0, 0], [1, 0, 0]])
    b = np.array([[3.0, 0, 0], [1.5, 0, 0]])
    assert min_distance(a, b) == pytest.approx(0.5)
    assert min_distance(a, np.zeros((0, 3))) == float("inf")
    assert nn_ratio(a, b, 0.6) == pytest.approx(0.5)


def test_height_histogram_finds_floor_and_ceiling():
    h = HeightHistogram()
    rng = np.random.default_rng(0)
    h.add(np.concatenate([np.full(3000, 0.1), np.full(2000, 2.7), rng.uniform(0.1, 2.7, 3000)]))
    assert h.floor_z() == pytest.approx(0.1, abs=0.011)
    assert h.ceiling_z() == pytest.approx(2.7, abs=0.011)


def test_room_polygon_of_a_carved_rectangle_and_offset():
    g = FreeSpaceGrid(0.05)
    xs, ys = np.meshgrid(np.linspace(0.001, 3.999, 200), np.linspace(0.001, 2.999, 150))
    g.mark(np.stack([xs.ravel(), ys.ravel()], 1))
    grid, origin = g.cells()
    poly, area = room_polygon(grid, origin, g.cell_m)
    assert area == pytest.approx(12.0, rel=0.03)
    assert len(poly) == 4
    sq = np.array([[0, 0], [2, 0], [2, 2], [0, 2]], float)
    np.testing.assert_allclose(offset_polygon(sq, 0.5), [[0.5, 0.5], [1.5, 0.5], [1.5, 1.5], [0.5, 1.5]])


def test_thin_box_is_snapped_back_to_its_wall_and_thick_or_free_boxes_are_not():
    from spatialmem.geometry.boxes import OrientedBox
    from spatialmem.geometry.floor import snap_thin_box_to_wall

    g = FreeSpaceGrid(0.025)
    xs, zs = np.meshgrid(np.linspace(0.0, 5.0, 400), np.linspace(0.0, 2.5, 60))
    wall = np.stack([xs.ravel(), np.full(xs.size, 4.0), zs.ravel()], 1)
    hidden = (wall[:, 0] > 2.0) & (wall[:, 0] < 2.9) & (wall[:, 2] < 2.05)  # behind the door
    g.mark_heights(wall[~hidden])
    grid, origin = g.cells()
    walls = g.walls(objects=False)
    door = OrientedBox.axis_aligned([2.0, 3.91, 0.0], [2.9, 3.94, 2.05])  # only its front 3 cm were seen
    snapped = snap_thin_box_to_wall(door, walls, origin, g.cell_m)
    assert snapped.size[1] == pytest.approx(0.09, abs=0.02) and snapped.size[0] == pytest.approx(0.9)
    assert snapped.center[1] + snapped.size[1] / 2 == pytest.approx(4.0, abs=0.02)
    chair = OrientedBox.axis_aligned([2.0, 3.4, 0.0], [2.5, 3.9, 0.9])
    assert snap_thin_box_to_wall(chair, walls, origin, g.cell_m) is chair
    free = OrientedBox.axis_aligned([2.0, 2.0, 0.0], [2.9, 2.03, 2.0])  # thin but nowhere near a wall
    assert snap_thin_box_to_wall(free, walls, origin, g.cell_m) is free


def test_vertical_snapping_to_floor_and_ceiling():
    from spatialmem.geometry.boxes import OrientedBox
    from spatialmem.geometry.floor import snap_box_vertically

    light = OrientedBox.axis_aligned([1, 1, 2.45], [1.5, 1.5, 2.52])  # its mount (2.52..2.6) was never seen
    s = snap_box_vertically(light, 0.0, 2.6)
    assert s.z_max == pytest.approx(2.6) and s.z_min == pytest.approx(2.45)
    chair = OrientedBox.axis_aligned([1, 1, 0.03], [1.5, 1.5, 0.9])
    assert snap_box_vertically(chair, 0.0, 2.6).z_min == pytest.approx(0.0)
    on_table = OrientedBox.axis_aligned([1, 1, 0.75], [1.3, 1.2, 1.0])
    assert snap_box_vertically(on_table, 0.0, 2.6) is on_table
    assert snap_box_vertically(light, None, None) is light


def test_room_polygon_fill_does_not_leak_through_a_wall_gap_into_an_l_rooms_notch():
    """L room [0,6]² minus the notch [0,3]x[3,6] (27 m²); a 0.3 m gap in a notch wall and an uncarved corner."""
    cell, margin = 0.025, 0.5
    n = int(round((6 + 2 * margin) / cell))
    centres = (np.arange(n) + 0.5) * cell - margin
    x, y = np.meshgrid(centres, centres, indexing="ij")  # grid[ix, iy]
    inside = (x > 0) & (x < 6) & (y > 0) & (y < 6) & ~((x < 3) & (y > 3))
    on = lambda v, c: np.abs(v - c) < cell  # noqa: E731
    walls = (on(x, 0) & (y <= 3)) | (on(x, 6) & (y >= 0) & (y <= 6)) | (on(y, 0) & (x >= 0) & (x <= 6))
    walls |= (on(y, 6) & (x >= 3) & (x <= 6)) | (on(x, 3) & (y >= 3) & (y <= 6))
    walls |= on(y, 3) & (x >= 0) & (x <= 3) & ~((x > 2.4) & (x < 2.7))  # the notch wall, with a seam
    carved = inside & ~((x > 5) & (y < 1)) & ~walls  # a corner the camera never looked into
    origin = np.array([-margin, -margin])
    _, perfect = room_polygon(inside & ~walls, origin, cell)  # every floor cell seen (wall cells excluded)
    assert perfect == pytest.approx(27.0, rel=0.04)
    _, area = room_polygon(carved, origin, cell, walls=walls)
    assert area == pytest.approx(perfect, rel=0.01)
    # without wall evidence the unseen corner stays out: the fill is what recovers it
    _, carved_only = room_polygon(carved, origin, cell)
    assert carved_only < perfect - 0.8
    # a seal narrower than the seam floods the 9 m² notch: the gap in this test is real
    _, leaked = room_polygon(carved, origin, cell, walls=walls, seal_gap_m=0.1)
    assert leaked > perfect + 8.0
