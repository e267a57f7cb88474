"""Floor plane and room extent from structure geometry (floor, walls, ceiling), never from object boxes.

* :class:`HeightHistogram` accumulates the heights of structure points in fixed bins; the floor is
  its lowest horizontal-surface peak, the ceiling its highest (when high enough above the floor).
* :class:`FloorEstimator` finds the floor as the lowest *large* horizontal plane below the cameras:
  each histogram peak is a candidate plane whose horizontal extent is measured on a coarse grid, so a
  table or counter filling the view does not pass for the floor.
* :class:`FreeSpaceGrid` carves the room's floor plan: for each frame, segments from the camera to
  the farthest structure point of (a rotating subset of) image columns are rasterised on a floor-plane
  grid (what the camera saw through is inside the room; rays stop at the walls). It also keeps, per
  cell, the height range of structure points and of detected-object points: cells whose heights span
  a vertical extent are walls (doors and wardrobes close the gaps they leave in the structure). Its
  memory grows with the area explored, never with the frame count.
* :func:`room_polygon` closes the carved cells (fills the gaps between rays and holes), adds the floor
  the camera never looked across but that is reachable from the carved region without crossing a
  wall (within the carved bounding box: e.g. along a wall the camera never faced), keeps the largest
  region, traces its outline, simplifies it and shrinks it by half a cell (a ray's last cell contains
  the wall surface, on average half a cell in), giving a counter-clockwise polygon and its area.
* :func:`snap_thin_box_to_wall` and :func:`snap_box_vertically` grow fused object boxes over the
  parts that can never be seen: the back of a wall-mounted thin object, the underside of a floor-standing
  one, the mount of a ceiling light.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from spatialmem.geometry.boxes import polygon_area


class HeightHistogram:
    """Counts of structure-point heights in ``bin_m`` bins over ``[z_min, z_max]`` metres."""

    def __init__(self, bin_m: float = 0.01, z_min: float = -20.0, z_max: float = 20.0) -> None:
        self.bin_m, self.z_min = float(bin_m), float(z_min)
        self.counts = np.zeros(int(np.ceil((z_max - z_min) / bin_m)), np.int64)

    def add(self, z: np.ndarray) -> None:
        idx = np.floor((np.asarray(z, np.float64) - self.z_min) / self.bin_m).astype(np.int64)
        idx = idx[(idx >= 0) & (idx < len(self.counts))]
        if len(idx):
            self.counts += np.bincount(idx, minlength=len(self.counts))

    def _peak_z(self, i: int) -> float:
        lo, hi = max(0, i - 2), min(len(self.counts), i + 3)
        w = self.counts[lo:hi].astype(np.float64)
        centers = self.z_min + (np.arange(lo, hi) + 0.5) * self.bin_m
        return float((w * centers).sum() / w.sum())

    def _strong(self, rel: float, contrast: float = 3.0) -> np.ndarray:
        """Indices of bins that are horizontal-surface peaks: their 5-bin sum is at least ``rel`` of the
        largest and ``contrast`` times the surrounding level (median over 0.4 m), so that walls, whose
        heights spread evenly, do not count."""
        from scipy import ndimage

        c = self.counts.astype(np.float64)
        s = np.convolve(c, np.ones(5), mode="same")
        bg = ndimage.median_filter(s, size=41, mode="constant")
        return np.nonzero((s >= rel * s.max()) & (s >= contrast * bg) & (c > 0))[0]

    def floor_z(self, rel: float = 0.2) -> float | None:
        """Height of the lowest horizontal-surface peak (None before any point; when no peak stands out,
        the 1st percentile of the heights)."""
        if self.counts.max() == 0:
            return None
        strong = self._strong(rel)
        if len(strong) == 0:
            cum = np.cumsum(self.counts)
            i = int(np.searchsorted(cum, 0.01 * cum[-1]))
            return self.z_min + (i + 0.5) * self.bin_m
        return self._peak_z(int(strong[0]))

    def ceiling_z(self, rel: float = 0.2, min_height_m: float = 1.8, strict: bool = True,
                  floor_z: float | None = None) -> float | None:
        """Height of the highest horizontal-surface peak if it lies ``min_height_m`` above the floor, else None.

        ``floor_z`` is the floor to measure from (default: :meth:`floor_z`). With ``strict=False``, when the
        ceiling itself was hardly seen, the 99.5th percentile of the heights (about the top of the walls seen:
        a lower bound of the ceiling) is returned if it is high enough.
        """
        f = self.floor_z(rel) if floor_z is None else floor_z
        if f is None:
            return None
        strong = self._strong(rel)
        c = self._peak_z(int(strong[-1])) if len(strong) else -np.inf
        if c < f + min_height_m and not strict:
            cum = np.cumsum(self.counts)
            c = self.z_min + (int(np.searchsorted(cum, 0.995 * cum[-1])) + 0.5) * self.bin_m
        return c if c >= f + min_height_m else None

    def peaks(self, rel: float = 0.01, contrast: float = 3.0, separation_m: float = 0.05) -> list[float]:
        """Heights of every horizontal-surface peak (see :meth:`_strong`), low to high, at least
        ``separation_m`` apart (the stronger of two close peaks is kept)."""
        if self.counts.max() == 0:
            return []
        s = np.convolve(self.counts.astype(np.float64), np.ones(5), mode="same")
        strong = self._strong(rel, contrast)
        sep = max(1, int(round(separation_m / self.bin_m)))
        kept: list[int] = []
        for i in sorted(strong.tolist(), key=lambda j: -s[j]):
            if all(abs(i - j) > sep for j in kept):
                kept.append(i)
        return [self._peak_z(i) for i in sorted(kept)]


@dataclass(frozen=True)
class FloorEstimate:
    """The floor of a z-up capture.

    Attributes:
        z: floor height, metres.
        area_m2: horizontal extent of the points on that plane (occupied ``cell_m`` cells), m².
        method: ``"plane"`` (the lowest large horizontal plane below the cameras) or ``"histogram"``
            (no such plane: :meth:`HeightHistogram.floor_z`, the lowest strong height peak).
        planes: (z, area_m2) of every horizontal plane found, low to high.
    """

    z: float
    area_m2: float
    method: str
    planes: tuple[tuple[float, float], ...] = ()


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """The sorted unique values of an integer array (a sort and a neighbour test: no hashing)."""
    a = np.sort(a)
    return a[np.concatenate(([True], a[1:] != a[:-1]))] if len(a) else a


class FloorEstimator:
    """Streaming floor finder: the lowest *large* horizontal plane that the cameras stand above.

    A height histogram alone locks onto whatever horizontal surface has the most points (a table
    filling the view); here every horizontal-surface peak of the histogram is a candidate plane and its
    *extent* is measured on a ``cell_m`` grid: the set of occupied (cell, ``bin_m`` height bin) pairs is
    kept, and a cell counts for a plane when the plane's ±2 cm band holds at least ``min_cell_share``
    of the cell's occupied height bins (a wall crossing that height occupies every bin and does not
    count). The floor is the lowest candidate that (a) covers ``min_area_m2`` and at least
    ``min_area_share`` of the largest candidate, and (b) lies ``min_below_camera_m`` below the median
    camera height. Memory grows with the explored area, never with the frame count.
    """

    def __init__(self, bin_m: float = 0.01, cell_m: float = 0.1, z_min: float = -20.0, z_max: float = 20.0) -> None:
        self.hist = HeightHistogram(bin_m, z_min, z_max)
        self.cell_m = float(cell_m)
        self._keys = np.zeros(0, np.int64)  # sorted unique (height bin << 42 | cell x << 21 | cell y)
        self._pending: list[np.ndarray] = []
        self._n_pending = 0
        self._camera_z: list[float] = []

    def add(self, points_world: np.ndarray, extent_every: int = 4) -> None:
        """Add (N, 3) z-up world points of the room's structure (metres); every ``extent_every``-th point
        also marks the plane-extent grid (10 cm cells need far fewer points than the 1 cm histogram)."""
        p = np.asarray(points_world, np.float64).reshape(-1, 3)
        p = p[np.all(np.isfinite(p), axis=1)]
        if len(p) == 0:
            return
        self.hist.add(p[:, 2])
        p = p[:: max(1, int(extent_every))]
        zb = np.floor((p[:, 2] - self.hist.z_min) / self.hist.bin_m).astype(np.int64)
        c = np.floor(p[:, :2] / self.cell_m).astype(np.int64) + (1 << 20)
        ok = (zb >= 0) & (zb < len(self.hist.counts)) & np.all((c >= 0) & (c < (1 << 21)), axis=1)
        keys = _sorted_unique((zb[ok] << 42) | (c[ok, 0] << 21) | c[ok, 1])
        self._pending.append(keys)
        self._n_pending += len(keys)
        if self._n_pending > 500_000:
            self._compact()

    def add_camera(self, z: float) -> None:
        """Record a camera centre's height (metres); the floor must lie below the cameras."""
        if np.isfinite(z):
            self._camera_z.append(float(z))

    def _compact(self) -> None:
        if self._pending:
            self._keys = _sorted_unique(np.concatenate([self._keys, *self._pending]))
            self._pending, self._n_pending = [], 0

    def plane_areas(self, heights: list[float], half_thickness_m: float = 0.02,
                    min_cell_share: float = 0.25) -> list[float]:
        """Horizontal extent (m²) of the plane at each of ``heights`` (see the class docstring)."""
        self._compact()
        if len(self._keys) == 0:
            return [0.0 for _ in heights]
        zb = self._keys >> 42
        xy = self._keys & ((1 << 42) - 1)
        cells = _sorted_unique(xy)
        inv = np.searchsorted(cells, xy)
        total = np.bincount(inv, minlength=len(cells))
        out = []
        for z in heights:
            lo = int(np.floor((z - half_thickness_m - self.hist.z_min) / self.hist.bin_m))
            hi = int(np.floor((z + half_thickness_m - self.hist.z_min) / self.hist.bin_m))
            band = np.bincount(inv[(zb >= lo) & (zb <= hi)], minlength=len(cells))
            out.append(float(((band > 0) & (band >= min_cell_share * total)).sum()) * self.cell_m ** 2)
        return out

    def estimate(self, min_area_m2: float = 0.5, min_area_share: float = 0.1,
                 min_below_camera_m: float = 0.3) -> FloorEstimate | None:
        """The floor (see the class docstring), or None before any point."""
        if self.hist.counts.max() == 0:
            return None
        peaks = self.hist.peaks()
        planes = tuple(zip(peaks, self.plane_areas(peaks), strict=True))
        cam = float(np.median(self._camera_z)) if self._camera_z else np.inf
        largest = max((a for _, a in planes), default=0.0)
        for z, a in planes:
            if a >= max(min_area_m2, min_area_share * largest) and z <= cam - min_below_camera_m:
                return FloorEstimate(z, a, "plane", planes)
        lowest = self.hist.floor_z()
        if lowest is None:
            return None
        return FloorEstimate(float(lowest), self.plane_areas([lowest])[0], "histogram", planes)

    def ceiling_z(self, floor_z: float | None, strict: bool = True) -> float | None:
        """The ceiling above ``floor_z`` (see :meth:`HeightHistogram.ceiling_z`)."""
        return self.hist.ceiling_z(strict=strict, floor_z=floor_z) if floor_z is not None else None


