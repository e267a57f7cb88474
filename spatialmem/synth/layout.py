"""Object placement without interpenetration, keeping a connected free walking area.

Placement modes (see catalog.Rule): against a wall facing into the room, free on the floor, at a
table or desk facing it, on another object's top surface, on the ceiling, mounted on a wall at a
height (doors, windows, heaters, whiteboards, mirrors). A candidate is rejected when any of its
parts overlaps any placed part by more than 2 mm, when its box (grown by a clearance) overlaps
another floor object, when it blocks a door, or when the walkable floor (cells at least
:data:`CAM_CLEARANCE` from furniture and walls) would stop being one connected region of at least
a quarter of the floor. The free grid is kept for the camera path.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from spatialmem.geometry.boxes import OrientedBox, boxes_intersect
from spatialmem.synth import catalog
from spatialmem.synth.room import distance_to_walls, point_in_polygon, walls_of
from spatialmem.synth.scene_spec import Part, RoomSpec, SceneObject

GRID = 0.1  # metres per free-space cell
CAM_CLEARANCE = 0.45  # metres from furniture / walls to where the camera may walk
PART_TOL = -0.002  # parts may touch; overlap deeper than 2 mm counts as interpenetration


@dataclass
class FreeSpace:
    """Floor occupancy grid: ``inside`` (room cells) and ``blocked`` (furniture under 1.9 m)."""

    origin: np.ndarray
    inside: np.ndarray
    blocked: np.ndarray
    dist_wall: np.ndarray

    @classmethod
    def of(cls, poly: np.ndarray) -> FreeSpace:
        lo, hi = poly.min(axis=0), poly.max(axis=0)
        nx, ny = int(np.ceil((hi[0] - lo[0]) / GRID)), int(np.ceil((hi[1] - lo[1]) / GRID))
        xy = cls.cell_centers(lo, nx, ny)
        inside = point_in_polygon(xy.reshape(-1, 2), poly).reshape(ny, nx)
        dist = np.where(inside, distance_to_walls(xy.reshape(-1, 2), poly).reshape(ny, nx), 0.0)
        return cls(lo, inside, np.zeros_like(inside), dist)

    @staticmethod
    def cell_centers(lo: np.ndarray, nx: int, ny: int) -> np.ndarray:
        gx, gy = np.meshgrid(lo[0] + (np.arange(nx) + 0.5) * GRID, lo[1] + (np.arange(ny) + 0.5) * GRID)
        return np.stack([gx, gy], axis=-1)

    def centers(self) -> np.ndarray:
        return self.cell_centers(self.origin, self.inside.shape[1], self.inside.shape[0])

    def footprint_mask(self, box: OrientedBox) -> np.ndarray:
        xy = self.centers().reshape(-1, 2)
        local = (xy - box.center[:2]) @ box.axes[:2, :2].T
        return np.all(np.abs(local) <= box.size[:2] / 2.0 + 1e-9, axis=1).reshape(self.inside.shape)

    def walkable(self, blocked: np.ndarray | None = None, clearance: float = CAM_CLEARANCE) -> np.ndarray:
        """Cells at least ``clearance`` from blocked cells and from the walls."""
        b = self.blocked if blocked is None else blocked
        d = ndimage.distance_transform_edt(~b) * GRID if b.any() else np.full(b.shape, np.inf)
        return self.inside & (d >= clearance) & (self.dist_wall >= clearance)

    def acceptable(self, blocked: np.ndarray, floor_area: float) -> bool:
        walk = self.walkable(blocked)
        labels, n = ndimage.label(walk)
        if n == 0:
            return False
        sizes = np.bincount(labels.ravel())[1:]
        return sizes.max() >= 0.97 * sizes.sum() and sizes.max() * GRID * GRID >= max(1.5, 0.25 * floor_area)


@dataclass
class _Placed:
    obj: SceneObject
    kind: str
    yaw: float
    origin: np.ndarray  # (3,) world position of the object frame origin
    surface: catalog.Surface | None
    items_on: list = field(default_factory=list)


def overlaps(a: OrientedBox, b: OrientedBox, tol: float = PART_TOL) -> bool:
    """Fast ``boxes_intersect`` for gravity-aligned boxes: z intervals, then a 2D separating-axis test."""
    if a.center[2] + a.size[2] / 2 < b.center[2] - b.size[2] / 2 - tol:
        return False
    if b.center[2] + b.size[2] / 2 < a.center[2] - a.size[2] / 2 - tol:
        return False
    d = b.center[:2] - a.center[:2]
    ha, hb = a.size[:2] / 2, b.size[:2] / 2
    A, B = a.axes[:2, :2], b.axes[:2, :2]
    for ax in (A[0], A[1], B[0], B[1]):
        ra = ha[0] * abs(ax @ A[0]) + ha[1] * abs(ax @ A[1])
        rb = hb[0] * abs(ax @ B[0]) + hb[1] * abs(ax @ B[1])
        if abs(ax @ d) > ra + rb + tol:
            return False
    return True


def _part_aabbs(obj: SceneObject) -> tuple[np.ndarray, np.ndarray]:
    """(P, 3) lower and upper world corners of the axis-aligned bounds of each part."""
    ext = np.array([np.abs(p.box.axes).T @ (p.box.size / 2.0) for p in obj.parts])
    ctr = np.array([p.box.center for p in obj.parts])
    return ctr - ext, ctr + ext


def _rot2(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def local_bounds(parts: list[catalog.LocalPart]) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) (3,) of the parts' corners in the object frame."""
    corners = []
    for p in parts:
        c, s = np.cos(p.yaw), np.sin(p.yaw)
        hx, hy, hz = (np.asarray(p.size) / 2.0)
        for sx in (-1, 1):
            for sy in (-1, 1):
                x, y = sx * hx * c - sy * hy * s, sx * hx * s + sy * hy * c
                corners.append([p.center[0] + x, p.center[1] + y, p.center[2] - hz])
                corners.append([p.center[0] + x, p.center[1] + y, p.center[2] + hz])
    arr = np.array(corners)
    return arr.min(axis=0), arr.max(axis=0)


