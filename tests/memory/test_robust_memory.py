"""The memory's robustness to estimated perception (memory/robust.py): robust box fit, depth filtering in the lift,
support gating, category votes and absorption of mislabelled copies, and when the robust settings apply."""

import dataclasses
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from spatialmem.errors import InputError
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.se3 import look_at
from spatialmem.memory.builder import BuilderConfig, MemoryBuilder, build_memory
from spatialmem.memory.instance_state import InstanceState
from spatialmem.memory.lift import LiftConfig, fit_box_surface, lift_detections
from spatialmem.memory.robust import ROBUST_GEOMETRY, fit_box_trimmed, robust_config
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.types import Detection2D

_spec = importlib.util.spec_from_file_location("mem_scene_kit", Path(__file__).with_name("mem_scene_kit.py"))
kit = sys.modules.setdefault("mem_scene_kit", importlib.util.module_from_spec(_spec))
if not hasattr(kit, "World"):
    _spec.loader.exec_module(kit)

CFG = BuilderConfig(lift=LiftConfig(stride=1), maintenance_every=5)
NOISY_GEO, NOISY_INST = GeometryConfig("noisy"), InstancesConfig("noisy")
TRUTH = OrientedBox.from_yaw([1.0, 2.0, 0.4], [1.0, 0.6, 0.8], 0.3)


