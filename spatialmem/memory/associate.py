"""Associate observations with fused instances, merge duplicates and denoise (ConceptGraphs-style, geometric).

Association never uses source instance ids: an observation matches an instance of the **same
category** when their 3D geometry overlaps, measured two ways on coarse voxels:

* voxel overlap: how many of the smaller side's coarse voxels have an occupied voxel of the other
  side at or next to them (26-neighbourhood), divided by that side's voxel count;
* box overlap: intersection volume of the two axis-aligned bounds (grown by a small margin) over the
  smaller one's volume (catches the same object seen from opposite sides, whose surfaces do not touch).

When both carry features, their cosine similarity must also pass a threshold and adds to the score.
Matching is greedy one-to-one per frame, best score first. Candidates come from a
:class:`SpatialHash` of instance bounds, so the cost depends on what is in view, not on the scene size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatialmem.geometry.pointcloud import cluster_filter, min_distance, voxel_keys
from spatialmem.memory.instance_state import InstanceState, overlap_count
from spatialmem.types import Observation3D


@dataclass(frozen=True)
class AssociationConfig:
    """Thresholds of association, duplicate merging and denoising.

    Attributes:
        assoc_voxel_m: coarse voxel size of the overlap test.
        min_overlap: voxel-overlap ratio that makes a match.
        min_box_overlap: box-overlap ratio that makes a match.
        box_margin_m: bounds are grown by this on every side before the box-overlap test.
        min_feature_sim: cosine similarity below which two featured things never match.
        feature_weight: weight of the cosine similarity in the match score.
        merge_overlap, merge_box_overlap: the same tests between two instances for duplicate merging.
        fragment_gap_m, fragment_growth: two same-category instances that were never observed in the same
            frame (one mask per object per frame, so co-visible instances are distinct objects), whose points
            come within ``fragment_gap_m`` and whose joint bounds are at most ``fragment_growth`` times the
            sum of their own bound volumes, are fragments of one object seen piecewise (e.g. the lower and
            upper part of a door in different frames) and are merged.
        fragment_nested: two such instances whose joint bounds are larger are still fragments when at least
            this fraction of the smaller one's floor footprint (bounds grown by ``fragment_gap_m``) lies in the
            larger one's: pieces stacked in one footprint, like a chair's back and its seat (two separate
            objects of one category do not share a footprint).
        absorb_overlap, absorb_support: an instance whose coarse voxels lie, for at least ``absorb_overlap`` of
            them, in the voxels of another instance *of any category* that was observed at least
            ``1 / absorb_support`` times as often, and more often at that place (:func:`subsumed_by`), is a
            mislabelled view of that object (a detector's label flicker): it is absorbed, its observations
            becoming category votes (0 disables, the default for exact instances).
        denoise_voxel_m, denoise_min_fraction: instance points in 26-connected clusters smaller than
            this fraction of the largest cluster are removed by periodic denoising (0 disables).
        hash_cell_m: cell size of the spatial hash over instance bounds.
    """

    assoc_voxel_m: float = 0.05
    min_overlap: float = 0.2
    min_box_overlap: float = 0.5
    box_margin_m: float = 0.03
    min_feature_sim: float = 0.5
    feature_weight: float = 0.5
    merge_overlap: float = 0.3
    merge_box_overlap: float = 0.6
    fragment_gap_m: float = 0.12
    fragment_growth: float = 1.5
    fragment_nested: float = 0.6
    absorb_overlap: float = 0.0
    absorb_support: float = 0.25
    denoise_voxel_m: float = 0.05
    denoise_min_fraction: float = 0.05
    hash_cell_m: float = 1.0


class SpatialHash:
    """Instance ids bucketed by the floor-plane cells their bounds cover."""

    def __init__(self, cell_m: float = 1.0) -> None:
        self.cell_m = float(cell_m)
        self._cells: dict[tuple[int, int], set[int]] = {}
        self._where: dict[int, list[tuple[int, int]]] = {}

    def _span(self, lo: np.ndarray, hi: np.ndarray) -> list[tuple[int, int]]:
        a = np.floor(np.asarray(lo[:2]) / self.cell_m).astype(int)
        b = np.floor(np.asarray(hi[:2]) / self.cell_m).astype(int)
        b = np.minimum(b, a + 64)  # guard against absurd bounds
        return [(i, j) for i in range(a[0], b[0] + 1) for j in range(a[1], b[1] + 1)]

    def update(self, instance_id: int, lo: np.ndarray, hi: np.ndarray) -> None:
        """(Re-)insert an instance with bounds ``lo``..``hi``."""
        self.remove(instance_id)
        if not np.all(np.isfinite(lo)) or not np.all(np.isfinite(hi)):
            return
        cells = self._span(lo, hi)
        for c in cells:
            self._cells.setdefault(c, set()).add(instance_id)
        self._where[instance_id] = cells

    def remove(self, instance_id: int) -> None:
        for c in self._where.pop(instance_id, ()):
            s = self._cells.get(c)
            if s is not None:
                s.discard(instance_id)
                if not s:
                    del self._cells[c]

    def query(self, lo: np.ndarray, hi: np.ndarray) -> set[int]:
        """Ids of instances whose cells meet the cells of ``lo``..``hi``."""
        out: set[int] = set()
        for c in self._span(lo, hi):
            out |= self._cells.get(c, set())
        return out


def box_overlap(lo_a, hi_a, lo_b, hi_b, margin: float) -> float:
    """Intersection volume of two axis-aligned boxes (grown by ``margin``) over the smaller volume."""
    la, ha, lb, hb = lo_a - margin, hi_a + margin, lo_b - margin, hi_b + margin
    inter = np.clip(np.minimum(ha, hb) - np.maximum(la, lb), 0.0, None).prod()
    va, vb = np.prod(ha - la), np.prod(hb - lb)
    small = min(va, vb)
    return float(inter / small) if small > 0 else 0.0


def _feature_sim(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(np.dot(a, b) / (na * nb)) if na > 0 and nb > 0 else 0.0


def pair_score(keys_a: np.ndarray, lo_a, hi_a, feat_a, inst: InstanceState, cfg: AssociationConfig,
               min_overlap: float, min_box: float) -> float | None:
    """Match score of a (coarse keys, bounds, feature) thing against an instance, or None if no match."""
    m = overlap_count(keys_a, inst.coarse)
    geo = m / max(1, min(len(keys_a), len(inst.coarse)))
    box = box_overlap(lo_a, hi_a, inst.lo, inst.hi, cfg.box_margin_m)
    if geo < min_overlap and box < min_box:
        return None
    score = geo + 0.5 * box
    fs = _feature_sim(feat_a, inst.feature)
    if fs is not None:
        if fs < cfg.min_feature_sim:
            return None
        score += cfg.feature_weight * fs
    return score


def match_observations(observations: list[Observation3D], instances: dict[int, InstanceState], index: SpatialHash,
                       cfg: AssociationConfig) -> list[int | None]:
    """For each observation, the id of the instance it matches, or None (greedy one-to-one, best first)."""
    pairs: list[tuple[float, int, int]] = []
    for i, ob in enumerate(observations):
        keys = np.unique(voxel_keys(ob.points_world, cfg.assoc_voxel_m))
        lo, hi = ob.points_world.min(axis=0).astype(np.float64), ob.points_world.max(axis=0).astype(np.float64)
        m = cfg.box_margin_m + cfg.assoc_voxel_m
        for iid in index.query(lo - m, hi + m):
            inst = instances[iid]
            if inst.category != ob.category:
                continue
            s = pair_score(keys, lo, hi, ob.feature, inst, cfg, cfg.min_overlap, cfg.min_box_overlap)
            if s is not None:
                pairs.append((s, i, iid))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    out: list[int | None] = [None] * len(observations)
    used: set[int] = set()
    for _, i, iid in pairs:
        if out[i] is None and iid not in used:
            out[i] = iid
            used.add(iid)
    return out


def find_duplicates(touched: set[int], instances: dict[int, InstanceState], index: SpatialHash,
                    cfg: AssociationConfig) -> list[tuple[int, int]]:
    """Pairs (keep_id, drop_id) of same-category instances that overlap enough to be one object.

    Only instances in ``touched`` (and their spatial-hash neighbours) are compared; the older (lower id)
    instance is kept. Each id appears in at most one pair per call.
    """
    out: list[tuple[int, int]] = []
    gone: set[int] = set()
    for a_id in sorted(touched):
        if a_id in gone or a_id not in instances:
            continue
        a = instances[a_id]
        if len(a.coarse) == 0:
            continue
        for b_id in sorted(index.query(*a.aabb(cfg.box_margin_m + cfg.assoc_voxel_m))):
            if b_id == a_id or b_id in gone or b_id not in instances:
                continue
            b = instances[b_id]
            if b.category != a.category or len(b.coarse) == 0:
                continue
            if pair_score(a.coarse, a.lo, a.hi, a.feature, b, cfg, cfg.merge_overlap, cfg.merge_box_overlap) is None \
                    and not are_fragments(a, b, cfg):
                continue
            keep, drop = min(a_id, b_id), max(a_id, b_id)
            out.append((keep, drop))
            gone.update((keep, drop))
            break
    return out


def subsumed_by(a: InstanceState, b: InstanceState, cfg: AssociationConfig) -> bool:
    """Whether ``a`` is a low-support copy of ``b`` (see ``AssociationConfig.absorb_overlap``).

    ``a`` must lie in ``b``'s coarse voxels, have at most ``absorb_support`` times ``b``'s observations, and
    ``b`` must be the better seen *there*: the 90th percentile of the observation counts of ``b``'s coarse
    voxels where ``a`` is must exceed that of ``a``'s own (an instance that merely swallowed a false positive
    covering ``a`` saw that place once or twice, and does not count as its host).
    """
    if cfg.absorb_overlap <= 0 or len(a.coarse) == 0 or len(b.coarse) == 0 \
            or a.n_observations > cfg.absorb_support * b.n_observations:
        return False
    pos = np.minimum(np.searchsorted(b.coarse, a.coarse), len(b.coarse) - 1)
    shared = b.coarse[pos] == a.coarse
    if shared.sum() < cfg.absorb_overlap * len(a.coarse):
        return False
    return float(np.quantile(a.coarse_hits, 0.9)) < float(np.quantile(b.coarse_hits[pos[shared]], 0.9))


def find_absorbed(touched: set[int], instances: dict[int, InstanceState], index: SpatialHash,
                  cfg: AssociationConfig) -> list[tuple[int, int]]:
    """Pairs (keep_id, drop_id): instances of ``touched`` that are low-support copies of a neighbour (any category).

    The best-supported host is kept; each id appears in at most one pair per call (empty when
    ``cfg.absorb_overlap`` is 0).
    """
    if cfg.absorb_overlap <= 0:
        return []
    out: list[tuple[int, int]] = []
    used: set[int] = set()
    for a_id in sorted(touched):
        a = instances.get(a_id)
        if a is None or a_id in used or len(a.coarse) == 0:
            continue
        hosts = [b_id for b_id in sorted(index.query(*a.aabb(cfg.assoc_voxel_m)))
                 if b_id != a_id and b_id not in used and b_id in instances
                 and subsumed_by(a, instances[b_id], cfg)]
        if hosts:
            keep = max(hosts, key=lambda i: (instances[i].n_observations, -i))
            out.append((keep, a_id))
            used.update((keep, a_id))
    return out


def _aabb_volume(lo: np.ndarray, hi: np.ndarray, margin: float) -> float:
    return float(np.prod(np.maximum(hi - lo, 0.0) + 2 * margin))


def _footprint_nested(a: InstanceState, b: InstanceState, grow_m: float) -> float:
    """Fraction of the smaller floor footprint (xy bounds grown by ``grow_m``) inside the larger one."""
    alo, ahi, blo, bhi = a.lo[:2] - grow_m, a.hi[:2] + grow_m, b.lo[:2] - grow_m, b.hi[:2] + grow_m
    inter = float(np.prod(np.maximum(np.minimum(ahi, bhi) - np.maximum(alo, blo), 0.0)))
    smaller = min(float(np.prod(ahi - alo)), float(np.prod(bhi - blo)))
    return inter / smaller if smaller > 0 else 0.0


def are_fragments(a: InstanceState, b: InstanceState, cfg: AssociationConfig) -> bool:
    """Whether two same-category instances look like pieces of one object (see ``fragment_gap_m``)."""
    if cfg.fragment_gap_m <= 0 or set(a.recent_frames) & set(b.recent_frames):
        return False
    if np.any(a.lo - cfg.fragment_gap_m > b.hi) or np.any(b.lo - cfg.fragment_gap_m > a.hi):
        return False
    m = cfg.box_margin_m
    joint = _aabb_volume(np.minimum(a.lo, b.lo), np.maximum(a.hi, b.hi), m)
    if joint > cfg.fragment_growth * (_aabb_volume(a.lo, a.hi, m) + _aabb_volume(b.lo, b.hi, m)) \
            and _footprint_nested(a, b, cfg.fragment_gap_m) < cfg.fragment_nested:
        return False
    if a.feature is not None and b.feature is not None:
        fs = _feature_sim(a.feature, b.feature)
        if fs is not None and fs < cfg.min_feature_sim:
            return False
    return min_distance(a.points, b.points) <= cfg.fragment_gap_m


def denoise(inst: InstanceState, cfg: AssociationConfig) -> bool:
    """Drop small disconnected clusters of an instance's points; True if anything was removed."""
    if cfg.denoise_min_fraction <= 0 or len(inst) < 20:
        return False
    keep = cluster_filter(inst.points, cfg.denoise_voxel_m, cfg.denoise_min_fraction)
    if keep.all():
        return False
    inst.keep(keep)
    return True
