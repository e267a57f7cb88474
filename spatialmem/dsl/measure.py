"""Closest-point distances between memory instances (the VSI-Bench definition), with per-memory caches.

Two instances with fused points: the smallest point-to-point distance (scipy cKDTree, one tree per
instance id). Otherwise: the exact distance between their solid boxes, with a fast exact path for
gravity-aligned boxes (vertical prisms). Caches live as long as the (immutable) memory object.
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


def closest_distance(memory: SceneMemory, a: ObjectInstance, b: ObjectInstance) -> float:
    """Closest-point distance (m): min over fused points when both have points, else exact box distance."""
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
            d = prism_distance(a.box, b.box)
        pairs[key] = d
    return d


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
