"""Route planning through free floor space, for the ``route_planning`` questions.

The floor is rasterised into an occupancy grid (``cell_m`` cells): a cell is *free* when its centre lies
inside the floor polygon at least ``robot_radius_m`` from every wall and at least ``robot_radius_m`` from
the footprint of every floor-standing object. A route visits object centres in turn (that is how the
query language's ``route(view, [W1, ..., C])`` walks); a *leg* between two object centres is clear when
every sample along it is free, except for samples inside the *access zone* of the leg's own end objects
(their footprint grown by ``robot_radius_m + access_margin_m``): the robot must leave/enter those objects.
Geodesic (shortest free-space) lengths come from Dijkstra over the 8-connected free cells
(scipy.sparse.csgraph) and are used to reject routes that make a large detour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.geometry.directions import BACK_TURN_DEG, classify_turn, signed_angle_deg, view_angle_deg
from spatialmem.synth.room import distance_to_walls, point_in_polygon


@dataclass(frozen=True)
class RouteConfig:
    """Parameters of the free-space grid and of route acceptance (metres / degrees)."""

    cell_m: float = 0.1
    robot_radius_m: float = 0.2
    access_margin_m: float = 0.15
    min_leg_m: float = 0.5
    max_first_leg_deg: float = 30.0  # "Go forward until W1": W1 roughly straight ahead of the start view
    min_turn_deg: float = 45.0  # every turn clearly a turn
    back_margin_deg: float = 10.0  # and at least this far from the 135 degree left/right vs back boundary
    max_turns: int = 3
    detour_factor: float = 1.6  # route length <= detour_factor * geodesic + detour_slack_m
    detour_slack_m: float = 1.0


def footprint_distance(points_xy: np.ndarray, box: OrientedBox) -> np.ndarray:
    """(N,) floor-plane distance from each point to the footprint rectangle of a gravity-aligned box."""
    p = np.asarray(points_xy, float).reshape(-1, 2) - box.center[:2]
    u, v = box.axes[0, :2], box.axes[1, :2]
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    lu, lv = p @ (u / max(nu, 1e-12)), p @ (v / max(nv, 1e-12))
    hu, hv = box.size[0] / 2.0 * nu, box.size[1] / 2.0 * nv
    return np.hypot(np.maximum(np.abs(lu) - hu, 0.0), np.maximum(np.abs(lv) - hv, 0.0))


class FloorGrid:
    """Occupancy grid of one room (see module docstring).

    Args:
        floor_polygon: (M, 2) floor polygon, metres.
        obstacles: ``{object id: box}`` of floor-standing objects (their footprints block the floor).
        zones: ``{object id: box}`` of every object that may start or end a leg (access zones).
        config: grid and route parameters.
    """

    def __init__(self, floor_polygon, obstacles: dict[int, OrientedBox], zones: dict[int, OrientedBox],
                 config: RouteConfig | None = None) -> None:
        self.config = cfg = config or RouteConfig()
        poly = np.asarray(floor_polygon, float).reshape(-1, 2)
        lo, hi = poly.min(axis=0) - cfg.cell_m, poly.max(axis=0) + cfg.cell_m
        self.origin = lo
        self.shape = (int(np.ceil((hi[1] - lo[1]) / cfg.cell_m)), int(np.ceil((hi[0] - lo[0]) / cfg.cell_m)))
        ny, nx = self.shape
        xs = lo[0] + (np.arange(nx) + 0.5) * cfg.cell_m
        ys = lo[1] + (np.arange(ny) + 0.5) * cfg.cell_m
        gx, gy = np.meshgrid(xs, ys)
        self.centers = np.stack([gx.ravel(), gy.ravel()], axis=1)  # (ny*nx, 2)
        inside = point_in_polygon(self.centers, poly)
        wall_ok = distance_to_walls(self.centers, poly) >= cfg.robot_radius_m
        self.wall_free = (inside & wall_ok).reshape(self.shape)
        self.blocked_by = {
            oid: (footprint_distance(self.centers, box) < cfg.robot_radius_m).reshape(self.shape)
            for oid, box in obstacles.items()
        }
        blocked = np.zeros(self.shape, bool)
        for mask in self.blocked_by.values():
            blocked |= mask
        self.free = self.wall_free & ~blocked
        reach = cfg.robot_radius_m + cfg.access_margin_m
        self.zone_boxes = dict(zones)
        self.zone = {oid: (footprint_distance(self.centers, box) <= reach).reshape(self.shape)
                     for oid, box in zones.items()}
        self._graph = None
        self._geodesic_cache: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ cells
    def cell_of(self, xy) -> tuple[int, int]:
        """(row, col) of the cell containing a floor point, clipped to the grid."""
        c = np.floor((np.asarray(xy, float)[:2] - self.origin) / self.config.cell_m).astype(int)
        return int(np.clip(c[1], 0, self.shape[0] - 1)), int(np.clip(c[0], 0, self.shape[1] - 1))

    def segment_clear(self, p_xy, q_xy, end_ids: tuple[int, ...]) -> bool:
        """Whether the straight floor segment p -> q crosses only free cells outside the end objects' zones."""
        p, q = np.asarray(p_xy, float)[:2], np.asarray(q_xy, float)[:2]
        n = max(2, int(np.ceil(np.linalg.norm(q - p) / (self.config.cell_m / 2.0))) + 1)
        pts = p + np.linspace(0.0, 1.0, n)[:, None] * (q - p)  # samples every half cell
        cells = np.floor((pts - self.origin) / self.config.cell_m).astype(int)
        rows = np.clip(cells[:, 1], 0, self.shape[0] - 1)
        cols = np.clip(cells[:, 0], 0, self.shape[1] - 1)
        ok = self.free[rows, cols].copy()
        for oid in end_ids:
            if oid in self.zone:
                ok |= self.zone[oid][rows, cols]
        return bool(ok.all())

    # ------------------------------------------------------------------ geodesics
    def _free_graph(self):
        if self._graph is None:
            ny, nx = self.shape
            idx = np.arange(ny * nx).reshape(self.shape)
            rows, cols, w = [], [], []
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                a = self.free[max(0, -dr):ny - max(0, dr), max(0, -dc):nx - max(0, dc)]
                b = self.free[max(0, dr):ny - max(0, -dr), max(0, dc):nx - max(0, -dc)]
                ia = idx[max(0, -dr):ny - max(0, dr), max(0, -dc):nx - max(0, dc)]
                ib = idx[max(0, dr):ny - max(0, -dr), max(0, dc):nx - max(0, -dc)]
                ok = a & b
                rows.append(ia[ok])
                cols.append(ib[ok])
                w.append(np.full(int(ok.sum()), np.hypot(dr, dc) * self.config.cell_m))
            self._graph = (np.concatenate(rows), np.concatenate(cols), np.concatenate(w))
        return self._graph

    def _access_cells(self, oid: int) -> np.ndarray:
        return np.flatnonzero((self.zone[oid] & self.free).ravel())

    def geodesic(self, a_id: int, b_id: int) -> float:
        """Shortest free-floor walking length (metres) from object ``a_id``'s centre to ``b_id``'s centre.

        The walk leaves A through a free cell of its access zone and enters B the same way; the parts
        inside the zones are straight lines. ``inf`` when no free path exists.
        """
        if a_id not in self._geodesic_cache:
            rows, cols, w = self._free_graph()
            n = self.shape[0] * self.shape[1]
            src = self._access_cells(a_id)
            offs = np.linalg.norm(self.centers[src] - self.zone_boxes[a_id].center[:2], axis=1)
            r = np.concatenate([rows, cols, np.full(len(src), n)])
            c = np.concatenate([cols, rows, src])
            ww = np.concatenate([w, w, offs + 1e-9])
            graph = coo_matrix((ww, (r, c)), shape=(n + 1, n + 1)).tocsr()
            self._geodesic_cache[a_id] = dijkstra(graph, directed=True, indices=n)[:n]
        dist = self._geodesic_cache[a_id]
        dst = self._access_cells(b_id)
        if len(dst) == 0:
            return float("inf")
        ends = np.linalg.norm(self.centers[dst] - self.zone_boxes[b_id].center[:2], axis=1)
        return float(np.min(dist[dst] + ends))


