"""Closest-point distances between memory instances (the VSI-Bench definition), with per-memory caches.

Two instances with fused points: the smallest point-to-point distance (scipy cKDTree, one tree per
instance id). Otherwise: the exact distance between their solid boxes, with a fast exact path for
gravity-aligned boxes (vertical prisms), computed from one reference to every box of the memory at
once. Caches live as long as the (immutable) memory object; :func:`prepare` fills the per-instance
part (box prisms, KD-trees) when the memory is loaded (``spatialmem.memory.store.load_memory``).
Used by the query language (``spatialmem.dsl.runtime``); depends only on geometry and the memory.
"""

from __future__ import annotations

import weakref

import numpy as np

from spatialmem.geometry.boxes import box_distance
from spatialmem.memory.scene import ObjectInstance, SceneMemory

_CACHES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def memory_cache(memory: SceneMemory) -> dict:
    """Per-memory cache (KD-trees per instance id, pairwise distances); dropped with the memory."""
    try:
        return _CACHES[memory]
    except KeyError:
        c: dict = {}
        _CACHES[memory] = c
        return c


def _tree(memory: SceneMemory, o: ObjectInstance):
    trees = memory_cache(memory).setdefault("trees", {})
    t = trees.get(o.id)
    if t is None:
        from scipy.spatial import cKDTree

        t = trees[o.id] = cKDTree(np.asarray(o.points_world, dtype=np.float64))
    return t


class _Footprints:
    """Every instance's box as a vertical prism, for one-to-all box distances (built once per memory).

    ``poly``: (N, 4, 2) floor-plane corners, metres; ``z``: (N, 2) bottom and top, metres;
    ``upright``: (N,) the box is gravity-aligned; ``row``: instance id -> index; ``ids``: (N,) instance ids;
    ``has_points``: (N,) the instance has fused points (its distances use them, not the box).
    """

    def __init__(self, memory: SceneMemory) -> None:
        insts = memory.instances
        self.row = {o.id: i for i, o in enumerate(insts)}
        self.instances = insts
        self.ids = [o.id for o in insts]
        self.has_points = np.array([len(o.points_world) > 0 for o in insts], bool)
        if not insts:
            self.poly, self.z, self.upright = np.zeros((0, 4, 2)), np.zeros((0, 2)), np.zeros(0, bool)
            return
        c = np.array([o.box.center for o in insts], np.float64)
        s = np.array([o.box.size for o in insts], np.float64)
        ax = np.array([o.box.axes for o in insts], np.float64)
        hx = ax[:, 0, :2] * (s[:, 0:1] / 2.0)
        hy = ax[:, 1, :2] * (s[:, 1:2] / 2.0)
        xy = c[:, :2]
        self.poly = np.stack([xy - hx - hy, xy + hx - hy, xy + hx + hy, xy - hx + hy], axis=1)
        self.z = np.stack([c[:, 2] - s[:, 2] / 2.0, c[:, 2] + s[:, 2] / 2.0], axis=1)
        self.upright = np.abs(ax[:, 2, 2]) >= 1.0 - 1e-9

    def rows_from(self, rows: np.ndarray) -> np.ndarray:
        """(B, N) exact closest distances (m) from the boxes of ``rows`` to every box (NaN unless both upright)."""
        P, Q = self.poly[rows][:, None], self.poly[None]  # (B, 1, 4, 2), (1, N, 4, 2)
        za, zb = self.z[rows][:, None], self.z[None]
        dz = np.maximum(0.0, np.maximum(za[..., 0], zb[..., 0]) - np.minimum(za[..., 1], zb[..., 1]))
        dxy = np.where(_apart(P, Q), np.minimum(_corners_to_edges(P, Q), _corners_to_edges(Q, P)), 0.0)
        out = np.hypot(dxy, dz)
        out[~(self.upright[rows][:, None] & self.upright[None])] = np.nan
        return out


