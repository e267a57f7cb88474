"""Mutable per-instance accumulation used while building a memory (never handed to queries).

An :class:`InstanceState` fuses the points of every observation associated with it into a sparse
voxel grid (voxel-mean points, sorted int64 keys) whose size is capped: when the cap is exceeded
the voxel size doubles and the grid is re-binned, so an instance's cost stays bounded however long
it is watched. A second, coarse key set (``assoc_voxel_m``) is what association and duplicate
merging compare; each coarse voxel also counts the observations that reached it (``coarse_hits``: the
support that robust snapshots and absorption test, :mod:`.robust`). Times, the observation count, a
running feature mean (over the observations that had a feature) and the category votes of its
observations are kept too: the instance's category is the one most of its observations gave (ties: the
first given), so a detector's one-frame label flicker does not rename it.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from spatialmem.geometry.pointcloud import pack_keys, unpack_keys, voxel_keys

RECENT_FRAMES = 64  # frame indices of its latest observations an instance remembers (co-visibility tests)
_NB = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=np.int64)


def _sum_rows(inv: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    """(n, 3) float64 per-group sums of (N, 3) ``values`` grouped by ``inv``."""
    return np.stack([np.bincount(inv, weights=values[:, k], minlength=n) for k in range(3)], axis=1)


def neighbourhood_keys(keys: np.ndarray) -> np.ndarray:
    """(N, 27) keys of each voxel and its 26 neighbours (same voxel size)."""
    c = unpack_keys(keys)
    return pack_keys((c[:, None, :] + _NB[None]).reshape(-1, 3)).reshape(len(keys), 27)


def overlap_count(query_keys: np.ndarray, ref_sorted: np.ndarray, dilate: bool = True) -> int:
    """How many of ``query_keys`` (unique) have ``ref_sorted`` voxels at or (if ``dilate``) next to them."""
    if len(query_keys) == 0 or len(ref_sorted) == 0:
        return 0
    q = neighbourhood_keys(query_keys) if dilate else query_keys[:, None]
    pos = np.searchsorted(ref_sorted, q.ravel())
    hit = ref_sorted[np.minimum(pos, len(ref_sorted) - 1)] == q.ravel()
    return int(hit.reshape(q.shape).any(axis=1).sum())


class InstanceState:
    """One object being fused.

    Args:
        instance_id: id (>= 1) it will have in the memory.
        category: category name.
        voxel_m: initial voxel size of the fused points.
        max_voxels: voxel cap (the voxel size doubles when exceeded).
        assoc_voxel_m: voxel size of the coarse association keys.
    """

    def __init__(self, instance_id: int, category: str, voxel_m: float, max_voxels: int, assoc_voxel_m: float) -> None:
        self.id = int(instance_id)
        self.category = category
        self.voxel_m = float(voxel_m)
        self.max_voxels = int(max_voxels)
        self.assoc_voxel_m = float(assoc_voxel_m)
        self.keys = np.zeros(0, np.int64)
        self.sums = np.zeros((0, 3), np.float64)
        self.counts = np.zeros(0, np.int64)
        self.coarse = np.zeros(0, np.int64)
        self.coarse_hits = np.zeros(0, np.int64)  # per coarse voxel: observations (add_points calls) reaching it
        self.lo = np.full(3, np.inf)
        self.hi = np.full(3, -np.inf)
        self.first_seen_s: float | None = None  # first *sighting* (a mask big enough, see observe)
        self.last_seen_s: float | None = None
        self.first_any_s: float | None = None  # first observation of any size (fallback)
        self.n_observations = 0
        self.n_features = 0  # observations that carried a feature (the feature mean's count)
        self.feature: np.ndarray | None = None
        self.recent_frames: deque[int] = deque(maxlen=RECENT_FRAMES)  # frames of the latest observations
        self.votes: dict[str, int] = {}  # category -> observations that gave it (insertion order breaks ties)

    # ------------------------------------------------------------------ points
    @property
    def points(self) -> np.ndarray:
        """(M, 3) float32 fused points (voxel means)."""
        if len(self.counts) == 0:
            return np.zeros((0, 3), np.float32)
        return (self.sums / self.counts[:, None]).astype(np.float32)

    def __len__(self) -> int:
        return len(self.keys)

    def add_points(self, points: np.ndarray) -> None:
        """Fuse (N, 3) world points into the voxel grid (cost O(N log N + M))."""
        pts = np.asarray(points, np.float64).reshape(-1, 3)
        if len(pts) == 0:
            return
        k = voxel_keys(pts, self.voxel_m)
        uk, inv = np.unique(k, return_inverse=True)
        s = _sum_rows(inv, pts, len(uk))
        c = np.bincount(inv, minlength=len(uk)).astype(np.int64)
        if len(self.keys):
            pos = np.searchsorted(self.keys, uk)
            found = self.keys[np.minimum(pos, len(self.keys) - 1)] == uk
            if found.any():
                self.sums[pos[found]] += s[found]
                self.counts[pos[found]] += c[found]
            new = ~found
            self.keys = np.insert(self.keys, pos[new], uk[new])
            self.sums = np.insert(self.sums, pos[new], s[new], axis=0)
            self.counts = np.insert(self.counts, pos[new], c[new])
        else:
            self.keys, self.sums, self.counts = uk, s, c
        self.lo = np.minimum(self.lo, pts.min(axis=0))
        self.hi = np.maximum(self.hi, pts.max(axis=0))
        self._add_coarse(np.unique(voxel_keys(pts, self.assoc_voxel_m)), np.ones(1, np.int64))
        while len(self.keys) > self.max_voxels:
            self._rebin(self.voxel_m * 2.0)

    def _add_coarse(self, keys: np.ndarray, hits: np.ndarray) -> None:
        """Union ``keys`` (sorted unique) into the coarse set, adding ``hits`` (per key, or one for all)."""
        merged = np.union1d(self.coarse, keys)
        h = np.zeros(len(merged), np.int64)
        h[np.searchsorted(merged, self.coarse)] = self.coarse_hits
        h[np.searchsorted(merged, keys)] += hits
        self.coarse, self.coarse_hits = merged, h

    def support(self, points: np.ndarray | None = None) -> np.ndarray:
        """(M,) observations that reached the coarse voxel of each fused point (of ``points``, default all)."""
        pts = self.points if points is None else points
        if len(pts) == 0 or len(self.coarse) == 0:
            return np.zeros(len(pts), np.int64)
        k = voxel_keys(pts, self.assoc_voxel_m)
        pos = np.minimum(np.searchsorted(self.coarse, k), len(self.coarse) - 1)
        return np.where(self.coarse[pos] == k, self.coarse_hits[pos], 0)

    def supported(self, min_hits: int) -> np.ndarray:
        """(M,) bool: fused points whose coarse voxel at least ``min_hits`` observations reached; all of them when
        that would keep fewer than half (an object seen in one or two views stays whole)."""
        if min_hits <= 1:
            return np.ones(len(self), bool)
        keep = self.support() >= int(min_hits)
        return keep if keep.sum() >= max(8, len(keep) // 2) else np.ones(len(keep), bool)

    def _rebin(self, voxel_m: float) -> None:
        pts = self.sums / self.counts[:, None]
        k = voxel_keys(pts, voxel_m)
        uk, inv = np.unique(k, return_inverse=True)
        s = _sum_rows(inv, self.sums, len(uk))
        c = np.bincount(inv, weights=self.counts, minlength=len(uk)).astype(np.int64)
        self.keys, self.sums, self.counts, self.voxel_m = uk, s, c, voxel_m

    @property
    def first_time_s(self) -> float | None:
        """First sighting, or the first observation of any size when it was never fully sighted."""
        return self.first_seen_s if self.first_seen_s is not None else self.first_any_s

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the voxels where ``mask`` (M,) is True (denoising); recomputes extents and coarse keys."""
        self.keys, self.sums, self.counts = self.keys[mask], self.sums[mask], self.counts[mask]
        self._refresh()

    def _refresh(self) -> None:
        pts = self.points
        if len(pts):
            self.lo, self.hi = pts.min(axis=0).astype(np.float64), pts.max(axis=0).astype(np.float64)
            coarse = np.unique(voxel_keys(pts, self.assoc_voxel_m))
            pos = np.minimum(np.searchsorted(self.coarse, coarse), max(len(self.coarse) - 1, 0))
            known = (self.coarse[pos] == coarse) if len(self.coarse) else np.zeros(len(coarse), bool)
            self.coarse_hits = np.where(known, self.coarse_hits[pos] if len(self.coarse) else 0, 1).astype(np.int64)
            self.coarse = coarse
        else:
            self.lo, self.hi = np.full(3, np.inf), np.full(3, -np.inf)
            self.coarse, self.coarse_hits = np.zeros(0, np.int64), np.zeros(0, np.int64)

    # ------------------------------------------------------------------ bookkeeping
    def observe(self, frame_index: int, timestamp_s: float, feature: np.ndarray | None,
                sighted: bool = True, category: str | None = None) -> None:
        """Record one fused observation (time, count, feature running mean over the observations with one).

        ``sighted`` says whether the mask was large enough to count as the object being *seen*; only
        sightings set ``first_seen_s`` (slivers at the image border still add points). ``category``: the
        observation's label, a vote for the instance's category (default: the instance's own).
        """
        self.n_observations += 1
        self._vote({category or self.category: 1})
        self.recent_frames.append(int(frame_index))
        if self.first_any_s is None or timestamp_s < self.first_any_s:
            self.first_any_s = float(timestamp_s)
        if sighted and (self.first_seen_s is None or timestamp_s < self.first_seen_s):
            self.first_seen_s = float(timestamp_s)
        if self.last_seen_s is None or timestamp_s >= self.last_seen_s:
            self.last_seen_s = float(timestamp_s)
        if feature is not None:
            f = np.asarray(feature, np.float32)
            self.n_features += 1
            self.feature = f.copy() if self.feature is None else self.feature + (f - self.feature) / self.n_features

    def absorb(self, other: InstanceState) -> None:
        """Merge another instance of the same object into this one."""
        if len(other.keys):
            # re-add the other's voxel means weighted by their counts: repeat means count-capped for cost
            pts = other.sums / other.counts[:, None]
            if other.voxel_m > self.voxel_m:
                self._rebin(other.voxel_m)
            k = voxel_keys(pts, self.voxel_m)
            allk = np.concatenate([self.keys, k])
            alls = np.concatenate([self.sums, other.sums])
            allc = np.concatenate([self.counts, other.counts])
            uk, inv = np.unique(allk, return_inverse=True)
            s = _sum_rows(inv, alls, len(uk))
            c = np.bincount(inv, weights=allc, minlength=len(uk)).astype(np.int64)
            self.keys, self.sums, self.counts = uk, s, c
            while len(self.keys) > self.max_voxels:
                self._rebin(self.voxel_m * 2.0)
            self._add_coarse(other.coarse, other.coarse_hits)
            self._refresh()
        self.n_observations += other.n_observations
        self._vote(other.votes)
        for time_attr, earliest in (("first_seen_s", True), ("first_any_s", True), ("last_seen_s", False)):
            t = getattr(other, time_attr)
            if t is None:
                continue
            cur = getattr(self, time_attr)
            if cur is None or (t < cur if earliest else t > cur):
                setattr(self, time_attr, t)
        self.recent_frames = deque(sorted(set(self.recent_frames) | set(other.recent_frames))[-RECENT_FRAMES:],
                                   maxlen=RECENT_FRAMES)
        if other.feature is not None:
            if self.feature is None:
                self.feature = other.feature.copy()
            else:
                w = other.n_features / max(1, self.n_features + other.n_features)
                self.feature = (1 - w) * self.feature + w * other.feature
        self.n_features += other.n_features

    def _vote(self, votes: dict[str, int]) -> None:
        for cat, n in votes.items():
            self.votes[cat] = self.votes.get(cat, 0) + int(n)
        best = max(self.votes.values())
        self.category = next(c for c, n in self.votes.items() if n == best)

    def aabb(self, margin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned bounds (lo, hi) of the fused points grown by ``margin`` metres."""
        return self.lo - margin, self.hi + margin