class FreeSpaceGrid:
    """A growable boolean floor-plane grid of cells the camera has seen through (``cell_m`` metres)."""

    def __init__(self, cell_m: float = 0.025, grow_cells: int = 80) -> None:
        self.cell_m = float(cell_m)
        self.grow = int(grow_cells)
        self.origin = np.zeros(2, np.int64)  # integer cell coordinates of grid[0, 0]
        self.grid = np.zeros((0, 0), bool)  # [ix, iy]
        # lowest / highest point seen in each cell: room structure, and detected objects
        self.z = {k: np.zeros((0, 0), np.float32) for k in ("lo", "hi", "obj_lo", "obj_hi")}

    def _ensure(self, lo: np.ndarray, hi: np.ndarray) -> None:
        if self.grid.size == 0:
            self.origin = lo - self.grow
            shape = tuple((hi - lo + 1 + 2 * self.grow).tolist())
            self.grid = np.zeros(shape, bool)
            self.z = {k: np.full(shape, np.inf if k.endswith("lo") else -np.inf, np.float32) for k in self.z}
            return
        end = self.origin + np.array(self.grid.shape)
        if np.all(lo >= self.origin) and np.all(hi < end):
            return
        new_lo = np.minimum(self.origin, lo - self.grow)
        new_end = np.maximum(end, hi + 1 + self.grow)
        shape = tuple((new_end - new_lo).tolist())
        off = self.origin - new_lo
        sl = (slice(off[0], off[0] + self.grid.shape[0]), slice(off[1], off[1] + self.grid.shape[1]))
        g = np.zeros(shape, bool)
        g[sl] = self.grid
        for k, old in self.z.items():
            new = np.full(shape, np.inf if k.endswith("lo") else -np.inf, np.float32)
            new[sl] = old
            self.z[k] = new
        self.origin, self.grid = new_lo, g

    def mark_heights(self, points_world: np.ndarray, objects: bool = False) -> None:
        """Record the height range per cell of structure (or, with ``objects``, detected-object) points (N, 3)."""
        p = np.asarray(points_world, np.float64).reshape(-1, 3)
        p = p[np.all(np.isfinite(p), axis=1)]
        if len(p) == 0:
            return
        c = np.floor(p[:, :2] / self.cell_m).astype(np.int64)
        self._ensure(c.min(axis=0), c.max(axis=0))
        c -= self.origin
        z = p[:, 2].astype(np.float32)
        pre = "obj_" if objects else ""
        np.minimum.at(self.z[pre + "lo"], (c[:, 0], c[:, 1]), z)
        np.maximum.at(self.z[pre + "hi"], (c[:, 0], c[:, 1]), z)

    def walls(self, min_span_m: float = 0.2, objects: bool = True, object_span_m: float = 0.5) -> np.ndarray:
        """[ix, iy] bool cells holding vertical surfaces: structure heights spanning at least ``min_span_m``
        (or, with ``objects``, detected-object heights spanning ``object_span_m``: doors, wardrobes)."""
        with np.errstate(invalid="ignore"):
            w = (self.z["hi"] - self.z["lo"]) >= min_span_m
            if objects:
                w |= (self.z["obj_hi"] - self.z["obj_lo"]) >= object_span_m
        return w

    def mark(self, xy: np.ndarray) -> None:
        """Mark the cells containing (N, 2) floor-plane points."""
        xy = np.asarray(xy, np.float64).reshape(-1, 2)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy) == 0:
            return
        c = np.floor(xy / self.cell_m).astype(np.int64)
        self._ensure(c.min(axis=0), c.max(axis=0))
        c -= self.origin
        self.grid[c[:, 0], c[:, 1]] = True

    def carve(self, origin_xy: np.ndarray, ends_xy: np.ndarray) -> None:
        """Mark every cell along the segments from ``origin_xy`` (2,) to each of ``ends_xy`` (N, 2)."""
        ends = np.asarray(ends_xy, np.float64).reshape(-1, 2)
        ends = ends[np.all(np.isfinite(ends), axis=1)]
        o = np.asarray(origin_xy, np.float64).reshape(1, 2)
        if len(ends) == 0 or not np.all(np.isfinite(o)):
            return
        length = float(np.linalg.norm(ends - o, axis=1).max())
        n = max(2, int(np.ceil(length / (0.5 * self.cell_m))) + 1)
        t = np.linspace(0.0, 1.0, n)[:, None, None]
        self.mark((o + t * (ends - o)[None]).reshape(-1, 2))

    def cells(self) -> tuple[np.ndarray, np.ndarray]:
        """(grid, origin_xy): the boolean grid [ix, iy] and the world xy of its [0, 0] cell's corner."""
        return self.grid, self.origin.astype(np.float64) * self.cell_m


