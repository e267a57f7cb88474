"""Rooms: rectangular and L-shaped floor plans (3-12 m per side), ceiling 2.4-3.2 m, wall geometry.

The floor polygon is counter-clockwise with its minimum corner at the origin; the floor is z = 0.
Structure (floor slab, wall slabs outside the polygon, ceiling slab) is made of boxes with
instance id 0, so the room is closed and every camera ray inside it hits a surface.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.synth.catalog import ROOM_SIDES
from spatialmem.synth.scene_spec import MATERIALS, Part, RoomSpec

WALL_T = 0.2  # wall slab thickness, metres
FLOORS = (((0.62, 0.45, 0.3), "wood"), ((0.75, 0.6, 0.42), "wood"), ((0.7, 0.7, 0.68), "tiles"),
          ((0.45, 0.42, 0.4), "fabric"))
WALLS = ((0.88, 0.85, 0.78), (0.78, 0.84, 0.86), (0.86, 0.8, 0.74), (0.8, 0.84, 0.76), (0.92, 0.9, 0.88))


@dataclass(frozen=True)
class Wall:
    """One straight wall: from ``p0`` to ``p1`` (floor plane, metres), ``normal`` points into the room."""

    p0: np.ndarray
    p1: np.ndarray
    normal: np.ndarray

    @property
    def length(self) -> float:
        return float(np.linalg.norm(self.p1 - self.p0))

    @property
    def direction(self) -> np.ndarray:
        return (self.p1 - self.p0) / self.length


def walls_of(poly: np.ndarray) -> list[Wall]:
    """The walls of a counter-clockwise polygon (the interior is on each edge's left)."""
    out = []
    for i in range(len(poly)):
        p0, p1 = np.asarray(poly[i], float), np.asarray(poly[(i + 1) % len(poly)], float)
        d = (p1 - p0) / np.linalg.norm(p1 - p0)
        out.append(Wall(p0, p1, np.array([-d[1], d[0]])))
    return out


def point_in_polygon(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """(N,) bool: which (N, 2) points lie strictly inside the simple polygon (M, 2) (even-odd rule)."""
    pts = np.asarray(points, float).reshape(-1, 2)
    poly = np.asarray(poly, float).reshape(-1, 2)
    x, y = pts[:, 0][:, None], pts[:, 1][:, None]
    x0, y0 = poly[:, 0][None], poly[:, 1][None]
    x1, y1 = np.roll(poly[:, 0], -1)[None], np.roll(poly[:, 1], -1)[None]
    cond = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        xi = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (np.sum(cond & (x < xi), axis=1) % 2) == 1


def distance_to_walls(points: np.ndarray, poly: np.ndarray) -> np.ndarray:
    """(N,) distance in metres from (N, 2) points to the nearest edge of the polygon (M, 2)."""
    pts = np.asarray(points, float).reshape(-1, 2)[:, None, :]
    poly = np.asarray(poly, float).reshape(-1, 2)
    a, b = poly[None], np.roll(poly, -1, axis=0)[None]
    ab = b - a
    t = np.clip(np.sum((pts - a) * ab, axis=2) / np.maximum(np.sum(ab * ab, axis=2), 1e-12), 0.0, 1.0)
    return np.min(np.linalg.norm(pts - (a + t[..., None] * ab), axis=2), axis=1)


def _is_convex(poly: np.ndarray, i: int) -> bool:
    a, b, c = poly[i - 1], poly[i], poly[(i + 1) % len(poly)]
    return float((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])) > 0


def make_floor_polygon(rng: np.random.Generator, room_type: str) -> tuple[str, np.ndarray]:
    """A random rect or L floor polygon (counter-clockwise) for ``room_type``."""
    lo, hi = ROOM_SIDES[room_type]
    W, D = float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi))
    W, D = round(W, 2), round(D, 2)
    if min(W, D) >= 4.5 and rng.random() < 0.4:
        a = round(float(rng.uniform(0.3, 0.45)) * W, 2)  # notch taken from the (+x, +y) corner
        b = round(float(rng.uniform(0.3, 0.45)) * D, 2)
        poly = np.array([[0, 0], [W, 0], [W, D - b], [W - a, D - b], [W - a, D], [0, D]], dtype=np.float64)
        k = int(rng.integers(4))  # rotate the notch to any corner
        if k:
            c = np.array([W, D]) / 2
            R = np.array([[0.0, -1.0], [1.0, 0.0]])
            for _ in range(k):
                poly = (poly - c) @ R.T + c
            poly = poly - poly.min(axis=0)
            start = int(np.argmin(poly[:, 0] + 1e3 * poly[:, 1]))
            poly = np.roll(poly, -start, axis=0)
        return "L", np.round(poly, 6)
    return "rect", np.array([[0, 0], [W, 0], [W, D], [0, D]], dtype=np.float64)


def make_room(rng: np.random.Generator, room_type: str) -> RoomSpec:
    """A room of ``room_type`` (a key of catalog.ROOM_TYPES) with its structure boxes."""
    shape, poly = make_floor_polygon(rng, room_type)
    height = round(float(rng.uniform(2.4, 3.2)), 2)
    floor_c, floor_m = FLOORS[int(rng.integers(len(FLOORS)))]
    wall_c = WALLS[int(rng.integers(len(WALLS)))]
    ceil_c = (0.95, 0.95, 0.93)
    lo, hi = poly.min(axis=0) - WALL_T, poly.max(axis=0) + WALL_T
    ctr = (lo + hi) / 2
    structure = [
        Part(OrientedBox([ctr[0], ctr[1], -WALL_T / 2], [*(hi - lo), WALL_T], np.eye(3)), floor_c,
             MATERIALS.index(floor_m)),
        Part(OrientedBox([ctr[0], ctr[1], height + WALL_T / 2], [*(hi - lo), WALL_T], np.eye(3)), ceil_c,
             MATERIALS.index("plaster")),
    ]
    n = len(poly)
    for i, w in enumerate(walls_of(poly)):
        ext0 = WALL_T if _is_convex(poly, i) else 0.0
        ext1 = WALL_T if _is_convex(poly, (i + 1) % n) else 0.0
        d = w.direction
        a, b = w.p0 - d * ext0, w.p1 + d * ext1
        mid = (a + b) / 2 - w.normal * WALL_T / 2
        yaw = float(np.arctan2(d[1], d[0]))
        box = OrientedBox.from_yaw([mid[0], mid[1], height / 2], [float(np.linalg.norm(b - a)), WALL_T, height], yaw)
        structure.append(Part(box, wall_c, MATERIALS.index("plaster")))
    return RoomSpec(shape, poly, height, tuple(structure))
