"""Hand-held walkthrough camera paths: smooth, 1.3-1.7 m high, looking around at every object.

1. Waypoints spread over the walkable floor (farthest-point sampling on the free grid of
   synth.layout), visited in a greedy tour and joined by shortest grid paths that prefer cells far
   from furniture; the polyline is resampled by arc length and low-pass filtered (Gaussian), with
   the filter narrowed wherever it would cut a corner into furniture.
2. Gaze: each object gets the path position that sees it best (1-3.5 m away, line of sight free);
   the camera turns towards the objects in the order of those positions, with smoothstep blends
   between targets and a Gaussian low-pass on yaw and pitch.
3. Hand-held feel: small low-passed noise on position, yaw, pitch and roll, a gentle step bob.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from spatialmem.geometry.se3 import look_at
from spatialmem.synth.layout import CAM_CLEARANCE, GRID, FreeSpace
from spatialmem.synth.mesh import SceneMesh, segment_blocked
from spatialmem.synth.scene_spec import SceneObject


def _grid_graph(walk: np.ndarray, cost: np.ndarray) -> tuple[csr_matrix, np.ndarray]:
    idx = -np.ones(walk.shape, np.int64)
    cells = np.argwhere(walk)
    idx[walk] = np.arange(len(cells))
    rows, cols, w = [], [], []
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        a = cells
        b = a + [dy, dx]
        ok = (b[:, 0] >= 0) & (b[:, 0] < walk.shape[0]) & (b[:, 1] >= 0) & (b[:, 1] < walk.shape[1])
        a, b = a[ok], b[ok]
        ok = walk[b[:, 0], b[:, 1]]
        a, b = a[ok], b[ok]
        length = np.hypot(dy, dx)
        c = length * 0.5 * (cost[a[:, 0], a[:, 1]] + cost[b[:, 0], b[:, 1]])
        rows += [idx[a[:, 0], a[:, 1]]]
        cols += [idx[b[:, 0], b[:, 1]]]
        w += [c]
    r, c, ww = np.concatenate(rows), np.concatenate(cols), np.concatenate(w)
    g = csr_matrix((np.concatenate([ww, ww]), (np.concatenate([r, c]), np.concatenate([c, r]))),
                   shape=(len(cells),) * 2)
    return g, cells


def _walk_mask(free: FreeSpace) -> np.ndarray:
    for clearance in (CAM_CLEARANCE, 0.35, 0.25, 0.15):
        walk = free.walkable(clearance=clearance)
        if walk.sum() >= 4:
            labels, n = ndimage.label(walk)
            biggest = 1 + int(np.argmax(np.bincount(labels.ravel())[1:]))
            return labels == biggest
    return free.inside.copy()


def floor_route(free: FreeSpace, rng: np.random.Generator, area_m2: float) -> np.ndarray:
    """(M, 2) polyline (metres) touring the walkable floor."""
    walk = _walk_mask(free)
    dist = ndimage.distance_transform_edt(walk) * GRID
    cost = 1.0 + 1.5 / (0.2 + dist)
    graph, cells = _grid_graph(walk, cost)
    centers = free.centers()[walk]  # same order as cells (row-major argwhere)
    k = int(np.clip(round(area_m2 / 5.0), 3, 8))
    k = min(k, len(cells))
    chosen = [int(rng.integers(len(cells)))]
    d2 = np.linalg.norm(centers - centers[chosen[0]], axis=1)
    for _ in range(k - 1):
        nxt = int(np.argmax(d2))
        chosen.append(nxt)
        d2 = np.minimum(d2, np.linalg.norm(centers - centers[nxt], axis=1))
    # Greedy tour from the first waypoint.
    tour, left = [chosen[0]], set(chosen[1:])
    while left:
        cur = centers[tour[-1]]
        nxt = min(left, key=lambda j: (np.linalg.norm(centers[j] - cur), j))
        tour.append(nxt)
        left.remove(nxt)
    _, pred = dijkstra(graph, indices=tour, return_predecessors=True)
    path = [centers[tour[0]]]
    for i in range(len(tour) - 1):
        seg, node = [], tour[i + 1]
        while node != tour[i] and node >= 0:
            seg.append(centers[node])
            node = pred[i, node]
        path += seg[::-1]
    return np.array(path) if len(path) > 1 else np.array([centers[tour[0]], centers[tour[0]] + [0.05, 0.0]])


MAX_SPEED_M_S = 0.8  # walking speed cap: short captures cover only the start of the tour


def _truncate(poly: np.ndarray, max_len: float) -> np.ndarray:
    """The first ``max_len`` metres of a polyline."""
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= max_len:
        return poly
    k = int(np.searchsorted(s, max_len))
    t = (max_len - s[k - 1]) / max(seg[k - 1], 1e-12)
    return np.concatenate([poly[:k], (poly[k - 1] + t * (poly[k] - poly[k - 1]))[None]], axis=0)


def _resample(poly: np.ndarray, n: int) -> np.ndarray:
    seg = np.linalg.norm(np.diff(poly, axis=0), axis=1)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return np.repeat(poly[:1], n, axis=0)
    # ease in / out: slower at the start and end of the capture
    u = np.linspace(0.0, 1.0, n)
    u = u - 0.04 * np.sin(2 * np.pi * u)
    q = u * s[-1]
    return np.stack([np.interp(q, s, poly[:, 0]), np.interp(q, s, poly[:, 1])], axis=1)


def _smooth_noise(rng: np.random.Generator, n: int, sigma: float, scale: float) -> np.ndarray:
    full = ndimage.gaussian_filter1d(rng.standard_normal(n + 256), max(sigma, 0.5), mode="wrap")
    full = (full - full.mean()) / max(full.std(), 1e-12)  # unit variance over the whole draw, not the window
    return np.clip(full[128:128 + n], -3.0, 3.0) * scale


def camera_path(objects: tuple[SceneObject, ...], free: FreeSpace, mesh: SceneMesh, area_m2: float,
                num_frames: int, fps: float, rng: np.random.Generator) -> np.ndarray:
    """(F, 4, 4) ``world_from_camera`` poses (OpenCV camera) of a walkthrough of the room."""
    F = int(num_frames)
    route = _truncate(floor_route(free, rng, area_m2), MAX_SPEED_M_S * max(F - 1, 1) / fps)
    xy_raw = _resample(route, F)
    safe = free.walkable(clearance=0.2) | _walk_mask(free)
    sigma = max(1.0, F / 25.0)
    xy = xy_raw
    for _ in range(6):
        xy = np.stack([ndimage.gaussian_filter1d(xy_raw[:, i], sigma, mode="nearest") for i in range(2)], axis=1)
        if _all_safe(xy, free, safe):
            break
        sigma *= 0.5
    else:
        xy = xy_raw
    xy = xy + np.stack([_smooth_noise(rng, F, fps * 0.8, 0.015) for _ in range(2)], axis=1)
    height = float(rng.uniform(1.38, 1.62))
    z = height + 0.015 * np.sin(np.arange(F) * 2 * np.pi / max(fps * 0.55, 2.0)) + _smooth_noise(rng, F, fps, 0.02)
    z = np.clip(z, 1.3, 1.7)
    eye = np.concatenate([xy, z[:, None]], axis=1)
    yaw, pitch = _gaze(objects, eye, mesh, fps, rng)
    unseen = _unseen(objects, eye, yaw, pitch, mesh)
    if unseen:  # look at the missed objects on their own, at their best viewpoints
        yaw2, pitch2 = _gaze(objects, eye, mesh, fps, rng, solo=frozenset(unseen))
        if len(_unseen(objects, eye, yaw2, pitch2, mesh)) < len(unseen):
            yaw, pitch = yaw2, pitch2
    yaw = yaw + np.radians(_smooth_noise(rng, F, fps * 0.3, 1.5))
    pitch = np.clip(pitch + np.radians(_smooth_noise(rng, F, fps * 0.3, 1.2)), np.radians(-55), np.radians(50))
    roll = np.radians(_smooth_noise(rng, F, fps * 0.5, 1.5))
    poses = np.zeros((F, 4, 4))
    for i in range(F):
        fwd = np.array([np.cos(pitch[i]) * np.cos(yaw[i]), np.cos(pitch[i]) * np.sin(yaw[i]), np.sin(pitch[i])])
        T = look_at(eye[i], eye[i] + fwd)
        c, s = np.cos(roll[i]), np.sin(roll[i])
        T[:3, :3] = T[:3, :3] @ np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
        poses[i] = T
    return poses


def _all_safe(xy: np.ndarray, free: FreeSpace, safe: np.ndarray) -> bool:
    ij = np.floor((xy - free.origin) / GRID).astype(int)
    ok = (ij[:, 0] >= 0) & (ij[:, 0] < safe.shape[1]) & (ij[:, 1] >= 0) & (ij[:, 1] < safe.shape[0])
    if not ok.all():
        return False
    return bool(safe[ij[:, 1], ij[:, 0]].all())


def _gaze_groups(objects, solo: frozenset = frozenset()) -> list[list]:
    """Objects grouped for the gaze: things on a support join it; anchors closer than 1.2 m merge.

    Objects whose id is in ``solo`` get a group of their own.
    """
    by_id = {o.id: o for o in objects}

    def root(o):
        while o.support.startswith("object:") and int(o.support[7:]) in by_id:
            o = by_id[int(o.support[7:])]
        return o

    groups: list[list] = []
    anchors: list[np.ndarray] = []
    for o in objects:
        if o.id in solo:
            groups.append([o])
            anchors.append(np.full(3, np.inf))  # nothing merges into it
            continue
        r = root(o)
        a = r.box.center
        for g, c in zip(groups, anchors):
            if np.linalg.norm(c - a) < 1.2:
                g.append(o)
                break
        else:
            groups.append([o])
            anchors.append(a)
    return groups


def _blocked_by_others(a, b, mesh: SceneMesh, members) -> np.ndarray:
    ids = {o.id for o in members}
    keep = np.array([i not in ids for i in mesh.box_ids])
    sub = SceneMesh(mesh.positions, mesh.normals, mesh.colors, mesh.materials, mesh.ids, mesh.triangles,
                    mesh.box_centers[keep], mesh.box_axes[keep], mesh.box_half[keep], mesh.box_colors[keep],
                    mesh.box_materials[keep], mesh.box_ids[keep])
    return segment_blocked(a, b, sub, np.full(len(a), -1, np.int32))


def _unseen(objects, eye: np.ndarray, yaw: np.ndarray, pitch: np.ndarray, mesh: SceneMesh,
            cone_deg: float = 20.0) -> list[int]:
    """Ids of objects whose centre is never within ``cone_deg`` of the view axis with a free line of sight."""
    if not objects:
        return []
    fwd = np.stack([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), np.sin(pitch)], axis=1)  # (F, 3)
    ctr = np.array([o.box.center for o in objects])  # (N, 3)
    d = ctr[None] - eye[:, None]  # (F, N, 3)
    dist = np.linalg.norm(d, axis=2)
    cosang = np.einsum("fnk,fk->fn", d, fwd) / np.maximum(dist, 1e-9)
    cand = (cosang > np.cos(np.radians(cone_deg))) & (dist > 0.3)
    fi, ni = np.nonzero(cand)
    seen = np.zeros(len(objects), bool)
    if len(fi):
        ids = np.array([o.id for o in objects])
        free = ~segment_blocked(eye[fi], ctr[ni], mesh, ids[ni])
        seen[np.unique(ni[free])] = True
    return [o.id for o, s in zip(objects, seen) if not s]


def _gaze(objects, eye: np.ndarray, mesh: SceneMesh, fps: float, rng,
          solo: frozenset = frozenset()) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame yaw and pitch (radians) that look at every object around its best viewpoint."""
    F = len(eye)
    if not objects:
        d = np.gradient(eye[:, :2], axis=0)
        return np.unwrap(np.arctan2(d[:, 1], d[:, 0])), np.full(F, -0.2)
    cand = np.unique(np.linspace(0, F - 1, min(F, 80)).round().astype(int))
    groups = _gaze_groups(objects, solo)
    best, centers = [], []
    for members in groups:
        tgt = np.mean([o.box.center for o in members], axis=0)
        a = eye[cand]
        b = np.repeat(tgt[None], len(cand), axis=0)
        dist = np.linalg.norm(a - b, axis=1)
        blocked = _blocked_by_others(a, b, mesh, members)  # the group's own objects do not block its view
        score = -np.abs(np.clip(dist, 1.0, 3.5) - dist) - 5.0 * blocked - 0.02 * dist
        best.append(int(cand[int(np.argmax(score))]))
        centers.append(tgt)
    order = np.argsort(np.array(best) + rng.uniform(0, 0.1, len(best)), kind="stable")
    n = len(groups)
    keys = np.array(best, float)[order]
    uniform = (np.arange(n) + 0.5) * F / n
    keys = 0.6 * keys + 0.4 * uniform
    is_solo = np.array([len(groups[i]) == 1 and groups[i][0].id in solo for i in order], bool)
    keys = np.where(is_solo, np.array(best, float)[order], keys)  # missed objects: exactly at their best view
    resort = np.argsort(keys, kind="stable")
    keys, order = keys[resort], order[resort]
    tgts = np.array(centers)[order]
    # Per-frame blended target direction.
    yaw_k = np.zeros((F, n))
    pitch_k = np.zeros((F, n))
    for j in range(n):
        d = tgts[j] - eye
        yaw_k[:, j] = np.arctan2(d[:, 1], d[:, 0])
        pitch_k[:, j] = np.arctan2(d[:, 2], np.linalg.norm(d[:, :2], axis=1))
    f = np.arange(F, dtype=float)
    j = np.clip(np.searchsorted(keys, f) - 1, 0, n - 1)
    j2 = np.minimum(j + 1, n - 1)
    span = np.maximum(keys[j2] - keys[j], 1e-6)
    w = np.clip((f - keys[j]) / span, 0.0, 1.0)
    w = np.where(f < keys[0], 0.0, w)
    hold = 0.35  # dwell on each target before turning to the next
    w = np.clip((w - hold) / (1 - hold), 0.0, 1.0)
    w = w * w * (3 - 2 * w)
    ya, yb = yaw_k[np.arange(F), j], yaw_k[np.arange(F), j2]
    dy = (yb - ya + np.pi) % (2 * np.pi) - np.pi
    yaw = np.unwrap(ya + w * dy)
    pitch = pitch_k[np.arange(F), j] * (1 - w) + pitch_k[np.arange(F), j2] * w
    s = max(0.5, 0.15 * fps)
    yaw = _rate_limit(yaw, np.radians(MAX_TURN_DEG_S) / fps)
    pitch = _rate_limit(pitch, np.radians(MAX_TURN_DEG_S) / fps)
    return ndimage.gaussian_filter1d(yaw, s, mode="nearest"), ndimage.gaussian_filter1d(pitch, s, mode="nearest")


MAX_TURN_DEG_S = 100.0  # hand-held turn rate cap


def _rate_limit(x: np.ndarray, max_step: float) -> np.ndarray:
    """Follow ``x`` with at most ``max_step`` change per frame, centred in time (forward-backward)."""
    def one_way(v):
        out = v.copy()
        for i in range(1, len(v)):
            out[i] = out[i - 1] + np.clip(v[i] - out[i - 1], -max_step, max_step)
        return out

    return 0.5 * (one_way(x) + one_way(x[::-1])[::-1])
