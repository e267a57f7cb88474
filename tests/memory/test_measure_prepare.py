"""Closest-point distance geometry is prepared when a memory is loaded, and gives the pairwise answers."""

from __future__ import annotations

import itertools

import numpy as np

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory import measure
from spatialmem.memory.scene import ObjectInstance, SceneMemory
from spatialmem.memory.store import load_memory, save_memory


def _mixed_memory() -> SceneMemory:
    """Upright boxes (some rotated about z, one overlapping), one tilted box, one instance with points."""
    rng = np.random.default_rng(3)
    insts = [ObjectInstance(i + 1, "box", OrientedBox.from_yaw(rng.uniform(-3, 3, 3), rng.uniform(0.1, 1.5, 3),
                                                                rng.uniform(-np.pi, np.pi))) for i in range(8)]
    tilt = np.array([[1.0, 0, 0], [0, np.cos(0.4), -np.sin(0.4)], [0, np.sin(0.4), np.cos(0.4)]])
    insts.append(ObjectInstance(9, "tilted", OrientedBox(np.array([0.5, 0.5, 1.0]), np.array([0.4, 0.6, 0.8]), tilt)))
    pts = rng.uniform(0.0, 0.3, (50, 3)).astype(np.float32) + np.float32(2.0)
    insts.append(ObjectInstance(10, "pointy", OrientedBox.axis_aligned((2.0, 2.0, 2.0), (2.3, 2.3, 2.3)), pts))
    return SceneMemory("mixed", tuple(insts))


def test_load_memory_prepares_distance_geometry(tmp_path):
    save_memory(_mixed_memory(), tmp_path / "m")
    mem = load_memory(tmp_path / "m")
    assert measure.is_prepared(mem)
    cache = measure.memory_cache(mem)
    upright = [o.id for o in mem.instances if o.category != "tilted"]
    # every pair of upright boxes before any question (the tilted box's pairs are computed when asked)
    assert set(cache["pairs"]) == set(itertools.combinations(sorted(upright), 2))
    assert set(cache["trees"]) == {10}  # the one instance with points has its KD-tree


def test_prepared_and_lazy_distances_equal_the_pairwise_definition():
    prepared, lazy = _mixed_memory(), _mixed_memory()
    measure.prepare(prepared)
    assert measure.is_prepared(prepared) and not measure.is_prepared(lazy)
    for a, b in itertools.combinations(range(len(prepared.instances)), 2):
        pa, pb = prepared.instances[a], prepared.instances[b]
        want = measure.prism_distance(pa.box, pb.box)
        assert measure.closest_distance(prepared, pa, pb) == measure.closest_distance(prepared, pb, pa)
        assert abs(measure.closest_distance(prepared, pa, pb) - want) < 1e-9
        assert abs(measure.closest_distance(lazy, lazy.instances[b], lazy.instances[a]) - want) < 1e-9


def test_prepare_leaves_a_memory_beyond_the_bound_to_the_lazy_path(monkeypatch):
    """The pair table grows with the square of the count: a huge memory is not prepared at load."""
    monkeypatch.setattr(measure, "PREPARE_MAX_INSTANCES", 5)
    mem = _mixed_memory()
    measure.prepare(mem)
    assert not measure.is_prepared(mem)
    a, b = mem.instances[0], mem.instances[1]
    assert abs(measure.closest_distance(mem, a, b) - measure.prism_distance(a.box, b.box)) < 1e-9