def _trace_outline(mask: np.ndarray) -> np.ndarray:
    """Counter-clockwise outer outline (corner coordinates, in cells) of the True cells of ``mask`` [ix, iy]."""
    m = np.pad(mask, 1)
    nxt: dict[tuple[int, int], list[tuple[int, int]]] = {}

    def add(a0, a1, b0, b1):
        for p, q in zip(zip(a0.tolist(), a1.tolist(), strict=True), zip(b0.tolist(), b1.tolist(), strict=True),
                        strict=True):
            nxt.setdefault(p, []).append(q)

    core = m[1:-1, 1:-1]
    ix, iy = np.nonzero(core & ~m[1:-1, :-2])  # empty below: bottom edge, +x
    add(ix, iy, ix + 1, iy)
    ix, iy = np.nonzero(core & ~m[2:, 1:-1])  # empty right: right edge, +y
    add(ix + 1, iy, ix + 1, iy + 1)
    ix, iy = np.nonzero(core & ~m[1:-1, 2:])  # empty above: top edge, -x
    add(ix + 1, iy + 1, ix, iy + 1)
    ix, iy = np.nonzero(core & ~m[:-2, 1:-1])  # empty left: left edge, -y
    add(ix, iy + 1, ix, iy)
    best: list[tuple[int, int]] = []
    while nxt:
        start = next(iter(nxt))
        loop, p = [start], start
        while True:
            outs = nxt.get(p)
            if not outs:
                break
            q = outs.pop()
            if not outs:
                del nxt[p]
            if q == start:
                break
            loop.append(q)
            p = q
        if len(loop) > len(best):
            best = loop
    return np.array(best, dtype=np.float64).reshape(-1, 2)


