"""The memory builder: a frame stream in, a :class:`~spatialmem.memory.scene.SceneMemory` out, at bounded cost.

Per :meth:`MemoryBuilder.step`:

1. the geometry backend gives the frame a pose and metric depth, the instance backend its 2D
   detections (both built from the registry by name); a geometry backend that needs the stream
   (``process_stream``, e.g. ``sfm``) runs ahead of the builder in :func:`build_memory`, which then
   hands :meth:`MemoryBuilder.add_batch` frames that already carry pose and depth, and calls its
   ``finalize`` on the snapshot (:meth:`MemoryBuilder.finalize`);
2. detections are lifted to :class:`~spatialmem.types.Observation3D` (:mod:`.lift`);
3. observations are associated with the fused instances near them by 3D overlap + category
   (+ feature similarity) and fused into them *immediately*, or start new instances
   (:mod:`.associate`); source instance ids are never used;
4. the frame (with its raw observations and the instance ids they were fused into) enters the
   :class:`~.working.WorkingMemory`, a buffer of the last W frames; the frame that leaves the window
   is consolidated into the bounded episodic stores (:class:`~.episodic.EpisodicMemory`, which also
   holds the fused instances): offered to the keyframe store (kept downsampled, or its image dropped);
5. scene-level evidence is updated: camera track, scene voxel cloud, structure height histogram,
   free-space grid for the room;
6. every ``maintenance_every`` frames, instances touched since the last pass are checked for
   duplicates (merged) and denoised.

Every step touches only the current frame, the W-frame window, the instances near what is in view
and fixed-size summaries, so the per-frame cost does not grow with the number of frames seen.
:meth:`MemoryBuilder.snapshot` can be called at any time (mid-stream) and returns an immutable memory.
"""

from __future__ import annotations

import copy
import dataclasses
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spatialmem.errors import InputError
from spatialmem.geometry.floor import (
    FloorEstimate,
    FloorEstimator,
    FreeSpaceGrid,
    room_polygon,
    snap_box_vertically,
    snap_thin_box_to_wall,
)
from spatialmem.geometry.projection import resample_nearest
from spatialmem.memory.associate import (
    AssociationConfig,
    SpatialHash,
    denoise,
    find_absorbed,
    find_duplicates,
    match_observations,
    subsumed_by,
)
from spatialmem.memory.episodic import CameraTrack, EpisodicMemory, KeyframeStore, VoxelCloud, downsample_rgb
from spatialmem.memory.instance_state import InstanceState
from spatialmem.memory.lift import FrameCloud, LiftConfig, fit_box_fast, fit_box_surface, lift_detections
from spatialmem.memory.robust import fit_box_trimmed, is_exact, robust_config
from spatialmem.memory.scene import CameraRecord, Keyframe, ObjectInstance, Room, SceneMemory
from spatialmem.memory.support import complete_down_to_floor, complete_hidden_depth, complete_up_to_ceiling
from spatialmem.memory.thin import THIN_OBJECTS, fit_to_wall
from spatialmem.memory.working import FrameRecord, WorkingMemory
from spatialmem.perception.base import GeometryConfig, InstancesConfig, build_geometry, build_instances
from spatialmem.perception.hub import library_versions
from spatialmem.types import VISIBLE_MASK_FRACTION, Frame, Intrinsics

BUILDER_VERSION = 1