def _corners_to_edges(X: np.ndarray, S: np.ndarray) -> np.ndarray:
    """(B, N) smallest distance from the corners X (B|1, N|1, 4, 2) to the closed quadrilaterals S (same)."""
    d = np.roll(S, -1, axis=-2) - S  # (..., 4 edges, 2)
    rel = X[..., :, None, :] - S[..., None, :, :]  # (..., 4 corners, 4 edges, 2)
    t = np.clip((rel * d[..., None, :, :]).sum(-1) / np.maximum((d * d).sum(-1), 1e-18)[..., None, :], 0.0, 1.0)
    diff = rel - t[..., None] * d[..., None, :, :]
    return np.sqrt((diff * diff).sum(-1).min(axis=(-2, -1)))


def _apart(P: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """(B, N) the convex quadrilaterals P and Q (broadcasting (..., 4, 2)) are apart on the floor plane."""
    sep = np.zeros(np.broadcast_shapes(P.shape, Q.shape)[:-2], bool)
    for poly in (P, Q):
        e = np.roll(poly, -1, axis=-2) - poly
        n = np.stack([-e[..., 1], e[..., 0]], axis=-1)  # (..., 4 normals, 2)
        pp = (P[..., :, None, :] * n[..., None, :, :]).sum(-1)  # (..., 4 corners, 4 normals)
        qq = (Q[..., :, None, :] * n[..., None, :, :]).sum(-1)
        gap = (pp.max(-2) < qq.min(-2) - 1e-12) | (qq.max(-2) < pp.min(-2) - 1e-12)
        sep |= gap.any(axis=-1)
    return sep


_PAIRS_PER_PASS = 4096
#: :func:`prepare` precomputes all pairs only up to this many instances (a room holds tens; the pair table
#: grows with the square of the count, so a memory larger than this is measured lazily, one reference
#: object to all others per query, as before).
PREPARE_MAX_INSTANCES = 512


def prepare(memory: SceneMemory) -> None:
    """Compute now what closest-point distances need, so the first question about a memory does not pay.

    Builds the box prisms, every distance between two gravity-aligned boxes (vectorized, a block of rows
    per pass; pairs where both instances have points use their KD-trees, tilted boxes are measured when
    asked) and one KD-tree per instance with points.
    Called by ``spatialmem.memory.store.load_memory``; idempotent; skipped, all of it happens lazily.
    Memories of more than :data:`PREPARE_MAX_INSTANCES` instances are left to the lazy path.
    """
    if len(memory.instances) > PREPARE_MAX_INSTANCES:
        return
    f = _footprints(memory)
    pairs = memory_cache(memory).setdefault("pairs", {})
    n = len(f.instances)
    step = max(1, _PAIRS_PER_PASS // max(n, 1))
    for lo in range(0, n, step):
        rows = np.arange(lo, min(n, lo + step))
        _store_rows(f, rows, f.rows_from(rows), pairs)
    for o in memory.instances:
        if len(o.points_world):
            _tree(memory, o)


def _store_rows(f: _Footprints, rows: np.ndarray, dist: np.ndarray, pairs: dict) -> None:
    ids, has_points = f.ids, f.has_points
    for r, i in enumerate(rows):
        a = ids[i]
        for k in np.flatnonzero(np.isfinite(dist[r]) & ~(has_points[i] & has_points)):
            if k != i:
                b = ids[k]
                pairs.setdefault((a, b) if a <= b else (b, a), float(dist[r, k]))


def _footprints(memory: SceneMemory) -> _Footprints:
    cache = memory_cache(memory)
    f = cache.get("footprints")
    if f is None:
        f = cache["footprints"] = _Footprints(memory)
    return f


def is_prepared(memory: SceneMemory) -> bool:
    """Whether :func:`prepare` (or a first distance query) has built the memory's box prisms."""
    return "footprints" in memory_cache(memory)


def closest_distance(memory: SceneMemory, a: ObjectInstance, b: ObjectInstance) -> float:
    """Closest-point distance (m): min over fused points when both have points, else exact box distance.

    Box distances are computed a row at a time (``a`` to every instance of the memory, one vectorized
    pass) and cached, so ranking candidates against one reference costs one pass, not one per pair.
    """
    if a is b:
        return 0.0
    key = (a.id, b.id) if a.id <= b.id else (b.id, a.id)
    pairs = memory_cache(memory).setdefault("pairs", {})
    d = pairs.get(key)
    if d is None:
        pa, pb = a.points_world, b.points_world
        if len(pa) and len(pb):
            small, big = (a, b) if len(pa) <= len(pb) else (b, a)
            d = float(_tree(memory, big).query(np.asarray(small.points_world, np.float64), k=1)[0].min())
        else:
            d = _box_distance(memory, a, b, pairs)
        pairs[key] = d
    return d


def _box_distance(memory: SceneMemory, a: ObjectInstance, b: ObjectInstance, pairs: dict) -> float:
    f = _footprints(memory)
    i, j = f.row.get(a.id), f.row.get(b.id)
    if i is None or j is None or f.instances[i] is not a or f.instances[j] is not b \
            or not (f.upright[i] and f.upright[j]):
        return prism_distance(a.box, b.box)
    row = f.rows_from(np.array([i]))
    _store_rows(f, np.array([i]), row, pairs)
    return float(row[0, j])


def _footprint_z(box) -> tuple[np.ndarray, float, float]:
    c, s, ax = box.center, box.size, box.axes
    hx, hy = ax[0, :2] * (s[0] / 2.0), ax[1, :2] * (s[1] / 2.0)
    xy = c[:2]
    poly = np.array([xy - hx - hy, xy + hx - hy, xy + hx + hy, xy - hx + hy])
    return poly, c[2] - s[2] / 2.0, c[2] + s[2] / 2.0


def _separated(P: np.ndarray, Q: np.ndarray) -> bool:
    for poly in (P, Q):
        e = np.roll(poly, -1, axis=0) - poly
        n = np.stack([-e[:, 1], e[:, 0]], axis=1)  # (4, 2) edge normals
        pp, qq = P @ n.T, Q @ n.T
        if np.any((pp.max(axis=0) < qq.min(axis=0) - 1e-12) | (qq.max(axis=0) < pp.min(axis=0) - 1e-12)):
            return True
    return False


def _points_to_segments(X: np.ndarray, S: np.ndarray) -> float:
    d = np.roll(S, -1, axis=0) - S  # (4, 2)
    rel = X[:, None, :] - S[None, :, :]  # (n, 4, 2)
    t = np.clip(np.einsum("nkj,kj->nk", rel, d) / np.maximum(np.einsum("kj,kj->k", d, d), 1e-18), 0.0, 1.0)
    diff = rel - t[..., None] * d[None]
    return float(np.sqrt(np.einsum("nkj,nkj->nk", diff, diff).min()))


def prism_distance(a, b) -> float:
    """Exact closest distance (m) of two solid boxes; fast path for gravity-aligned boxes.

    Gravity-aligned boxes are vertical prisms, so the squared distance splits into the footprint
    polygons' squared distance plus the squared gap of the z intervals. Other boxes use
    :func:`spatialmem.geometry.boxes.box_distance`.
    """
    if abs(a.axes[2, 2]) < 1.0 - 1e-9 or abs(b.axes[2, 2]) < 1.0 - 1e-9:
        return float(box_distance(a, b))
    P, az0, az1 = _footprint_z(a)
    Q, bz0, bz1 = _footprint_z(b)
    dz = max(0.0, max(az0, bz0) - min(az1, bz1))
    dxy = min(_points_to_segments(P, Q), _points_to_segments(Q, P)) if _separated(P, Q) else 0.0
    return float(np.hypot(dxy, dz))
