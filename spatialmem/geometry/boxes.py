"""Oriented 3D boxes: fitting, containment, exact closest-point distance and IoU, for any rotation.

A box is ``center`` (3,) metres, ``size`` (3,) metres and ``axes`` (3, 3) whose **rows** are the
unit box axes in the world frame; ``size[i]`` is the extent along ``axes[i]``. A *gravity-aligned*
box has ``axes[2] == +z`` (the world is z up), so it is described by its yaw on the floor plane.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

#: (8, 3) float: the sign of each box corner along the box's three axes, in :meth:`OrientedBox.corners` order.
CORNER_SIGNS: np.ndarray = np.array(list(itertools.product((-1.0, 1.0), repeat=3)))
#: (12, 2) int: the edges of a box as pairs of corner indices (corners that differ in exactly one sign).
BOX_EDGES: np.ndarray = np.array([(i, j) for i in range(8) for j in range(i + 1, 8)
                                  if np.sum(CORNER_SIGNS[i] != CORNER_SIGNS[j]) == 1])


@dataclass(frozen=True, eq=False)
class OrientedBox:
    """An oriented box in the world frame (see module docstring for the conventions)."""

    center: np.ndarray  # (3,) float64, metres
    size: np.ndarray  # (3,) float64, metres, >= 0
    axes: np.ndarray  # (3, 3) float64, rows are orthonormal unit axes

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", np.asarray(self.center, dtype=np.float64).reshape(3))
        object.__setattr__(self, "size", np.asarray(self.size, dtype=np.float64).reshape(3))
        object.__setattr__(self, "axes", np.asarray(self.axes, dtype=np.float64).reshape(3, 3))

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_yaw(cls, center, size, yaw_rad: float) -> OrientedBox:
        """A gravity-aligned box whose first axis points at angle ``yaw_rad`` (CCW from +x)."""
        c, s = np.cos(yaw_rad), np.sin(yaw_rad)
        return cls(center, size, np.array([[c, s, 0.0], [-s, c, 0.0], [0.0, 0.0, 1.0]]))

    @classmethod
    def axis_aligned(cls, lo, hi) -> OrientedBox:
        lo, hi = np.asarray(lo, float), np.asarray(hi, float)
        return cls((lo + hi) / 2.0, hi - lo, np.eye(3))

    @classmethod
    def from_dict(cls, d: dict) -> OrientedBox:
        return cls(d["center"], d["size"], d.get("axes", np.eye(3)))

    def to_dict(self) -> dict:
        return {
            "center": [round(float(v), 6) for v in self.center],
            "size": [round(float(v), 6) for v in self.size],
            "axes": [[round(float(v), 6) for v in row] for row in self.axes],
        }

    # ---------------------------------------------------------------- properties
    @property
    def yaw(self) -> float:
        """Angle (radians, CCW from +x) of the first axis projected on the floor plane."""
        return float(np.arctan2(self.axes[0, 1], self.axes[0, 0]))

    @property
    def longest_side(self) -> float:
        return float(np.max(self.size))

    @property
    def volume(self) -> float:
        return float(np.prod(self.size))

    @property
    def z_min(self) -> float:
        return float(self.corners()[:, 2].min())

    @property
    def z_max(self) -> float:
        return float(self.corners()[:, 2].max())

    def is_gravity_aligned(self, atol: float = 1e-4) -> bool:
        return bool(np.allclose(np.abs(self.axes[2]), [0.0, 0.0, 1.0], atol=atol))

    def gravity_aligned(self) -> OrientedBox:
        """This box if gravity-aligned, else the smallest-footprint gravity-aligned box enclosing it.

        For floor-plane reasoning (footprints, free space, routes); sizes, distances and IoU use the
        box itself, exact for any rotation.
        """
        return self if self.is_gravity_aligned() else fit_gravity_aligned(self.corners())

    def corners(self) -> np.ndarray:
        """(8, 3) world corners; corner k has signs ``itertools.product((-1, 1), repeat=3)[k]``."""
        return self.center + (CORNER_SIGNS * (self.size / 2.0)) @ self.axes

    def footprint(self) -> np.ndarray:
        """(4, 2) counter-clockwise floor-plane polygon of a gravity-aligned box."""
        c, hx, hy = self.center[:2], self.axes[0, :2] * self.size[0] / 2, self.axes[1, :2] * self.size[1] / 2
        poly = np.array([c - hx - hy, c + hx - hy, c + hx + hy, c - hx + hy])
        return poly if signed_area(poly) >= 0 else poly[::-1]

    def to_local(self, points_world: np.ndarray) -> np.ndarray:
        """(N, 3) coordinates of world points in the box frame (origin at the centre)."""
        return (np.asarray(points_world, float) - self.center) @ self.axes.T

    def contains(self, points_world: np.ndarray, tol: float = 1e-6) -> np.ndarray:
        """(N,) bool: which points lie inside the box grown by ``tol`` metres on every side."""
        local = self.to_local(np.atleast_2d(points_world))
        return np.all(np.abs(local) <= self.size / 2.0 + tol, axis=1)

    def transformed(self, world_from_old: np.ndarray) -> OrientedBox:
        """The box moved by a rigid 4x4 transform."""
        R, t = world_from_old[:3, :3], world_from_old[:3, 3]
        return OrientedBox(R @ self.center + t, self.size, self.axes @ R.T)


def sample_box_surface(box: OrientedBox, step_m: float) -> np.ndarray:
    """(N, 3) float64 world points on a grid over the box's six faces, at most ``step_m`` apart.

    Every face edge (so every corner) is sampled: the closest-point distance between two sampled
    boxes is never below their exact :func:`box_distance` and at most about ``step_m`` above it.
    """
    half = box.size / 2.0
    faces = []
    for axis in range(3):
        u, v = [a for a in range(3) if a != axis]
        gu = np.linspace(-half[u], half[u], max(2, int(np.ceil(box.size[u] / step_m)) + 1))
        gv = np.linspace(-half[v], half[v], max(2, int(np.ceil(box.size[v] / step_m)) + 1))
        uu, vv = np.meshgrid(gu, gv, indexing="ij")
        for sign in (-1.0, 1.0):
            local = np.zeros((uu.size, 3))
            local[:, axis], local[:, u], local[:, v] = sign * half[axis], uu.ravel(), vv.ravel()
            faces.append(local)
    return box.center + np.concatenate(faces) @ box.axes


# -------------------------------------------------------------------- fitting
def fit_gravity_aligned(points_world: np.ndarray) -> OrientedBox:
    """The minimum-footprint gravity-aligned box containing ``points_world`` (N, 3), N >= 1.

    Yaw comes from the minimum-area rectangle of the floor-plane convex hull (rotating calipers);
    height is the z extent. The first axis is the longer footprint side, yaw in (-pi/2, pi/2].
    """
    pts = np.asarray(points_world, dtype=np.float64).reshape(-1, 3)
    if len(pts) == 0:
        raise ValueError("cannot fit a box to zero points")
    xy = pts[:, :2]
    z0, z1 = pts[:, 2].min(), pts[:, 2].max()
    hull = hull_xy(xy)
    best = None
    if len(hull) >= 3:
        edges = np.roll(hull, -1, axis=0) - hull
        angles = np.unique(np.round(np.mod(np.arctan2(edges[:, 1], edges[:, 0]), np.pi / 2), 9))
        for a in angles:
            c, s = np.cos(a), np.sin(a)
            rot = hull @ np.array([[c, -s], [s, c]])  # coordinates along (c, s) and (-s, c)
            lo, hi = rot.min(axis=0), rot.max(axis=0)
            area = np.prod(hi - lo)
            if best is None or area < best[0] - 1e-12:
                best = (area, a, lo, hi)
    if best is None:  # degenerate footprint (a point or a line): axis-aligned
        lo, hi = xy.min(axis=0), xy.max(axis=0)
        best = (0.0, 0.0, lo, hi)
    _, a, lo, hi = best
    return box_from_rotated_rect(a, lo, hi, z0, z1)


def box_from_rotated_rect(angle_rad: float, lo: np.ndarray, hi: np.ndarray, z0: float, z1: float) -> OrientedBox:
    """The gravity-aligned box of a floor rectangle given in a rotated frame, spanning ``z0..z1``.

    The rectangle is ``lo <= (p @ u, p @ v) <= hi`` with ``u = (cos a, sin a)``, ``v = (-sin a, cos a)``.
    The box's first axis is the longer footprint side and its yaw is folded into (-pi/2, pi/2] (the
    convention of :func:`fit_gravity_aligned`).
    """
    lo, hi = np.asarray(lo, np.float64), np.asarray(hi, np.float64)
    ext = hi - lo
    mid = (lo + hi) / 2.0
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    u, v = np.array([c, s]), np.array([-s, c])
    center_xy = mid[0] * u + mid[1] * v
    if ext[1] > ext[0]:  # make the first axis the longer side
        u, v, ext = v, -u, ext[::-1]
    yaw = float(np.arctan2(u[1], u[0]))
    if yaw <= -np.pi / 2 + 1e-12 or yaw > np.pi / 2 + 1e-12:
        yaw = yaw + np.pi if yaw <= 0 else yaw - np.pi
    return OrientedBox.from_yaw([center_xy[0], center_xy[1], (z0 + z1) / 2.0], [ext[0], ext[1], z1 - z0], yaw)


def hull_xy(xy: np.ndarray) -> np.ndarray:
    """Counter-clockwise convex hull (monotone chain) of (N, 2) points."""
    pts = np.unique(np.round(xy, 9), axis=0)
    if len(pts) < 3:
        return pts
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]

    def half(seq):
        out: list = []
        for p in seq:
            while len(out) >= 2 and _cross(out[-2], out[-1], p) <= 0:
                out.pop()
            out.append(p)
        return out

    lower, upper = half(pts), half(pts[::-1])
    return np.array(lower[:-1] + upper[:-1])


def _cross(o, a, b) -> float:
    return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))


def signed_area(poly: np.ndarray) -> float:
    """Signed area of a polygon (M, 2) by the shoelace formula: positive when counter-clockwise."""
    poly = np.asarray(poly, np.float64).reshape(-1, 2)
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


# -------------------------------------------------------------------- distances
def point_box_distance(points_world: np.ndarray, box: OrientedBox) -> np.ndarray:
    """(N,) Euclidean distance in metres from each point to the solid box (0 inside)."""
    local = box.to_local(np.atleast_2d(points_world))
    excess = np.maximum(np.abs(local) - box.size / 2.0, 0.0)
    return np.linalg.norm(excess, axis=1)


def boxes_intersect(a: OrientedBox, b: OrientedBox, tol: float = 1e-9) -> bool:
    """Whether two solid boxes overlap or touch (separating-axis test over 15 axes)."""
    axes = [a.axes[i] for i in range(3)] + [b.axes[i] for i in range(3)]
    for i in range(3):
        for j in range(3):
            c = np.cross(a.axes[i], b.axes[j])
            n = np.linalg.norm(c)
            if n > 1e-9:
                axes.append(c / n)
    ca, cb = a.corners(), b.corners()
    for ax in axes:
        pa, pb = ca @ ax, cb @ ax
        if pa.max() < pb.min() - tol or pb.max() < pa.min() - tol:
            return False
    return True


def box_distance(a: OrientedBox, b: OrientedBox) -> float:
    """Exact closest-point distance in metres between two solid boxes (0 if they overlap/touch).

    For disjoint convex polytopes the closest pair is vertex-face, edge-edge or a degenerate case of
    those, so the minimum over vertex-to-box distances and edge-edge segment distances is exact.
    """
    if boxes_intersect(a, b):
        return 0.0
    ca, cb = a.corners(), b.corners()
    d = min(point_box_distance(ca, b).min(), point_box_distance(cb, a).min())
    p1, q1 = ca[BOX_EDGES[:, 0]], ca[BOX_EDGES[:, 1]]
    p2, q2 = cb[BOX_EDGES[:, 0]], cb[BOX_EDGES[:, 1]]
    P1, D1 = np.repeat(p1, 12, axis=0), np.repeat(q1 - p1, 12, axis=0)
    P2, D2 = np.tile(p2, (12, 1)), np.tile(q2 - p2, (12, 1))
    return float(min(d, segment_distances(P1, D1, P2, D2).min()))


def segment_distances(p1: np.ndarray, d1: np.ndarray, p2: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """(N,) distances between segments ``p1 + s d1`` and ``p2 + t d2``, s, t in [0, 1]; inputs (N, 3)."""
    r = p1 - p2
    a = np.einsum("ij,ij->i", d1, d1)
    e = np.einsum("ij,ij->i", d2, d2)
    f = np.einsum("ij,ij->i", d2, r)
    c = np.einsum("ij,ij->i", d1, r)
    b = np.einsum("ij,ij->i", d1, d2)
    eps = 1e-12
    a_safe, e_safe = np.maximum(a, eps), np.maximum(e, eps)
    denom = a * e - b * b
    s = np.where(denom > eps, np.clip((b * f - c * e) / np.where(denom > eps, denom, 1.0), 0.0, 1.0), 0.0)
    t = (b * s + f) / e_safe
    lo, hi = t < 0.0, t > 1.0
    s = np.where(lo, np.clip(-c / a_safe, 0.0, 1.0), np.where(hi, np.clip((b - c) / a_safe, 0.0, 1.0), s))
    t = np.clip(t, 0.0, 1.0)
    diff = (p1 + s[:, None] * d1) - (p2 + t[:, None] * d2)
    return np.linalg.norm(diff, axis=1)


def parts_distance(parts_a: list[OrientedBox], parts_b: list[OrientedBox]) -> float:
    """Closest-point distance between two objects made of box parts (min over part pairs)."""
    return float(min(box_distance(p, q) for p in parts_a for q in parts_b))


# -------------------------------------------------------------------- overlap
def iou_3d(a: OrientedBox, b: OrientedBox) -> float:
    """Exact volume IoU of two oriented boxes, any rotation.

    Gravity-aligned pairs use footprint-polygon intersection x z overlap; other pairs the volume of
    the intersection polytope (:func:`intersection_volume`).
    """
    if a.is_gravity_aligned(1e-9) and b.is_gravity_aligned(1e-9):
        dz = min(a.z_max, b.z_max) - max(a.z_min, b.z_min)
        inter = polygon_area(clip_convex(a.footprint(), b.footprint())) * dz if dz > 0 else 0.0
    else:
        inter = intersection_volume(a, b)
    union = a.volume + b.volume - inter
    return float(inter / union) if union > 0 else 0.0


def _segment_plane_points(corners: np.ndarray, box: OrientedBox) -> np.ndarray:
    """Points where the 12 edges of a box (given by its corners) cross the 6 face planes of ``box``."""
    p, q = corners[BOX_EDGES[:, 0]], corners[BOX_EDGES[:, 1]]
    lp, lq = box.to_local(p), box.to_local(q)  # (12, 3) in the other box's frame
    out = []
    half = box.size / 2.0
    for axis in range(3):
        for sign in (-1.0, 1.0):
            da, db = lp[:, axis] - sign * half[axis], lq[:, axis] - sign * half[axis]
            cross = (da * db < 0.0)
            t = da[cross] / (da[cross] - db[cross])
            out.append(p[cross] + t[:, None] * (q[cross] - p[cross]))
    return np.concatenate(out) if out else np.zeros((0, 3))


def intersection_volume(a: OrientedBox, b: OrientedBox) -> float:
    """Exact volume (m^3) of the intersection of two solid oriented boxes.

    The intersection of two convex polytopes is the convex hull of: each box's corners inside the
    other, and the points where each box's edges cross the other's faces; its volume is the hull's.
    """
    if not boxes_intersect(a, b):
        return 0.0
    ca, cb = a.corners(), b.corners()
    pts = [ca[b.contains(ca, 1e-9)], cb[a.contains(cb, 1e-9)],
           _segment_plane_points(ca, b), _segment_plane_points(cb, a)]
    P = np.concatenate(pts)
    P = P[a.contains(P, 1e-7) & b.contains(P, 1e-7)]
    if len(P) < 4:
        return 0.0
    from scipy.spatial import ConvexHull, QhullError

    try:
        return float(ConvexHull(P).volume)
    except QhullError:  # flat (touching faces): no volume
        return 0.0


def polygon_area(poly: np.ndarray) -> float:
    """Unsigned area of a simple polygon (M, 2); 0 for fewer than 3 vertices."""
    return abs(signed_area(poly)) if len(poly) >= 3 else 0.0


def clip_convex(subject: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Intersection polygon of two counter-clockwise convex polygons (Sutherland-Hodgman)."""
    out = [np.asarray(p, float) for p in subject]
    clip = np.asarray(clip, float)
    for i in range(len(clip)):
        if not out:
            break
        c0, c1 = clip[i], clip[(i + 1) % len(clip)]
        inp, out = out, []

        def inside(p, c0=c0, c1=c1):
            return _cross(c0, c1, p) >= -1e-12

        def cut(p, q, c0=c0, c1=c1):
            d1, d2 = _cross(c0, c1, p), _cross(c0, c1, q)
            return p + (q - p) * (d1 / (d1 - d2))

        for j in range(len(inp)):
            p, q = inp[j - 1], inp[j]
            if inside(q):
                if not inside(p):
                    out.append(cut(p, q))
                out.append(q)
            elif inside(p):
                out.append(cut(p, q))
    return np.array(out) if out else np.zeros((0, 2))