@dataclass(frozen=True)
class Route:
    """A planned route: start at ``start_id`` facing ``facing_id``, walk to each waypoint centre, then the target.

    ``turns[i]`` is the turn made on reaching ``waypoint_ids[i]`` (:func:`classify_turn` of
    ``turn_angles_deg[i]``, CCW positive); ``first_angle_deg`` is the angle of W1 in the start view;
    ``first_turn`` the turn made before the first leg ("" when W1 is straight ahead). ``back_to``: the
    robot starts with its back to the facing object (facing away from it).
    """

    start_id: int
    facing_id: int
    waypoint_ids: tuple[int, ...]
    target_id: int
    turns: tuple[str, ...]
    turn_angles_deg: tuple[float, ...]
    first_angle_deg: float
    length_m: float
    first_turn: str = ""
    back_to: bool = False

    @property
    def all_turns(self) -> tuple[str, ...]:
        """Every turn to fill in, in walking order: the first turn (if any), then one per waypoint."""
        return ((self.first_turn,) if self.first_turn else ()) + self.turns


def turn_ok(angle_deg: float, config: RouteConfig) -> bool:
    """An unambiguous turn: |angle| >= min_turn_deg and not within back_margin_deg of 135 degrees."""
    a = abs(angle_deg)
    return a >= config.min_turn_deg and abs(a - BACK_TURN_DEG) >= config.back_margin_deg