def to_world(oid: int, category: str, parts: list[catalog.LocalPart], yaw: float, origin, support: str) -> SceneObject:
    """Place object-frame parts at ``origin`` (3,) with heading ``yaw`` (object +x axis angle)."""
    R2, origin = _rot2(yaw), np.asarray(origin, float)
    world = []
    for p in parts:
        c = np.asarray(p.center, float)
        cw = np.array([*(R2 @ c[:2] + origin[:2]), c[2] + origin[2]])
        world.append(Part(OrientedBox.from_yaw(cw, p.size, yaw + p.yaw), p.color, p.material))
    lo, hi = local_bounds(parts)
    mid = (lo + hi) / 2
    center = np.array([*(R2 @ mid[:2] + origin[:2]), mid[2] + origin[2]])
    return SceneObject(oid, category, OrientedBox.from_yaw(center, hi - lo, yaw), tuple(world), support)


class Layout:
    """Places objects in a room, one rule at a time (see module docstring)."""

    def __init__(self, room: RoomSpec, rng: np.random.Generator) -> None:
        self.room, self.rng = room, rng
        self.poly = room.floor_polygon
        self.walls = walls_of(self.poly)
        self.free = FreeSpace.of(self.poly)
        self.placed: list[_Placed] = []
        self.keepout: list[OrientedBox] = []  # in front of doors
        self.area = room.floor_area_m2

    # ----------------------------------------------------------------------- checks
    def _collides(self, obj: SceneObject, clearance: float, ignore: int | None = None) -> bool:
        grown = OrientedBox(obj.box.center, obj.box.size + 2 * clearance, obj.box.axes)
        for pl in self.placed:
            o = pl.obj
            if o.id == ignore:
                continue
            top_level = not o.support.startswith("object:")
            if clearance > 0 and top_level and obj.support == "floor" and o.support == "floor":
                if overlaps(grown, o.box):
                    return True
            if not overlaps(obj.box, o.box):
                continue
            lo_a, hi_a = _part_aabbs(obj)
            lo_b, hi_b = _part_aabbs(o)
            near = np.all((lo_a[:, None] <= hi_b[None] + PART_TOL) & (lo_b[None] <= hi_a[:, None] + PART_TOL), axis=2)
            for i, j in zip(*np.nonzero(near)):
                if overlaps(obj.parts[i].box, o.parts[j].box):
                    return True
        return False

    def _inside(self, obj: SceneObject, margin: float = 0.0) -> bool:
        fp = obj.box.footprint()
        if not point_in_polygon(fp, self.poly).all():
            return False
        if (distance_to_walls(fp, self.poly) < margin - 1e-9).any():
            return False
        # No room corner may poke into the footprint (L-shaped rooms).
        local = (self.poly - obj.box.center[:2]) @ obj.box.axes[:2, :2].T
        return not np.any(np.all(np.abs(local) < obj.box.size[:2] / 2 - 1e-6, axis=1))

    def _try_commit(self, kind, parts, surface, yaw, origin, support, clearance, floor_block=True, ignore=None):
        oid = len(self.placed) + 1
        obj = to_world(oid, catalog.KINDS[kind].category, parts, yaw, origin, support)
        if not self._inside(obj):
            return None
        if obj.box.z_max > self.room.ceiling_height_m - 0.02 and support != "ceiling":
            return None
        if self._collides(obj, clearance, ignore):
            return None
        if support == "floor" and any(boxes_intersect(obj.box, k) for k in self.keepout):
            return None
        blocks = floor_block and obj.box.z_min < 1.9 and support in ("floor", "wall")
        if blocks:
            new_blocked = self.free.blocked | self.free.footprint_mask(obj.box)
            if not self.free.acceptable(new_blocked, self.area):
                return None
            self.free.blocked = new_blocked
        pl = _Placed(obj, kind, yaw, np.asarray(origin, float), surface)
        self.placed.append(pl)
        return pl

    # ----------------------------------------------------------------------- modes
    def _wall_pose(self, lo, hi, along_margin=0.05, z0=0.0, gap=0.005):
        w = self.walls[int(self.rng.integers(len(self.walls)))]
        width = hi[0] - lo[0]
        if w.length < width + 2 * along_margin:
            return None
        t = float(self.rng.uniform(along_margin + width / 2, w.length - along_margin - width / 2))
        yaw = float(np.arctan2(w.normal[1], w.normal[0]) - np.pi / 2)  # object +y (front) along the normal
        mid_x = (lo[0] + hi[0]) / 2
        p = w.p0 + w.direction * t + w.normal * (gap - lo[1]) - _rot2(yaw) @ np.array([mid_x, 0.0])
        return yaw, np.array([p[0], p[1], z0])

    def place(self, rule: catalog.Rule, attempts: int = 60) -> list[_Placed]:
        """Place between ``rule.lo`` and ``rule.hi`` objects of ``rule.kind``; returns those placed."""
        n = int(self.rng.integers(rule.lo, rule.hi + 1))
        mode, _, arg = rule.placement.partition(":")
        out: list[_Placed] = []
        for _ in range(n):
            for _try in range(attempts):
                parts, surface, _size = catalog.build(rule.kind, self.rng)
                pl = getattr(self, f"_place_{mode}")(rule.kind, parts, surface, arg)
                if pl is not None:
                    out.append(pl)
                    break
        return out

    def _place_wall(self, kind, parts, surface, arg):
        lo, hi = local_bounds(parts)
        pose = self._wall_pose(lo, hi)
        if pose is None:
            return None
        return self._try_commit(kind, parts, surface, pose[0], pose[1], "floor", clearance=0.04)

    def _place_mount(self, kind, parts, surface, arg):
        z_lo, z_hi = (float(v) for v in arg.split("-"))
        lo, hi = local_bounds(parts)
        margin = 0.3 if kind != "door" else 0.12
        pose = self._wall_pose(lo, hi, along_margin=margin, z0=float(self.rng.uniform(z_lo, z_hi)))
        if pose is None:
            return None
        # Doors and windows keep a gap from each other along the wall.
        pl = self._try_commit(kind, parts, surface, pose[0], pose[1], "wall", clearance=0.0, floor_block=False)
        if pl is None:
            return None
        if kind in ("door", "window"):
            wide = OrientedBox(pl.obj.box.center, pl.obj.box.size + [0.3, 0.3, 0.1], pl.obj.box.axes)
            clash = any(boxes_intersect(wide, q.obj.box) for q in self.placed[:-1] if q.kind in ("door", "window"))
            if clash:
                self.placed.pop()
                return None
        if kind == "door":
            b = pl.obj.box
            front = b.center[:2] + b.axes[1, :2] * (b.size[1] / 2 + 0.5)
            self.keepout.append(OrientedBox([front[0], front[1], 1.0], [b.size[0] + 0.2, 1.0, 2.0], b.axes))
        elif kind in ("heater",):
            self.free.blocked |= self.free.footprint_mask(pl.obj.box)
        return pl

    def _place_free(self, kind, parts, surface, arg):
        lo, hi = local_bounds(parts)
        xy0, xy1 = self.poly.min(axis=0), self.poly.max(axis=0)
        c = self.rng.uniform(xy0 + 0.5, xy1 - 0.5)
        yaw = float(self.rng.integers(4)) * np.pi / 2 + float(self.rng.uniform(-0.35, 0.35))
        mid = (lo + hi) / 2
        origin = np.array([*(c - _rot2(yaw) @ mid[:2]), 0.0])
        return self._try_commit(kind, parts, surface, yaw, origin, "floor", clearance=0.25)

    def _place_at(self, kind, parts, surface, arg):
        hosts = [p for p in self.placed if p.kind in arg.split(",")]
        if not hosts:
            return None
        host = hosts[int(self.rng.integers(len(hosts)))]
        hlo, hhi = local_bounds(self._local_parts_of(host))
        lo, hi = local_bounds(parts)
        if host.kind == "desk":
            side = 1  # the desk's front (+y)
        else:
            side = int(self.rng.integers(4))
        # side k: 0 -y, 1 +y, 2 -x, 3 +x of the host; the chair faces the host.
        gap = float(self.rng.uniform(0.02, 0.12))
        if side in (0, 1):
            sgn = -1 if side == 0 else 1
            span = (hhi[0] - hlo[0]) / 2 - (hi[0] - lo[0]) / 2 - 0.05
            x = float(self.rng.uniform(-max(span, 0), max(span, 0))) if span > 0 else 0.0
            y = (hhi[1] if sgn > 0 else hlo[1]) + sgn * (gap + (hi[1] - lo[1]) / 2)
            chair_yaw = host.yaw + (0.0 if sgn < 0 else np.pi)
        else:
            sgn = -1 if side == 2 else 1
            y = 0.0
            x = (hhi[0] if sgn > 0 else hlo[0]) + sgn * (gap + (hi[1] - lo[1]) / 2)
            chair_yaw = host.yaw + (np.pi / 2 if sgn > 0 else -np.pi / 2)
        chair_yaw += float(self.rng.uniform(-0.25, 0.25))
        ctr = host.origin[:2] + _rot2(host.yaw) @ np.array([x, y])
        mid = (lo + hi) / 2
        origin = np.array([*(ctr - _rot2(chair_yaw) @ mid[:2]), 0.0])
        return self._try_commit(kind, parts, surface, chair_yaw, origin, "floor", clearance=0.02)

    def _local_parts_of(self, pl: _Placed) -> list[catalog.LocalPart]:
        R = _rot2(-pl.yaw)
        out = []
        for p in pl.obj.parts:
            c = p.box.center
            xy = R @ (c[:2] - pl.origin[:2])
            out.append(catalog.LocalPart((xy[0], xy[1], c[2] - pl.origin[2]), tuple(p.box.size), p.color, p.material,
                                         float(p.box.yaw - pl.yaw)))
        return out

    def _place_on(self, kind, parts, surface, arg):
        hosts = [p for p in self.placed if p.kind in arg.split(",") and p.surface is not None]
        if not hosts:
            return None
        host = hosts[int(self.rng.integers(len(hosts)))]
        s = host.surface
        lo, hi = local_bounds(parts)
        jitter = {"pillow": 0.25, "laptop": 0.3, "microwave": 0.1, "printer": 0.1}.get(kind, 0.0)
        rel = float(self.rng.uniform(-jitter, jitter))
        hw = abs(np.cos(rel)) * (hi[0] - lo[0]) / 2 + abs(np.sin(rel)) * (hi[1] - lo[1]) / 2
        hd = abs(np.sin(rel)) * (hi[0] - lo[0]) / 2 + abs(np.cos(rel)) * (hi[1] - lo[1]) / 2
        if s.x1 - s.x0 < 2 * hw or s.y1 - s.y0 < 2 * hd:
            return None
        x = float(self.rng.uniform(s.x0 + hw, s.x1 - hw))
        y = float(self.rng.uniform(s.y0 + hd, s.y1 - hd))
        if kind in ("tv", "monitor", "microwave", "printer"):
            y = s.y0 + hd + 0.02  # towards the back of the surface
        yaw = host.yaw + rel
        mid = (lo + hi) / 2
        ctr = host.origin[:2] + _rot2(host.yaw) @ np.array([x, y])
        origin = np.array([*(ctr - _rot2(yaw) @ mid[:2]), host.origin[2] + s.z - lo[2]])
        return self._try_commit(kind, parts, None, yaw, origin, f"object:{host.obj.id}", clearance=0.0,
                                floor_block=False)

    def _place_ceiling(self, kind, parts, surface, arg):
        lo, hi = local_bounds(parts)
        xy0, xy1 = self.poly.min(axis=0), self.poly.max(axis=0)
        c = self.rng.uniform(xy0 + 0.6, xy1 - 0.6)
        yaw = 0.0
        for pl in self.placed:
            if pl.kind == kind and np.linalg.norm(pl.obj.box.center[:2] - c) < 1.5:
                return None
        if distance_to_walls(c[None], self.poly)[0] < 0.6:
            return None
        mid = (lo + hi) / 2
        origin = np.array([c[0] - mid[0], c[1] - mid[1], self.room.ceiling_height_m - hi[2]])
        return self._try_commit(kind, parts, None, yaw, origin, "ceiling", clearance=0.0, floor_block=False)


def layout_room(room: RoomSpec, room_type: str, rng: np.random.Generator) -> tuple[tuple[SceneObject, ...], FreeSpace]:
    """Place every rule of ``room_type`` in ``room``; returns the objects (ids 1..N) and the free grid."""
    lay = Layout(room, rng)
    rules = catalog.ROOM_TYPES[room_type]
    order = {"mount": 0, "wall": 1, "free": 2, "at": 3, "on": 4, "ceiling": 5}

    def key(r: catalog.Rule):
        k = catalog.KINDS[r.kind]
        big = float(np.prod(k.size_hi[:2]))  # larger footprints first within a mode
        return (order[r.placement.split(":")[0]], r.kind not in ("door", "window"), -big)

    mounts_first = sorted(rules, key=key)
    for rule in mounts_first:
        lay.place(rule)
    return tuple(p.obj for p in lay.placed), lay.free