def _drop_collinear(poly: np.ndarray, tol: float = 1e-9) -> np.ndarray:
    keep = []
    n = len(poly)
    for i in range(n):
        a, b, c = poly[i - 1], poly[i], poly[(i + 1) % n]
        if abs((b[0] - a[0]) * (c[1] - b[1]) - (b[1] - a[1]) * (c[0] - b[0])) > tol:
            keep.append(i)
    return poly[keep]


def _dp(points: np.ndarray, tol: float) -> list[int]:
    """Douglas-Peucker on an open polyline; indices kept (first and last always)."""
    stack, keep = [(0, len(points) - 1)], {0, len(points) - 1}
    while stack:
        i, j = stack.pop()
        if j <= i + 1:
            continue
        a, b = points[i], points[j]
        ab = b - a
        n = np.hypot(*ab)
        seg = points[i + 1:j]
        if n < 1e-12:
            d = np.hypot(*(seg - a).T)
        else:
            d = np.abs(ab[0] * (seg[:, 1] - a[1]) - ab[1] * (seg[:, 0] - a[0])) / n
        k = int(np.argmax(d))
        if d[k] > tol:
            m = i + 1 + k
            keep.add(m)
            stack += [(i, m), (m, j)]
    return sorted(keep)


def simplify_polygon(poly: np.ndarray, tol: float) -> np.ndarray:
    """Douglas-Peucker simplification of a closed polygon (M, 2) with tolerance ``tol``."""
    if len(poly) <= 4:
        return poly
    far = int(np.argmax(np.linalg.norm(poly - poly[0], axis=1)))
    a = poly[: far + 1]
    b = np.vstack([poly[far:], poly[:1]])
    ka = _dp(a, tol)
    kb = _dp(b, tol)
    out = np.vstack([a[ka[:-1]], b[kb[:-1]]])
    return out if len(out) >= 3 else poly


