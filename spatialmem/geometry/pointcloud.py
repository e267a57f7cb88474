"""Point-cloud utilities: voxel keys and downsampling, outlier removal, point-set distances.

All functions take (N, 3) arrays in metres and are vectorised (numpy / scipy's cKDTree).
Voxel keys pack integer voxel coordinates into one int64 (21 bits per axis, offset so negative
coordinates work), which is what the memory builder hashes on.
"""

from __future__ import annotations

import numpy as np

_BITS = 21
_OFF = 1 << (_BITS - 1)
_MASK = (1 << _BITS) - 1


def voxel_coords(points: np.ndarray, voxel_m: float) -> np.ndarray:
    """(N, 3) int64 integer voxel coordinates ``floor(p / voxel_m)``."""
    return np.floor(np.asarray(points, dtype=np.float64) / voxel_m).astype(np.int64)


def pack_keys(coords: np.ndarray) -> np.ndarray:
    """(N,) int64 keys of (N, 3) integer voxel coordinates (each within +-2^20)."""
    c = (np.asarray(coords, dtype=np.int64) + _OFF) & _MASK
    return (c[:, 0] << (2 * _BITS)) | (c[:, 1] << _BITS) | c[:, 2]


def unpack_keys(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`pack_keys`: (N, 3) int64 voxel coordinates."""
    k = np.asarray(keys, dtype=np.int64)
    return np.stack([(k >> (2 * _BITS)) & _MASK, (k >> _BITS) & _MASK, k & _MASK], axis=1) - _OFF


def voxel_keys(points: np.ndarray, voxel_m: float) -> np.ndarray:
    """(N,) int64 voxel keys of points."""
    return pack_keys(voxel_coords(points, voxel_m))


_NEIGHBOURS = np.array([(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=np.int64)


def dilate_keys(keys: np.ndarray) -> np.ndarray:
    """Unique keys of the voxels and their 26 neighbours."""
    c = unpack_keys(np.unique(keys))
    return np.unique(pack_keys((c[:, None, :] + _NEIGHBOURS[None]).reshape(-1, 3)))


def voxel_downsample(
    points: np.ndarray, voxel_m: float, colors: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Mean point (and mean colour) of each occupied voxel.

    Args:
        points: (N, 3) metres.
        voxel_m: voxel edge length in metres (> 0).
        colors: optional (N, C) values averaged per voxel (returned as float32).

    Returns:
        ((M, 3) float32 points, (M, C) float32 colours or None), voxels in key order.
    """
    pts = np.asarray(points, dtype=np.float32).reshape(-1, 3)
    if len(pts) == 0:
        return pts, (None if colors is None else np.zeros((0, np.asarray(colors).shape[-1]), np.float32))
    keys = voxel_keys(pts, voxel_m)
    uniq, inv, counts = np.unique(keys, return_inverse=True, return_counts=True)
    sums = np.stack([np.bincount(inv, weights=pts[:, k], minlength=len(uniq)) for k in range(3)], axis=1)
    out = sums / counts[:, None]
    col = None
    if colors is not None:
        c = np.asarray(colors, np.float64).reshape(len(pts), -1)
        col = np.stack([np.bincount(inv, weights=c[:, k], minlength=len(uniq)) for k in range(c.shape[1])], axis=1)
        col = (col / counts[:, None]).astype(np.float32)
    return out.astype(np.float32), col


def statistical_outliers(points: np.ndarray, k: int = 8, std_ratio: float = 2.5) -> np.ndarray:
    """(N,) bool inlier mask: mean distance to the ``k`` nearest neighbours within mean + std_ratio*std."""
    from scipy.spatial import cKDTree

    pts = np.asarray(points, dtype=np.float64)
    if len(pts) <= k:
        return np.ones(len(pts), bool)
    d, _ = cKDTree(pts).query(pts, k=k + 1)
    md = d[:, 1:].mean(axis=1)
    return md <= md.mean() + std_ratio * md.std()


def radius_outliers(points: np.ndarray, radius_m: float, min_neighbours: int = 3) -> np.ndarray:
    """(N,) bool inlier mask: points with at least ``min_neighbours`` others within ``radius_m``."""
    from scipy.spatial import cKDTree

    pts = np.asarray(points, dtype=np.float64)
    if len(pts) == 0:
        return np.ones(0, bool)
    tree = cKDTree(pts)
    counts = tree.query_ball_point(pts, radius_m, return_length=True)
    return np.asarray(counts) - 1 >= min_neighbours


def cluster_filter(points: np.ndarray, voxel_m: float = 0.05, min_fraction: float = 0.05, min_points: int = 3,
                   max_cells: int = 4_000_000) -> np.ndarray:
    """(N,) bool mask keeping the points of sizeable 26-connected voxel clusters.

    A cluster is kept when it holds at least ``min_fraction`` of the points of the largest cluster and at
    least ``min_points`` points; the largest is always kept. Flying pixels and stray mask bleed form small
    clusters away from the object and are dropped.
    """
    from scipy import ndimage

    pts = np.asarray(points, dtype=np.float64)
    n = len(pts)
    if n < 2 * min_points:
        return np.ones(n, bool)
    c = voxel_coords(pts, voxel_m)
    lo = c.min(axis=0)
    c = c - lo
    dims = c.max(axis=0) + 1
    while int(np.prod(dims)) > max_cells:  # very spread-out input: coarsen until the grid is affordable
        c //= 2
        dims = c.max(axis=0) + 1
    grid = np.zeros(tuple(int(v) for v in dims), dtype=bool)
    grid[c[:, 0], c[:, 1], c[:, 2]] = True
    labels, num = ndimage.label(grid, structure=np.ones((3, 3, 3), bool))
    if num <= 1:
        return np.ones(n, bool)
    lab = labels[c[:, 0], c[:, 1], c[:, 2]]
    sizes = np.bincount(lab, minlength=num + 1)
    sizes[0] = 0
    keep = (sizes >= max(min_points, min_fraction * sizes.max())) | (sizes == sizes.max())
    keep[0] = False
    return keep[lab]


def min_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Smallest Euclidean distance in metres between two point sets (N, 3) and (M, 3); inf if one is empty."""
    from scipy.spatial import cKDTree

    a = np.asarray(a, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(b, dtype=np.float64).reshape(-1, 3)
    if len(a) == 0 or len(b) == 0:
        return float("inf")
    if len(a) < len(b):
        a, b = b, a
    d, _ = cKDTree(a).query(b, k=1)
    return float(d.min())


def nn_ratio(query: np.ndarray, reference: np.ndarray, radius_m: float) -> float:
    """Fraction of ``query`` points with a ``reference`` point within ``radius_m`` (0 if either is empty)."""
    from scipy.spatial import cKDTree

    q = np.asarray(query, dtype=np.float64).reshape(-1, 3)
    r = np.asarray(reference, dtype=np.float64).reshape(-1, 3)
    if len(q) == 0 or len(r) == 0:
        return 0.0
    d, _ = cKDTree(r).query(q, k=1, distance_upper_bound=radius_m)
    return float(np.mean(np.isfinite(d)))
