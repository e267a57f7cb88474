"""One model from the pieces of an incremental reconstruction: merge models, then localize what is left.

COLMAP's incremental mapper starts a new model whenever it cannot register the next image (a turn in
place, a close-up of a plain wall); on video this splits the track into several overlapping models. This
module turns them into one:

1. **Merge** (:func:`merge_models`): the largest model absorbs every other model that shares enough
   3D-3D correspondences with it: the same feature triangulated in both (images registered in both), or
   two features joined by a geometrically verified match (one image in each model). A similarity is
   fitted to them by RANSAC (:func:`ransac_sim3`, 3-point samples, inliers within a fraction of the scene
   size) and refined on the inliers; the other model's cameras that the merged one lacks are moved in.
2. **Localize** (:func:`localize`): each image still missing gets an absolute pose from its 2D-3D
   correspondences (its verified matches to registered images whose features have 3D points), by
   pycolmap's LO-RANSAC P3P with non-linear refinement.

All arrays are float64 in the model's arbitrary similarity frame; poses are ``world_from_camera`` (4, 4)
with OpenCV camera axes; pixel coordinates are COLMAP's (pixel centres at +0.5) at the reconstruction's
image size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from spatialmem.perception.sfm.poses import Sim3, umeyama


@dataclass
class Model:
    """A reconstruction in plain arrays.

    Attributes:
        poses: image id -> (4, 4) ``world_from_camera``.
        kp_point: image id -> (n_keypoints,) int64 row in ``xyz`` of each keypoint's 3D point (-1: none).
        xyz: (P, 3) points.
        localized: image ids posed by :func:`localize` rather than by the mapper.
    """

    poses: dict[int, np.ndarray]
    kp_point: dict[int, np.ndarray]
    xyz: np.ndarray
    localized: set[int] = field(default_factory=set)


def from_reconstruction(rec, n_keypoints: dict[int, int]) -> Model:
    """A :class:`Model` from a ``pycolmap.Reconstruction`` (``n_keypoints``: image id -> keypoints in the database)."""
    rows: dict[int, int] = {}
    xyz = []
    for pid, p in rec.points3D.items():
        rows[int(pid)] = len(xyz)
        xyz.append(np.asarray(p.xyz, np.float64))
    poses, kp = {}, {}
    for iid, im in rec.images.items():
        if not im.has_pose:
            continue
        cfw = np.vstack([np.asarray(im.cam_from_world().matrix(), np.float64), [0.0, 0.0, 0.0, 1.0]])
        poses[int(iid)] = np.linalg.inv(cfw)
        a = -np.ones(n_keypoints.get(int(iid), im.num_points2D()), np.int64)
        for k, p2 in enumerate(im.points2D):
            if p2.has_point3D():
                a[k] = rows[int(p2.point3D_id)]
        kp[int(iid)] = a
    return Model(poses, kp, np.array(xyz, np.float64).reshape(-1, 3))


def ransac_sim3(src: np.ndarray, dst: np.ndarray, threshold: float, iterations: int = 300,
                seed: int = 0) -> tuple[Sim3 | None, np.ndarray]:
    """Similarity with ``dst ≈ s R src + t`` from (N, 3) correspondences with outliers.

    Returns the similarity refined on its inliers (distance < ``threshold`` in ``dst`` units) and the
    inlier mask, or (None, all False) with fewer than 3 correspondences.
    """
    n = len(src)
    best = np.zeros(n, bool)
    if n < 3:
        return None, best
    rng = np.random.default_rng(seed)
    for _ in range(iterations):
        idx = rng.choice(n, 3, replace=False)
        d = dst[idx]
        if np.linalg.norm(np.cross(d[1] - d[0], d[2] - d[0])) < 1e-12:
            continue
        sim = umeyama(src[idx], d)
        inl = np.linalg.norm(sim.points(src) - dst, axis=1) < threshold
        if inl.sum() > best.sum():
            best = inl
    if best.sum() < 3:
        return None, best
    for _ in range(2):
        sim = umeyama(src[best], dst[best])
        inl = np.linalg.norm(sim.points(src) - dst, axis=1) < threshold
        if inl.sum() < 3:
            break
        best = inl
    return umeyama(src[best], dst[best]), best


def _correspondences(a: Model, b: Model, matches: dict[tuple[int, int], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(N,) rows of ``a`` and (N,) rows of ``b`` that are the same scene point (unique pairs)."""
    ra, rb = [], []
    for iid in set(a.poses) & set(b.poses):
        pa, pb = a.kp_point[iid], b.kp_point[iid]
        m = min(len(pa), len(pb))
        ok = (pa[:m] >= 0) & (pb[:m] >= 0)
        ra.append(pa[:m][ok])
        rb.append(pb[:m][ok])
    for (i, j), mm in matches.items():
        for x, y, flip in ((i, j, False), (j, i, True)):
            if x in a.poses and y in b.poses:
                ka, kb = (mm[:, 1], mm[:, 0]) if flip else (mm[:, 0], mm[:, 1])
                pa, pb = a.kp_point[x][ka], b.kp_point[y][kb]
                ok = (pa >= 0) & (pb >= 0)
                ra.append(pa[ok])
                rb.append(pb[ok])
    if not ra:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    pairs = np.unique(np.stack([np.concatenate(ra), np.concatenate(rb)], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _scene_size(m: Model) -> float:
    """Median distance of the points from the camera centres' centroid (model units)."""
    c = np.mean([p[:3, 3] for p in m.poses.values()], axis=0)
    return float(np.median(np.linalg.norm(m.xyz - c, axis=1))) if len(m.xyz) else 1.0


def merge_models(models: list[Model], matches: dict[tuple[int, int], np.ndarray], *, min_inliers: int = 30,
                 min_inlier_ratio: float = 0.3, threshold_frac: float = 0.03, seed: int = 0) -> tuple[Model, int]:
    """Merge ``models`` into the largest one (most registered images); returns it and how many were merged in.

    A model joins when a similarity with at least ``min_inliers`` inliers (and that fraction of its
    correspondences) takes it onto the merged one; inliers lie within ``threshold_frac`` of the scene size.
    Models are tried in order of their number of correspondences with the merged model, again after each merge.
    """
    if not models:
        raise ValueError("merge_models needs at least one model")
    order = sorted(models, key=lambda m: -len(m.poses))
    merged = Model(dict(order[0].poses), dict(order[0].kp_point), order[0].xyz.copy(), set(order[0].localized))
    rest = order[1:]
    n_merged = 0
    while rest:
        cands = []
        for k, m in enumerate(rest):
            ra, rb = _correspondences(merged, m, matches)
            cands.append((len(ra), k, ra, rb))
        cands.sort(key=lambda c: -c[0])
        joined = None
        for n, k, ra, rb in cands:
            if n < min_inliers:
                break
            other = rest[k]
            sim, inl = ransac_sim3(other.xyz[rb], merged.xyz[ra], threshold_frac * _scene_size(merged), seed=seed)
            if sim is not None and inl.sum() >= max(min_inliers, min_inlier_ratio * n):
                joined = k
                _absorb(merged, other, sim)
                break
        if joined is None:
            break
        n_merged += 1
        rest.pop(joined)
    return merged, n_merged


def _absorb(into: Model, other: Model, sim: Sim3) -> None:
    """Move ``other`` into ``into``'s frame with ``sim`` and add its cameras and points (in place)."""
    offset = len(into.xyz)
    into.xyz = np.concatenate([into.xyz, sim.points(other.xyz)])
    for iid, pose in other.poses.items():
        if iid in into.poses:
            continue
        into.poses[iid] = sim.pose(pose)
        kp = other.kp_point[iid]
        into.kp_point[iid] = np.where(kp >= 0, kp + offset, -1)
        if iid in other.localized:
            into.localized.add(iid)


def localize(model: Model, image_ids: list[int], keypoints: dict[int, np.ndarray],
             matches: dict[tuple[int, int], np.ndarray], camera, *, min_inliers: int = 15,
             max_error_px: float = 6.0, seed: int = 0) -> int:
    """Give each image of ``image_ids`` not yet in ``model`` an absolute pose from its 2D-3D correspondences.

    Args:
        keypoints: image id -> (n, >=2) keypoint positions (COLMAP pixels) as stored in the database.
        camera: the ``pycolmap.Camera`` of the images.
        min_inliers: fewer inliers leave the image unposed.

    Returns how many images were posed (they are added to ``model.poses`` and ``model.localized``, with
    their inlier correspondences in ``model.kp_point``).
    """
    import pycolmap

    est = pycolmap.AbsolutePoseEstimationOptions()
    est.ransac.max_error = max_error_px
    est.ransac.random_seed = seed
    posed = 0
    for u in image_ids:
        if u in model.poses or u not in keypoints:
            continue
        best: dict[int, int] = {}  # keypoint of u -> point row
        for (i, j), mm in matches.items():
            for x, y, cu, cr in ((i, j, 0, 1), (j, i, 1, 0)):
                if x == u and y in model.poses and y not in model.localized:
                    rows = model.kp_point[y][mm[:, cr]]
                    for ku, r in zip(mm[rows >= 0, cu], rows[rows >= 0]):
                        best.setdefault(int(ku), int(r))
        if len(best) < min_inliers:
            continue
        ku = np.fromiter(best.keys(), np.int64)
        rows = np.fromiter(best.values(), np.int64)
        xy = keypoints[u][ku, :2].astype(np.float64)
        res = pycolmap.estimate_and_refine_absolute_pose(xy, model.xyz[rows], camera, est)
        if res is None or int(res["num_inliers"]) < min_inliers:
            continue
        cfw = np.vstack([np.asarray(res["cam_from_world"].matrix(), np.float64), [0.0, 0.0, 0.0, 1.0]])
        model.poses[u] = np.linalg.inv(cfw)
        kp = -np.ones(len(keypoints[u]), np.int64)
        inl = np.asarray(res["inlier_mask"], bool)
        kp[ku[inl]] = rows[inl]
        model.kp_point[u] = kp
        model.localized.add(u)
        posed += 1
    return posed