def offset_polygon(poly: np.ndarray, d: float) -> np.ndarray:
    """Move every edge of a counter-clockwise polygon inwards by ``d`` metres (outwards if negative)."""
    n = len(poly)
    if n < 3 or d == 0:
        return poly
    e = np.roll(poly, -1, axis=0) - poly
    e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    nrm = np.stack([-e[:, 1], e[:, 0]], axis=1)  # left normal = inside for CCW
    out = np.empty_like(poly)
    for i in range(n):
        j = i - 1  # edge ending at vertex i
        p1, d1 = poly[j] + d * nrm[j], e[j]
        p2, d2 = poly[i] + d * nrm[i], e[i]
        den = d1[0] * d2[1] - d1[1] * d2[0]
        if abs(den) < 1e-6:
            out[i] = poly[i] + d * nrm[i]
        else:
            t = ((p2[0] - p1[0]) * d2[1] - (p2[1] - p1[1]) * d2[0]) / den
            out[i] = p1 + t * d1
    return out


def room_polygon(grid: np.ndarray, origin_xy: np.ndarray, cell_m: float, close_m: float = 0.1,
                 simplify_m: float | None = None, walls: np.ndarray | None = None,
                 wall_dilate_m: float = 0.075, seal_gap_m: float = 0.25) -> tuple[np.ndarray, float]:
    """The room's floor polygon (M, 2) counter-clockwise and its area in m² from a carved grid.

    Args:
        grid: [ix, iy] bool cells seen through (e.g. :class:`FreeSpaceGrid`).
        origin_xy: world xy of cell [0, 0]'s corner.
        cell_m: cell size.
        close_m: morphological closing radius that joins the gaps between rays.
        simplify_m: outline simplification tolerance (default 1.5 cells).
        walls: optional [ix, iy] bool cells with vertical surfaces (same grid). When given, floor space the
            camera never looked across (e.g. along a wall it never faced) is filled in too: cells reachable
            from the carved region without crossing a wall (walls grown by ``wall_dilate_m``), within the
            carved region's bounding box. Connectivity is tested with walls grown by ``seal_gap_m``, so a
            gap of up to twice that in a wall the camera saw (a corner seam, an unseen strip) does not let
            the fill flood the space behind it (e.g. the notch outside an L-shaped room); the filled region
            is then grown back by ``seal_gap_m`` up to ``wall_dilate_m`` from the walls.

    Returns:
        (polygon, area_m2); an empty (0, 2) polygon and 0.0 when nothing was carved.
    """
    from scipy import ndimage

    if grid.size == 0 or not grid.any():
        return np.zeros((0, 2)), 0.0
    r = max(1, int(round(close_m / cell_m)))
    pad = r + 1
    g = np.pad(grid, pad)
    disk = np.hypot(*np.mgrid[-r:r + 1, -r:r + 1]) <= r + 1e-9
    g = ndimage.binary_closing(g, structure=disk)
    g = ndimage.binary_fill_holes(g)
    if walls is not None and walls.any():
        def disk_of(m: float) -> np.ndarray:
            k = max(1, int(round(m / cell_m)))
            return np.hypot(*np.mgrid[-k:k + 1, -k:k + 1]) <= k + 1e-9

        wall_cells = np.pad(walls, pad)
        near_wall = ndimage.binary_dilation(wall_cells, structure=disk_of(wall_dilate_m))
        sealed = ndimage.binary_dilation(wall_cells, structure=disk_of(seal_gap_m))
        ix, iy = np.nonzero(g)
        box = np.zeros_like(g)
        box[ix.min():ix.max() + 1, iy.min():iy.max() + 1] = True
        free_lab, _ = ndimage.label(box & ~sealed)
        # Seed only from cells a ray really crossed: the closing above also fills the inner corner of an
        # L-shaped room, and seeding from those cells would flood the notch outside the room.
        seeds = np.unique(free_lab[np.pad(grid, pad) & ~sealed])
        seeds = seeds[seeds > 0]
        filled = ndimage.binary_dilation(np.isin(free_lab, seeds), structure=disk_of(seal_gap_m))
        g = g | (filled & ~near_wall & box)
        g = ndimage.binary_fill_holes(ndimage.binary_closing(g, structure=disk))
    lab, n = ndimage.label(g)
    if n > 1:
        sizes = np.bincount(lab.ravel())
        sizes[0] = 0
        g = lab == int(np.argmax(sizes))
    outline = _trace_outline(g)
    if len(outline) < 3:
        return np.zeros((0, 2)), 0.0
    poly = (outline - pad) * cell_m + np.asarray(origin_xy, np.float64)
    poly = _drop_collinear(poly)
    poly = simplify_polygon(poly, 1.5 * cell_m if simplify_m is None else simplify_m)
    poly = offset_polygon(poly, 0.5 * cell_m)
    return poly, polygon_area(poly)