@dataclass(frozen=True)
class BuilderConfig:
    """Settings of the memory builder (defaults are tuned for 640x480 RGB-D at 10-30 fps).

    Attributes:
        window: working-memory size W (frames).
        keyframes: episodic keyframe capacity K.
        geometry, instances: which geometry and instance backends to build, with their options
            (:class:`~spatialmem.perception.base.GeometryConfig`, :class:`~spatialmem.perception.base.InstancesConfig`;
            ``instances.min_pixels``: detections with smaller masks are ignored).
        sighting_min_fraction: an observation counts as a *sighting* (sets ``first_seen_s``) only when its
            mask covers at least this fraction of the image (``Observation3D.mask_fraction``, measured at the
            mask's own resolution); default ``types.VISIBLE_MASK_FRACTION`` (500 px at 640x480), the visibility
            rule of the synthetic benchmark (docs/formats.md); smaller slivers at the image border still add points.
        lift: how detections are lifted (pixel stride, voxel size, outlier filters).
        association: association / merge / denoise thresholds.
        instance_voxel_m: initial voxel size of an instance's fused points.
        instance_max_voxels: voxel cap per instance (the voxel size doubles beyond it).
        maintenance_every: frames between duplicate-merge + denoise passes.
        min_observations, min_instance_points: instances below these are left out of snapshots.
        min_voxel_hits: a snapshot keeps only the fused points whose coarse voxel (``association.assoc_voxel_m``)
            at least this many observations reached (:meth:`~.instance_state.InstanceState.supported`: smeared
            depth, fused false positives and stray points are seen once; 1 = all, right for exact perception).
        box_trim_fraction: fraction of the (voxel-count weighted) fused points ignored at each end of each box
            axis (:func:`~.robust.fit_box_trimmed`; 0 = exact extents, best for exact depth).
        robust: ``"auto"`` (default): the settings of :data:`~.robust.ROBUST_GEOMETRY` /
            :data:`~.robust.ROBUST_INSTANCES` replace the defaults when the geometry / instance backend is
            estimated rather than exact (its ``exact`` attribute); ``"on"`` / ``"off"``: always / never
            (:func:`~.robust.robust_config`; settings changed from their defaults here are kept).
        box_fit: ``"surface"`` (yaw by the closeness of points to the box sides, robust for objects seen
            on two faces only; :func:`~.lift.fit_box_surface`) or ``"min_area"`` (minimum-footprint box,
            :func:`~spatialmem.geometry.boxes.fit_gravity_aligned`).
        snap_thin_to_walls: complete thin boxes against the wall they hang on (their backs are never seen):
            categories of :data:`~spatialmem.memory.thin.THIN_OBJECTS` (doors, windows, pictures ...) are
            re-fitted parallel to the room outline's wall with a minimum thickness
            (:func:`~spatialmem.memory.thin.fit_to_wall`); other boxes <= 12 cm thick are extended back to
            wall cells (:func:`~spatialmem.geometry.floor.snap_thin_box_to_wall`).
        snap_vertical: extend boxes ending within 5 cm above the floor down to it, and within 10 cm below
            the ceiling up to it (:func:`~spatialmem.geometry.floor.snap_box_vertically`); also complete boxes
            whose lower part was hidden (nothing observed under them) down to the floor, boxes hanging above
            every camera up to the ceiling, and implausibly thin slabs of sized categories seen from one side
            only back to their typical depth, away from the cameras (:mod:`~spatialmem.memory.support`).
        scene_voxel_m, scene_point_budget: scene point-cloud voxel size and voxel budget.
        scene_stride: every n-th sample of the lift grid (both directions) goes into the scene cloud.
        room_cell_m: free-space grid cell size for the room extent.
        room_rays: carving rays per frame (image columns sampled).
        max_cameras: camera-track cap (see :class:`~.episodic.CameraTrack`).
        keyframe_width: stored keyframes are downsampled to at most this width (pixels).
    """

    window: int = 8
    keyframes: int = 32
    geometry: GeometryConfig = field(default_factory=GeometryConfig)
    instances: InstancesConfig = field(default_factory=InstancesConfig)
    sighting_min_fraction: float = VISIBLE_MASK_FRACTION
    lift: LiftConfig = LiftConfig()
    association: AssociationConfig = AssociationConfig()
    instance_voxel_m: float = 0.02
    instance_max_voxels: int = 12_000
    maintenance_every: int = 15
    min_observations: int = 2
    min_instance_points: int = 20
    min_voxel_hits: int = 1
    box_trim_fraction: float = 0.0
    robust: str = "auto"
    box_fit: str = "surface"
    snap_thin_to_walls: bool = True
    snap_vertical: bool = True
    scene_voxel_m: float = 0.05
    scene_point_budget: int = 250_000
    scene_stride: int = 4
    room_cell_m: float = 0.025
    room_rays: int = 80
    max_cameras: int = 10_000
    keyframe_width: int = 320

    def __post_init__(self) -> None:
        for role, value, cls in (("geometry", self.geometry, GeometryConfig),
                                 ("instances", self.instances, InstancesConfig)):
            if not isinstance(value, cls):
                raise TypeError(f"BuilderConfig.{role} is a {cls.__name__}, not {type(value).__name__}; "
                                f"write {role}={cls.__name__}({value!r})")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class MemoryBuilder:
    """Streaming builder of a scene memory: call :meth:`step` per frame, :meth:`snapshot` any time."""

    def __init__(self, config: BuilderConfig | None = None, scene_id: str = "scene",
                 metadata: dict[str, Any] | None = None) -> None:
        cfg = config or BuilderConfig()
        self.scene_id = scene_id
        self.metadata = dict(metadata or {})
        self.geometry = build_geometry(cfg.geometry)
        self.detector = build_instances(cfg.instances)
        for backend in (self.geometry, self.detector):  # optional hook: simulated backends seed by scene
            bind = getattr(backend, "bind_scene", None)
            if bind is not None:
                bind(scene_id)
        #: the settings in force (robust ones for estimated perception) and which robust sets were applied
        cfg, self.robust = robust_config(cfg, is_exact(self.geometry), is_exact(self.detector),
                                          tuple(getattr(self.geometry, "robust_exempt", ())))
        self.config = cfg
        self.working = WorkingMemory(cfg.window)
        self.episodic = EpisodicMemory(cfg.keyframes, cfg.keyframe_width, cfg.scene_voxel_m, cfg.scene_point_budget,
                                       cfg.max_cameras, cfg.association.hash_cell_m)
        self.floor = FloorEstimator()
        self.free = FreeSpaceGrid(cfg.room_cell_m)
        self.n_frames = 0
        self.n_merged = 0
        self._next_id = 1
        self._touched: set[int] = set()
        self._intrinsics: Intrinsics | None = None
        self._libraries = library_versions()

    # ------------------------------------------------------------------ the episodic stores
    @property
    def instances(self) -> dict[int, InstanceState]:
        """Fused instances by id (held by :attr:`episodic`)."""
        return self.episodic.instances

    @property
    def index(self) -> SpatialHash:
        return self.episodic.index

    @property
    def keyframes(self) -> KeyframeStore:
        return self.episodic.keyframes

    @property
    def cloud(self) -> VoxelCloud:
        return self.episodic.cloud

    @property
    def track(self) -> CameraTrack:
        return self.episodic.track

    # ------------------------------------------------------------------ streaming
    @property
    def n_instances(self) -> int:
        """Instances currently held (including ones a snapshot would still filter out)."""
        return len(self.instances)

    def step(self, frame: Frame) -> None:
        """Ingest one frame (see the module docstring for what happens)."""
        self.step_batch([frame])

    def step_batch(self, frames: list[Frame]) -> None:
        """Ingest several frames in order; backends with ``process_batch`` / ``detect_batch`` see them at once."""
        geo = getattr(self.geometry, "process_batch", None)
        self.add_batch(list(geo(frames)) if geo is not None else [self.geometry.process(f) for f in frames])

    def add_batch(self, frames: list[Frame]) -> None:
        """Ingest frames that already carry pose and depth (from a streaming geometry backend's
        ``process_stream``, such as ``sfm``, which needs many frames before it can place one)."""
        det = getattr(self.detector, "detect_batch", None)
        dets = list(det(frames)) if det is not None else [self.detector.detect(f) for f in frames]
        for frame, detections in zip(frames, dets, strict=True):
            self._integrate(frame, detections)

    def finalize(self, memory: SceneMemory) -> SceneMemory:
        """The geometry backend's post-build step (``sfm``: metric scale refinement + statistics), if any."""
        fin = getattr(self.geometry, "finalize", None)
        return memory if fin is None else fin(memory)

    @property
    def batch_size(self) -> int:
        """Frames the backends like to receive at once (their ``batch_size``, 1 when they have none)."""
        return max(int(getattr(self.geometry, "batch_size", 1)), int(getattr(self.detector, "batch_size", 1)))

    def perception(self) -> dict[str, Any]:
        """Provenance of the perception: backend names, options, models and revisions, library versions."""
        cfg = self.config
        out: dict[str, Any] = {}
        for role, chosen, backend in (("geometry", cfg.geometry, self.geometry),
                                      ("instances", cfg.instances, self.detector)):
            entry = {"backend": chosen.name, "options": _jsonable(chosen.options)}
            prov = getattr(backend, "provenance", None)
            if prov is not None:
                entry.update(_jsonable(prov()))
            out[role] = entry
        out["libraries"] = self._libraries
        return out

    def _integrate(self, frame: Frame, detections: list) -> None:
        cfg = self.config
        if frame.world_from_camera is None or frame.depth_m is None:
            raise InputError(f"frame {frame.index}: the {cfg.geometry.name!r} geometry backend gave no "
                             f"{'pose' if frame.world_from_camera is None else 'depth'}; choose another --geometry")
        observations, cloud = lift_detections(frame, detections, cfg.lift)
        matches = match_observations(observations, self.instances, self.index, cfg.association)
        ids: list[int] = []
        visible: dict[int, int] = {}
        for ob, iid in zip(observations, matches, strict=True):
            if iid is None:
                iid = self._next_id
                self._next_id += 1
                self.instances[iid] = InstanceState(iid, ob.category, cfg.instance_voxel_m, cfg.instance_max_voxels,
                                                    cfg.association.assoc_voxel_m)
            inst = self.instances[iid]
            inst.add_points(ob.points_world)
            inst.observe(frame.index, frame.timestamp_s, ob.feature,
                         sighted=ob.mask_fraction >= cfg.sighting_min_fraction, category=ob.category)
            self.index.update(iid, *inst.aabb())
            self._touched.add(iid)
            ids.append(iid)
            visible[iid] = visible.get(iid, 0) + ob.pixel_count
        self._intrinsics = frame.intrinsics
        record = FrameRecord(frame.index, frame.timestamp_s, frame.world_from_camera, self._intrinsics, frame.rgb,
                             tuple(observations), ids, visible)
        evicted = self.working.push(record)
        if evicted is not None:
            self.episodic.consolidate(evicted)
        self._scene_update(frame, cloud)
        self.n_frames += 1
        if self.n_frames % cfg.maintenance_every == 0:
            self._maintain()

    def _scene_update(self, frame: Frame, cloud: FrameCloud) -> None:
        cfg = self.config
        T = frame.world_from_camera
        protected = {e.record.frame_index for e in self.keyframes.entries}
        self.track.add(frame.index, frame.timestamp_s, T, protected, self._intrinsics)
        self.floor.add_camera(float(T[2, 3]))
        # scene point cloud (everything with depth), coloured from the rgb image
        s = cfg.scene_stride
        sub_valid = cloud.valid[::s, ::s]
        if sub_valid.any():
            pts = cloud.points_world[::s, ::s][sub_valid]
            h, w = frame.rgb.shape[:2]
            rows, cols = cloud.rows[::s], cloud.cols[::s]
            dw, dh = cloud.depth_size
            if (w, h) == (dw, dh):
                col = frame.rgb[np.ix_(rows, cols)]
            else:
                col = resample_nearest(frame.rgb, rows, cols, (dw, dh))
            self.cloud.add(pts, col[sub_valid])
        # structure evidence: heights, free-space carving from the camera to each column's farthest point
        if sub_valid.any():
            self.free.mark_heights(cloud.points_world[::s, ::s][sub_valid & cloud.claimed[::s, ::s]], objects=True)
        struct = cloud.structure_mask()
        if not struct.any():
            return
        self.free.mark_heights(cloud.points_world[::2, ::2][struct[::2, ::2]])
        self.floor.add(cloud.points_world[::2, ::2][struct[::2, ::2]])
        ncols = struct.shape[1]
        step = max(1, ncols // max(1, cfg.room_rays))
        first = self.n_frames % step  # rotate the sampled columns from frame to frame
        sub = struct[:, first::step]
        xy = cloud.points_world[:, first::step, :2]
        cam = np.asarray(T[:2, 3], np.float64)
        d2 = np.where(sub, ((xy - cam.astype(np.float32)) ** 2).sum(axis=-1), -1.0)
        far = np.argmax(d2, axis=0)
        has = sub.any(axis=0)
        ends = xy[far[has], np.nonzero(has)[0]]
        self.free.carve(cam, ends)

    def _maintain(self) -> None:
        """Merge duplicates among recently touched instances, then denoise them."""
        touched, self._touched = self._touched, set()
        touched &= set(self.instances)
        for keep, drop in find_duplicates(touched, self.instances, self.index, self.config.association):
            self._merge(keep, drop)
            touched.discard(drop)
        for keep, drop in find_absorbed(touched, self.instances, self.index, self.config.association):
            self._merge(keep, drop)
            touched.discard(drop)
            touched.add(keep)
        for iid in sorted(touched):
            inst = self.instances.get(iid)
            if inst is not None and denoise(inst, self.config.association):
                self.index.update(iid, *inst.aabb())

    def _merge(self, keep: int, drop: int) -> None:
        self.episodic.merge(keep, drop)
        self.working.remap(drop, keep)
        self.n_merged += 1

    # ------------------------------------------------------------------ snapshot
    def snapshot(self) -> SceneMemory:
        """An immutable :class:`SceneMemory` of everything ingested so far (safe to call mid-stream).

        Instances touched since the last maintenance pass are checked for duplicates and fragments first
        (the pass is otherwise only run every ``maintenance_every`` frames, so the last frames' pieces of
        an object would stay apart).
        """
        cfg = self.config
        if self._touched:
            self._maintain()
        # keyframes: the episodic store, plus the frames still in the window offered to a copy of it
        store = self.keyframes.clone()
        for r in self.working.frames:
            rc = copy.copy(r)
            rc.visible = dict(r.visible)
            store.offer(rc)
        views: dict[int, list[tuple[int, int]]] = {}
        for r in store.records():
            for iid, px in r.visible.items():
                views.setdefault(iid, []).append((px, r.frame_index))
        grid, origin = self.free.cells()
        walls = self.free.walls(objects=False) if cfg.snap_thin_to_walls else np.zeros((0, 0), bool)
        floor = self.floor.estimate()
        floor_z = None if floor is None else floor.z
        floor_z, ceiling_z = (floor_z, self.floor.ceiling_z(floor_z, strict=False)) if cfg.snap_vertical \
            else (None, None)
        room = self.room(floor)
        polygon = None if room is None or len(room.floor_polygon) < 3 else room.floor_polygon
        top_camera_z = max((float(c.world_from_camera[2, 3]) for c in self.track.samples), default=None)
        scene_xyz = self.cloud.xyz if cfg.snap_vertical else np.zeros((0, 3), np.float32)
        fitted: list[tuple[InstanceState, np.ndarray, Any, bool]] = []  # (state, points, box, completable)
        for iid in sorted(self.instances):
            inst = self.instances[iid]
            if inst.n_observations < cfg.min_observations or len(inst) < cfg.min_instance_points \
                    or self._subsumed(inst):
                continue
            keep = inst.supported(cfg.min_voxel_hits)
            pts, counts = inst.points[keep], inst.counts[keep]
            box = self._fit_box(pts, counts)
            thin = cfg.snap_thin_to_walls and inst.category in THIN_OBJECTS  # door, window, picture ...
            if thin:
                box = snap_box_vertically(fit_to_wall(box, pts, inst.category, polygon, None if floor is None
                                                      else floor.z), floor_z, ceiling_z)
            else:
                box = self._snap(box, walls, origin, floor_z, ceiling_z)
            fitted.append((inst, pts, box, cfg.snap_vertical and not thin))
        if cfg.snap_vertical:  # amodal completion of slabs seen from one side only (a chair under a table)
            poses = {r.frame_index: (r.world_from_camera, r.full_intrinsics) for r in store.records()}
            poses.update((c.frame_index, (c.world_from_camera, c.intrinsics)) for c in self.track.samples)
            for k, (inst, pts, box, completable) in enumerate(fitted):
                if completable:
                    frames = set(inst.recent_frames) | {f for _, f in views.get(inst.id, [])}
                    cams = [poses[f] for f in sorted(frames) if f in poses]
                    fitted[k] = (inst, pts, complete_hidden_depth(box, inst.category, cams, scene_xyz, polygon),
                                 completable)
        boxes = [box for _, _, box, _ in fitted]
        instances = []
        for k, (inst, pts, box, completable) in enumerate(fitted):
            if completable:  # amodal completion: a hidden lower part, a top never in view
                box = complete_down_to_floor(box, scene_xyz, floor_z, boxes[:k] + boxes[k + 1:])
                box = complete_up_to_ceiling(box, ceiling_z, top_camera_z)
            iid = inst.id
            instances.append(ObjectInstance(
                id=iid, category=inst.category, points_world=pts, box=box,
                first_seen_s=inst.first_time_s, last_seen_s=inst.last_seen_s, n_observations=inst.n_observations,
                keyframe_indices=tuple(f for _, f in sorted(views.get(iid, []), key=lambda v: (-v[0], v[1]))[:5]),
                feature=None if inst.feature is None else inst.feature.astype(np.float32)))
        kept = {i.id for i in instances}
        keyframes = []
        for r in store.records():
            rgb, K = (r.rgb, r.intrinsics) if r.rgb.shape[1] <= cfg.keyframe_width else \
                downsample_rgb(r.rgb, r.intrinsics, cfg.keyframe_width)
            keyframes.append(Keyframe(r.frame_index, r.timestamp_s, np.array(r.world_from_camera), K, rgb,
                                      tuple(sorted(i for i in r.visible if i in kept))))
        cams = [CameraRecord(s.frame_index, s.timestamp_s, s.world_from_camera.copy(), s.intrinsics)
                for s in self.track.samples]
        have = {c.frame_index for c in cams}
        full_K = {r.frame_index: r.full_intrinsics for r in store.records()}
        extra = [CameraRecord(k.frame_index, k.timestamp_s, k.world_from_camera.copy(), full_K[k.frame_index])
                 for k in keyframes if k.frame_index not in have]
        if extra:  # a thinned track still has one camera per keyframe
            cams = sorted(cams + extra, key=lambda c: c.frame_index)
        metadata = dict(self.metadata)
        metadata.update({
            "builder_version": BUILDER_VERSION, "n_frames": self.n_frames, "geometry": cfg.geometry.name,
            "instances": cfg.instances.name, "window": cfg.window, "keyframe_capacity": cfg.keyframes,
            "n_instances_tracked": len(self.instances), "n_merged": self.n_merged,
            "camera_stride": self.track.stride, "scene_voxel_m": self.cloud.voxel_m,
            "perception": self.perception(), "robust": dict(self.robust),
            "floor": None if floor is None else {"z": floor.z, "area_m2": floor.area_m2, "method": floor.method,
                                                 "planes": [list(p) for p in floor.planes]},
        })
        return SceneMemory(scene_id=self.scene_id, instances=tuple(instances), cameras=tuple(cams),
                           keyframes=tuple(keyframes), room=room, points_world=self.cloud.xyz.copy(),
                           colors_rgb=self.cloud.rgb.copy(), metadata=metadata)

    def _subsumed(self, inst: InstanceState) -> bool:
        """Whether ``inst`` is a low-support copy of a neighbour that maintenance has not absorbed yet."""
        acfg = self.config.association
        if acfg.absorb_overlap <= 0:
            return False
        return any(subsumed_by(inst, self.instances[j], acfg) for j in self.index.query(*inst.aabb(acfg.assoc_voxel_m))
                   if j != inst.id and j in self.instances)

    def _snap(self, box, walls: np.ndarray, origin: np.ndarray, floor_z: float | None, ceiling_z: float | None):
        box = snap_thin_box_to_wall(box, walls, origin, self.free.cell_m)
        return snap_box_vertically(box, floor_z, ceiling_z)

    def _fit_box(self, pts: np.ndarray, counts: np.ndarray):
        fit = fit_box_surface if self.config.box_fit == "surface" else fit_box_fast
        return fit_box_trimmed(pts, counts, self.config.box_trim_fraction, fit)

    def room(self, floor: FloorEstimate | None = None) -> Room | None:
        """Floor height, floor polygon and area from the structure evidence so far (None before any).

        ``floor``: the floor estimate when the caller already has it (default: estimated now).
        """
        floor = floor if floor is not None else self.floor.estimate()
        if floor is None:
            return None
        floor_z = floor.z
        grid, origin = self.free.cells()
        poly, area = room_polygon(grid, origin, self.free.cell_m, walls=self.free.walls())
        return Room(floor_z=floor_z, floor_polygon=poly, area_m2=float(area), ceiling_z=self.floor.ceiling_z(floor_z))


def build_memory(source: Iterable[Frame], config: BuilderConfig | None = None,
                 progress: Callable[[int, int, int], None] | None = None, prefetch_frames: int = 3) -> SceneMemory:
    """Ingest a whole source and return its memory.

    Args:
        source: a :class:`~spatialmem.sources.FrameSource` (or any iterable of frames).
        config: builder settings.
        progress: called after each frame as ``progress(k, n_frames, n_instances)`` with ``k`` the 0-based
            count of frames done so far minus one (``k + 1`` frames done), ``n_frames`` = ``len(source)``
            when known (else ``k + 1``) and the number of instances tracked.
        prefetch_frames: frames decoded ahead by a background thread (0 = no thread).
    """
    scene_id = str(getattr(source, "scene_name", "scene"))
    meta: dict[str, Any] = {"source": str(getattr(source, "path", "")), "source_kind": type(source).__name__}
    meta.update(getattr(source, "metadata", None) or {})
    b = MemoryBuilder(config, scene_id=scene_id, metadata=meta)
    try:
        total = len(source)  # type: ignore[arg-type]
    except TypeError:
        total = None
    batch: list[Frame] = []
    done = 0

    stream = getattr(b.geometry, "process_stream", None)  # geometry over the whole stream (sfm), or per batch
    frames = stream(prefetch(source, prefetch_frames)) if stream is not None else prefetch(source, prefetch_frames)

    def flush() -> None:
        nonlocal done
        (b.add_batch if stream is not None else b.step_batch)(batch)
        for _ in batch:
            if progress is not None:
                progress(done, total if total is not None else done + 1, b.n_instances)
            done += 1
        batch.clear()

    for frame in frames:
        batch.append(frame)
        if len(batch) >= b.batch_size:
            flush()
    if batch:
        flush()
    return b.finalize(b.snapshot())


def _jsonable(value: Any) -> Any:
    """``value`` with everything JSON cannot hold replaced by its type name (for provenance metadata)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return f"<{type(value).__name__}>"


def prefetch(frames: Iterable[Frame], depth: int = 3) -> Iterator[Frame]:
    """Iterate ``frames`` with a background thread decoding up to ``depth`` frames ahead.

    Image decoding (PIL, PyAV) releases the GIL, so reading overlaps with the builder's work. Errors
    raised by the source are re-raised in the caller's thread; ``depth <= 0`` iterates directly.
    """
    if depth <= 0:
        yield from frames
        return
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def run() -> None:
        try:
            for f in frames:
                while not stop.is_set():
                    try:
                        q.put(f, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(done)
        except BaseException as exc:  # handed to the consumer
            q.put(exc)

    t = threading.Thread(target=run, name="spatialmem-prefetch", daemon=True)
    t.start()
    try:
        while True:
            item = q.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while t.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                pass
            t.join(timeout=0.05)