class RoutePlanner:
    """Finds the shortest valid object-to-object route with a given number of turns.

    Args:
        grid: the room's :class:`FloorGrid` (its zones must include every node and start object).
        centers: ``{object id: (2,) floor-plane centre}`` of every object used as start, facing or node.
        nodes: ids of objects a route may walk to (waypoints and targets).
        config: route parameters (defaults to ``grid.config``).
        zone_ids: ``{object id: ids whose access zones the robot may cross to reach it}`` (default: itself);
            an object standing on a table is reached through the table's zone.
    """

    def __init__(self, grid: FloorGrid, centers: dict[int, np.ndarray], nodes, config: RouteConfig | None = None,
                 zone_ids: dict[int, tuple[int, ...]] | None = None):
        self.grid = grid
        self.config = config or grid.config
        self.centers = {k: np.asarray(v, float)[:2] for k, v in centers.items()}
        self.nodes = tuple(nodes)
        self.zone_ids = dict(zone_ids or {})
        self._clear: dict[tuple[int, int], bool] = {}

    def leg_ok(self, u: int, v: int) -> bool:
        """Leg u -> v is long enough and crosses free floor only (cached, symmetric)."""
        key = (min(u, v), max(u, v))
        if key not in self._clear:
            p, q = self.centers[u], self.centers[v]
            ends = self.zone_ids.get(u, (u,)) + self.zone_ids.get(v, (v,))
            self._clear[key] = bool(np.linalg.norm(q - p) >= self.config.min_leg_m
                                    and self.grid.segment_clear(p, q, ends))
        return self._clear[key]

    def plan(self, start_id: int, facing_id: int, target_id: int, n_turns: int, first_turn: bool = False,
             back_to: bool = False) -> Route | None:
        """The shortest route with exactly ``n_turns`` waypoints that meets every rule, or None.

        ``first_turn``: W1 must need a clear turn from the start view (:func:`turn_ok`) instead of being
        straight ahead (|angle| < ``max_first_leg_deg``). ``back_to``: the start view faces away from
        the facing object.
        """
        cfg, cen = self.config, self.centers
        start = cen[start_id]
        facing = (start - cen[facing_id]) if back_to else (cen[facing_id] - start)
        if np.linalg.norm(facing) < 1e-6 or target_id == start_id:
            return None
        best: list = [np.inf, None]

        def dfs(path: list[int], length: float, headings: list[np.ndarray]) -> None:
            last = path[-1]
            if len(path) == n_turns:  # final leg to the target
                if not self.leg_ok(last, target_id):
                    return
                leg = cen[target_id] - cen[last]
                ang = signed_angle_deg(headings[-1], leg)
                if not turn_ok(ang, cfg):
                    return
                total = length + float(np.linalg.norm(leg))
                if total < best[0]:
                    best[0], best[1] = total, (list(path), headings + [leg])
                return
            for w in self.nodes:
                if w in path or w in (start_id, target_id):
                    continue
                leg = cen[w] - cen[last]
                new_len = length + float(np.linalg.norm(leg))
                if new_len + float(np.linalg.norm(cen[target_id] - cen[w])) >= best[0]:
                    continue
                if not turn_ok(signed_angle_deg(headings[-1], leg), cfg) or not self.leg_ok(last, w):
                    continue
                dfs(path + [w], new_len, headings + [leg])

        for w1 in self.nodes:
            if w1 in (start_id, target_id):
                continue
            first = view_angle_deg(start, facing, cen[w1])
            ahead = abs(first) < cfg.max_first_leg_deg
            if (not turn_ok(first, cfg) if first_turn else not ahead) or not self.leg_ok(start_id, w1):
                continue
            leg = cen[w1] - start
            dfs([w1], float(np.linalg.norm(leg)), [leg])
        if best[1] is None:
            return None
        path, headings = best[1]
        if best[0] > cfg.detour_factor * self.grid.geodesic(start_id, target_id) + cfg.detour_slack_m:
            return None
        angles = tuple(signed_angle_deg(headings[i], headings[i + 1]) for i in range(len(headings) - 1))
        first = view_angle_deg(start, facing, cen[path[0]])
        return Route(
            start_id=start_id, facing_id=facing_id, waypoint_ids=tuple(path), target_id=target_id,
            turns=tuple(classify_turn(a) for a in angles), turn_angles_deg=angles,
            first_angle_deg=first, length_m=float(best[0]),
            first_turn=classify_turn(first) if first_turn else "", back_to=back_to,
        )