def snap_thin_box_to_wall(box, walls: np.ndarray, origin_xy: np.ndarray, cell_m: float, thin_m: float = 0.12,
                          reach_m: float = 0.12, min_fraction: float = 0.25):
    """Extend a thin gravity-aligned box (a door, picture, whiteboard) back to the wall it is mounted on.

    Only the front of a wall-mounted object is seen, so its fused box is thinner than the object. When
    the box's thinnest horizontal extent is at most ``thin_m`` and, within ``reach_m`` behind one of its two
    large faces, at least ``min_fraction`` of a line of samples along that face (1.5 times its width, so
    the wall beside and above the object counts) falls in structure wall cells, the box is grown up to
    that wall. Otherwise the box is returned unchanged.

    Args:
        box: an :class:`~spatialmem.geometry.boxes.OrientedBox` (gravity-aligned).
        walls: [ix, iy] bool structure wall cells; origin_xy / cell_m: their grid.
    """
    from spatialmem.geometry.boxes import OrientedBox

    if walls.size == 0:
        return box
    k = int(np.argmin(box.size[:2]))
    if box.size[k] > thin_m:
        return box
    n = box.axes[k][:2] / max(np.linalg.norm(box.axes[k][:2]), 1e-12)
    t = box.axes[1 - k][:2] / max(np.linalg.norm(box.axes[1 - k][:2]), 1e-12)
    along = np.linspace(-0.75, 0.75, 31)[:, None] * box.size[1 - k] * t
    best = None
    for sign in (1.0, -1.0):
        face = box.center[:2] + sign * n * box.size[k] / 2
        for d in np.arange(0.0, reach_m + 1e-9, cell_m / 2):
            idx = np.floor((face + sign * n * d + along - origin_xy) / cell_m).astype(np.int64)
            ok = (idx[:, 0] >= 0) & (idx[:, 1] >= 0) & (idx[:, 0] < walls.shape[0]) & (idx[:, 1] < walls.shape[1])
            if walls[idx[ok, 0], idx[ok, 1]].sum() >= min_fraction * len(idx):
                if best is None or d < best[0]:
                    best = (d, sign)
                break
    if best is None or best[0] <= 0:
        return box
    d, sign = best
    size = box.size.copy()
    size[k] += d
    center = box.center.copy()
    center[:2] += sign * n * d / 2
    return OrientedBox(center, size, box.axes)


def snap_box_vertically(box, floor_z: float | None, ceiling_z: float | None, floor_reach_m: float = 0.05,
                        ceiling_reach_m: float = 0.1):
    """Extend a box down to the floor / up to the ceiling when it ends just short of it.

    The underside of an object standing on the floor and the top of a ceiling-mounted one (a light's
    mount) are never seen, so fused boxes stop a little short; a box whose bottom is within
    ``floor_reach_m`` above the floor (top within ``ceiling_reach_m`` below the ceiling) is grown to it.
    """
    from spatialmem.geometry.boxes import OrientedBox

    lo, hi = box.z_min, box.z_max
    new_lo = floor_z if floor_z is not None and 0 < lo - floor_z <= floor_reach_m else lo
    new_hi = ceiling_z if ceiling_z is not None and 0 < ceiling_z - hi <= ceiling_reach_m else hi
    if new_lo == lo and new_hi == hi:
        return box
    center, size = box.center.copy(), box.size.copy()
    center[2], size[2] = (new_lo + new_hi) / 2.0, new_hi - new_lo
    return OrientedBox(center, size, box.axes)
