"""Catalogue, rooms, layout and camera paths: what every generated scene must satisfy."""

from __future__ import annotations

import numpy as np
import pytest

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.synth import catalog
from spatialmem.synth.layout import local_bounds, overlaps
from spatialmem.synth.room import point_in_polygon
from spatialmem.synth.writer import generate_scene

SEEDS = range(6)


@pytest.fixture(scope="module")
def scenes():
    return {s: generate_scene(s, 60, 10.0) for s in SEEDS}


def test_catalogue_has_enough_categories_and_builders_respect_sizes():
    assert len(catalog.CATEGORIES) >= 24
    rng = np.random.default_rng(0)
    for name in [k for k in catalog.KINDS for _ in range(5)]:
        parts, _surface, (w, d, h) = catalog.build(name, rng)
        lo, hi = local_bounds(parts)
        ext = hi - lo
        assert len(parts) >= 2, name  # built from several primitives
        # the built object matches its sampled size (stands, handles and frames may stick out a little)
        assert np.all(ext <= np.array([w, d, h]) + 0.11), (name, ext, (w, d, h))
        assert np.all(ext >= 0.6 * np.array([w, d, h]) - 0.02), (name, ext, (w, d, h))
        assert lo[2] >= -1e-9


def test_chair_looks_like_a_chair():
    parts, _, (w, d, h) = catalog.build("chair", np.random.default_rng(1))
    seats = [p for p in parts if p.size[0] > 0.3 and p.size[1] > 0.3 and 0.35 < p.center[2] < 0.5]
    assert len(seats) == 1
    legs = [p for p in parts if p.size[0] < 0.06 and p.size[1] < 0.06 and p.center[2] < 0.4]
    backs = [p for p in parts if p.size[0] > 0.3 and p.size[2] > 0.3 and p.size[1] < 0.1 and p.center[1] < 0]
    assert len(legs) == 4 and len(backs) == 1


def test_scenes_have_enough_objects_categories_and_counts(scenes):
    for seed, (spec, _mesh, room_type) in scenes.items():
        cats: dict[str, int] = {}
        for o in spec.objects:
            cats[o.category] = cats.get(o.category, 0) + 1
        assert 10 <= len(spec.objects) <= 30, (seed, room_type, len(spec.objects))
        assert len(cats) >= 8, (seed, room_type, cats)
        assert sum(n > 1 for n in cats.values()) >= 2, (seed, room_type, cats)  # counted categories
        assert sum(n == 1 for n in cats.values()) >= 4, (seed, room_type, cats)  # unique objects
        assert {"door", "window"} <= set(cats)


def test_rooms_are_within_the_specified_ranges(scenes):
    for spec, _, _ in scenes.values():
        poly = spec.room.floor_polygon
        ext = poly.max(axis=0) - poly.min(axis=0)
        assert np.all(ext >= 3.0 - 1e-9) and np.all(ext <= 12.0 + 1e-9)
        assert 2.4 <= spec.room.ceiling_height_m <= 3.2


def test_supports_are_physical(scenes):
    for spec, _, _ in scenes.values():
        by_id = {o.id: o for o in spec.objects}
        h = spec.room.ceiling_height_m
        for o in spec.objects:
            if o.support == "floor":
                assert abs(o.box.z_min) < 1e-6, o.category
            elif o.support == "ceiling":
                assert abs(o.box.z_max - h) < 1e-6, o.category
            elif o.support.startswith("object:"):
                host = by_id[int(o.support[7:])]
                tops = [p.box.z_max for p in host.parts]
                assert min(abs(o.box.z_min - t) for t in tops) < 1e-6, (o.category, host.category)
                assert point_in_polygon(o.box.center[None, :2], host.box.footprint())[0]


def test_floor_objects_keep_apart(scenes):
    for spec, _, _ in scenes.values():
        floor = [o for o in spec.objects if o.support == "floor"]
        for i in range(len(floor)):
            for j in range(i + 1, len(floor)):
                for p in floor[i].parts:
                    for q in floor[j].parts:
                        a = OrientedBox(p.box.center, p.box.size - 0.004, p.box.axes)
                        assert not overlaps(a, q.box, tol=0.0), (floor[i].category, floor[j].category)


def test_camera_path_is_handheld_inside_the_room_and_away_from_furniture(scenes):
    for spec, mesh, _ in scenes.values():
        eye = spec.poses[:, :3, 3]
        assert np.all((eye[:, 2] >= 1.3 - 1e-9) & (eye[:, 2] <= 1.7 + 1e-9))
        assert point_in_polygon(eye[:, :2], spec.room.floor_polygon).all()
        # no object part within 15 cm of the camera
        for k in range(len(mesh.box_ids)):
            if mesh.box_ids[k] == 0:
                continue
            local = np.abs((eye - mesh.box_centers[k]) @ mesh.box_axes[k].T) - mesh.box_half[k]
            assert np.linalg.norm(np.maximum(local, 0), axis=1).min() > 0.15
        # smooth: bounded speed (m/frame at 10 fps) and turn rate
        step = np.linalg.norm(np.diff(eye, axis=0), axis=1)
        assert step.max() < 0.5
        fwd = spec.poses[:, :3, 2]
        turn = np.degrees(np.arccos(np.clip(np.sum(fwd[1:] * fwd[:-1], axis=1), -1, 1)))
        assert turn.max() < 45.0
        # the camera stays upright (image x axis horizontal within a few degrees)
        assert np.all(np.abs(spec.poses[:, 2, 0]) < 0.2)


def test_generation_is_deterministic():
    a, _, ta = generate_scene(3, 20, 10.0)
    b, _, tb = generate_scene(3, 20, 10.0)
    assert ta == tb and np.array_equal(a.poses, b.poses)
    assert [o.box.to_dict() for o in a.objects] == [o.box.to_dict() for o in b.objects]