def surface_points(box: OrientedBox, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly on the six faces of ``box`` (area-weighted)."""
    s = box.size
    areas = np.array([s[1] * s[2], s[0] * s[2], s[0] * s[1]])
    axis = rng.choice(3, size=n, p=areas / areas.sum())
    local = rng.uniform(-0.5, 0.5, (n, 3)) * s
    local[np.arange(n), axis] = np.where(rng.random(n) < 0.5, -0.5, 0.5) * s[axis]
    return box.center + local @ box.axes


def with_outliers(rng: np.random.Generator, fraction: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Surface points of TRUTH plus ``fraction`` outliers within 0.5 m outside it; (points, is_outlier)."""
    pts = surface_points(TRUTH, 4000, rng)
    n_out = int(round(fraction * len(pts) / (1 - fraction)))
    local = rng.uniform(-0.5, 0.5, (20 * n_out, 3)) * (TRUTH.size + 1.0)
    local = local[np.any(np.abs(local) > TRUTH.size / 2, axis=1)][:n_out]
    out = TRUTH.center + local @ TRUTH.axes
    return np.vstack([pts, out]), np.r_[np.zeros(len(pts), bool), np.ones(len(out), bool)]


def assert_box_near(box: OrientedBox, truth: OrientedBox, tol: float) -> None:
    np.testing.assert_allclose(box.center, truth.center, atol=tol)
    np.testing.assert_allclose(np.sort(box.size[:2]), np.sort(truth.size[:2]), atol=tol)
    assert box.size[2] == pytest.approx(truth.size[2], abs=tol)


def test_trimmed_box_ignores_five_percent_outliers():
    pts, _ = with_outliers(np.random.default_rng(0))
    exact = fit_box_trimmed(pts, None, 0.0, fit_box_surface)
    assert exact.size[2] > TRUTH.size[2] + 0.3  # the exact extents follow the outliers
    assert_box_near(fit_box_trimmed(pts, None, 0.05, fit_box_surface), TRUTH, 0.02)


def test_count_weighted_trim_of_the_robust_default_ignores_outliers_seen_once():
    """Surface voxels are fused from several observations (weight 4), stray points from one: 1 % trim suffices."""
    pts, outlier = with_outliers(np.random.default_rng(1))
    counts = np.where(outlier, 1, 4)
    assert_box_near(fit_box_trimmed(pts, counts, 0.01, fit_box_surface), TRUTH, 0.02)


def test_trimmed_box_of_clean_points_keeps_the_exact_extents():
    pts = surface_points(TRUTH, 3000, np.random.default_rng(2))
    assert_box_near(fit_box_trimmed(pts, None, 0.05, fit_box_surface), TRUTH, 0.005)


def noisy_box_frame(rel: float, seed: int = 0):
    w = kit.World()
    w.add(1, "box", [2.5, 2.0, 0.3], [0.6, 0.6, 0.6])
    (f,) = kit.frames(w, [look_at([2.5, 0.3, 1.2], [2.5, 2.0, 0.3])], kit.small_K(128, 96))
    noise = 1.0 + np.random.default_rng(seed).normal(0.0, rel, f.depth_m.shape)
    return dataclasses.replace(f, depth_m=(f.depth_m * noise).astype(np.float32))


def test_depth_median_removes_per_pixel_noise_and_edge_test_drops_mask_bleed():
    f = noisy_box_frame(0.03)
    box = OrientedBox.from_yaw([2.5, 2.0, 0.3], [0.6, 0.6, 0.6], 0.0)
    mask = ndimage.binary_dilation(f.instance_ids == 1, iterations=2)  # bleeds 2 px onto the floor and beyond
    plain = LiftConfig(stride=2, voxel_m=0.01, cluster_min_fraction=0.0)
    robust = dataclasses.replace(plain, depth_median=5, depth_edge_rel=0.08)
    (o_plain,), _ = lift_detections(f, [Detection2D(0, "box", mask)], plain)
    (o_rob,), cloud = lift_detections(f, [Detection2D(0, "box", mask)], robust)

    def front_spread(p):  # the box's front face is the plane y = 1.7
        return np.median(np.abs(p[np.abs(p[:, 0] - 2.5) < 0.2][:, 1] - 1.7))

    def outside(p):  # points more than 3 cm outside the box
        return (np.max(np.abs(box.to_local(p.astype(np.float64))) - box.size / 2, axis=1) > 0.03).mean()

    assert front_spread(o_rob.points_world) < 0.5 * front_spread(o_plain.points_world)
    assert outside(o_rob.points_world) < 0.5 * outside(o_plain.points_world)
    assert o_plain.points_world[:, 0].max() > 2.8 + 0.1  # the rim sees the floor behind the box ...
    assert o_rob.points_world[:, 0].max() < 2.8 + 0.05  # ... at a depth edge: not lifted
    assert cloud.edge is not None and cloud.claimed[mask[::2, ::2]].all()


def test_instance_category_is_the_majority_of_its_observations_and_votes_merge():
    a = InstanceState(1, "chair", 0.02, 1000, 0.05)
    pts = np.random.default_rng(0).uniform(0, 0.5, (200, 3))
    for k, cat in enumerate(["sofa", "chair", "chair", "sofa", "chair"]):
        a.add_points(pts)
        a.observe(k, k * 0.1, None, category=cat)
    assert a.category == "chair" and a.votes == {"chair": 3, "sofa": 2}
    b = InstanceState(2, "sofa", 0.02, 1000, 0.05)
    for k in range(2):
        b.add_points(pts)
        b.observe(10 + k, 1.0, None, category="sofa")
    a.absorb(b)
    assert a.votes == {"chair": 3, "sofa": 4} and a.category == "sofa"


def test_coarse_hits_count_observations_and_support_gates_points_seen_once():
    inst = InstanceState(1, "box", 0.02, 10_000, 0.05)
    core = np.random.default_rng(0).uniform(0, 0.4, (500, 3))
    for k in range(3):
        inst.add_points(core)
        inst.observe(k, 0.1 * k, None)
    stray = np.array([[1.5, 1.5, 1.5]])
    inst.add_points(stray)
    assert inst.coarse_hits.max() == 3 and inst.coarse_hits.min() == 1  # the core seen 3 times, the stray once
    keep = inst.supported(2)
    assert not keep[np.all(np.isclose(inst.points, stray[0], atol=1e-3), axis=1)].any()
    assert keep.sum() == len(inst) - 1
    assert inst.supported(1).all()
    inst.keep(np.ones(len(inst), bool))  # refreshing the coarse keys keeps their counts
    assert inst.coarse_hits.max() == 3 and inst.coarse_hits.min() == 1


@pytest.fixture(scope="module")
def orbit():
    w = kit.World()
    w.add(1, "chair", [2.0, 2.0, 0.45], [0.5, 0.5, 0.9])
    w.add(2, "chair", [2.65, 2.0, 0.45], [0.5, 0.5, 0.9])
    w.add(3, "table", [3.2, 3.0, 0.375], [1.2, 0.7, 0.75], 0.3)
    return w, kit.frames(w, kit.orbit_poses([2.5, 2.3], 1.5, 16, target_z=0.4), kit.small_K(128, 96))


def canned(frames, flicker: dict[int, str] | None = None, extra: dict[int, list] | None = None) -> dict:
    """Given detections per frame; ``flicker``: frame -> label given to object 1 there; ``extra`` detections."""
    out = {}
    for f in frames:
        dets = []
        for iid, cat in f.instance_labels.items():
            m = f.instance_ids == iid
            if m.sum() >= 40:
                label = (flicker or {}).get(f.index, cat) if iid == 1 else cat
                dets.append(Detection2D(f.index, label, m))
        out[f.index] = dets + list((extra or {}).get(f.index, ()))
    return out


def test_label_flicker_is_absorbed_into_the_object_as_votes(orbit):
    _, frames = orbit
    dets = canned(frames, flicker={3: "sofa", 7: "sofa", 11: "sofa"})
    cfg = dataclasses.replace(CFG, instances=InstancesConfig("fake", options={"detections": dets}))
    exact = build_memory(frames, cfg)
    assert sorted(i.category for i in exact.instances) == ["chair", "chair", "sofa", "table"]  # the ghost sofa
    mem = build_memory(frames, dataclasses.replace(cfg, robust="on"))
    assert sorted(i.category for i in mem.instances) == ["chair", "chair", "table"]
    chair1 = min((i for i in mem.instances if i.category == "chair"), key=lambda i: i.box.center[0])
    assert chair1.n_observations == 16  # the three mislabelled views were fused into it
    assert mem.metadata["robust"] == {"geometry": True, "instances": True}


def test_false_positive_seen_twice_is_not_in_the_robust_snapshot(orbit):
    _, frames = orbit
    fp = np.zeros_like(frames[0].instance_ids, bool)
    fp[5:20, 5:30] = True  # a box-shaped mask on the wall / floor behind the objects
    again = dataclasses.replace(frames[0], index=16, timestamp_s=1.6)  # the camera comes back to its start
    seq = frames + [again]
    dets = canned(seq, extra={0: [Detection2D(0, "box", fp)], 16: [Detection2D(16, "box", fp)]})
    cfg = dataclasses.replace(CFG, instances=InstancesConfig("fake", options={"detections": dets}))
    assert "box" in {i.category for i in build_memory(seq, cfg).instances}  # exact settings keep it (2 views)
    mem = build_memory(seq, dataclasses.replace(cfg, robust="on"))
    assert sorted(i.category for i in mem.instances) == ["chair", "chair", "table"]


def test_robust_settings_follow_the_backends_exact_flag():
    given = MemoryBuilder(BuilderConfig())
    assert given.robust == {"geometry": False, "instances": False} and given.config == BuilderConfig()
    noisy_geo = MemoryBuilder(BuilderConfig(geometry=GeometryConfig("noisy")))
    assert noisy_geo.robust == {"geometry": True, "instances": False}
    assert noisy_geo.config.lift.depth_median == ROBUST_GEOMETRY["lift.depth_median"]
    assert noisy_geo.config.min_observations == BuilderConfig().min_observations  # an instances setting
    noisy = MemoryBuilder(BuilderConfig(geometry=NOISY_GEO, instances=NOISY_INST, min_observations=1))
    assert noisy.config.min_observations == 1  # a setting the caller changed is kept
    assert noisy.config.association.absorb_overlap > 0
    off = MemoryBuilder(BuilderConfig(geometry=NOISY_GEO, instances=NOISY_INST, robust="off"))
    assert off.robust == {"geometry": False, "instances": False} and off.config.lift == LiftConfig()
    with pytest.raises(InputError, match="robust"):
        robust_config(BuilderConfig(robust="maybe"), True, True)


def test_a_geometry_backend_can_exempt_robust_settings_that_do_not_suit_its_depth():
    from spatialmem.memory.builder import BuilderConfig
    from spatialmem.memory.robust import robust_config

    full, _ = robust_config(BuilderConfig(), False, True)
    exempt, _ = robust_config(BuilderConfig(), False, True, ("min_voxel_hits",))
    assert full.min_voxel_hits == 2 and exempt.min_voxel_hits == BuilderConfig().min_voxel_hits
    assert exempt.box_trim_fraction == full.box_trim_fraction > 0
