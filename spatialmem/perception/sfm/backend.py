"""The ``sfm`` geometry backend: camera poses and sparse metric depth from plain RGB, with pycolmap.

The stream is cut into *chunks* of ``chunk_keyframes`` new keyframes (:mod:`.keyframes` picks them by
image motion and sharpness). Each chunk is reconstructed on its own (:func:`.colmap_run.reconstruct`)
together with the last ``overlap_keyframes`` registered keyframes of the previous chunk, and aligned to
the world through those shared cameras (:func:`.poses.align_poses`), so time and memory per frame stay
bounded however long the video is. The first chunk fixes the world: gravity from
:func:`spatialmem.geometry.gravity.estimate_up` (z up), the floor at z = 0, and metric scale from the
hand-held camera-height prior (:mod:`spatialmem.perception.scale`). When a chunk shares no registered
camera with the previous one (it failed to register, or its model broke), a new *segment* starts: it is
re-anchored at the last known pose with its own gravity, floor and height scale.

Frames come out in order with ``world_from_camera`` (keyframes: from the model; other frames:
interpolated between the registered keyframes around them) and a *sparse* ``depth_m``: the triangulated
points the frame sees (:func:`.poses.sparse_depth`), so the lift stage takes, for each instance mask,
the 3D points whose projections fall inside it. Frames with no registered keyframe on both sides keep
the nearest registered pose and get no depth. After the memory is built, :meth:`SfmGeometry.finalize`
refines the scale with object-size priors and records the estimate in the memory's metadata.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from spatialmem.errors import InputError
from spatialmem.geometry.floor import FloorEstimator
from spatialmem.geometry.gravity import UpEstimate, estimate_up, up_from_cameras
from spatialmem.perception.base import GeometryConfig
from spatialmem.perception.scale import CAMERA_HEIGHT_PRIOR, from_camera_height, from_object_heights, fuse
from spatialmem.perception.sfm.colmap_run import ColmapOptions, SparseModel, reconstruct
from spatialmem.perception.sfm.keyframes import KeyframeConfig, KeyframeSelector
from spatialmem.perception.sfm.poses import Sim3, align_poses, densify_depth, interpolate_pose, sparse_depth
from spatialmem.types import Frame, Intrinsics


@dataclass(frozen=True)
class SfmOptions:
    """Options of the ``sfm`` backend (``GeometryConfig.options`` keys of the same names).

    Attributes:
        known_intrinsics: keep the source's intrinsics fixed (True for scene folders, ``--intrinsics``,
            ``--fov``, or video metadata); False self-calibrates the focal length.
        chunk_keyframes: new keyframes per chunk; overlap_keyframes: registered keyframes shared with the next.
        min_registered: a chunk whose largest model registers less than this fraction of its keyframes
            counts as failed for the report (its registered part is still used).
        densify: hand on depth interpolated between the sparse points (:func:`.poses.densify_depth`, at half
            resolution, never across depth edges) instead of the sparse points alone; with False an instance
            gets exactly the triangulated points whose projections fall inside its mask.
        depth: options of the learned ``depth`` backend (e.g. ``{"model_dir": "..."}``; ``{}`` for its defaults)
            to predict dense depth per frame, aligned to the frame's sparse SfM depth with a robust scale and
            shift (:mod:`spatialmem.perception.depth_align`); frames it cannot align (too few anchors) fall
            back to ``densify``. None (default): no learned depth.
        keyframes: keyframe selection; colmap: reconstruction settings.
    """

    known_intrinsics: bool = True
    chunk_keyframes: int = 60
    overlap_keyframes: int = 6
    min_registered: float = 0.5
    densify: bool = True
    depth: dict[str, Any] | None = None
    keyframes: KeyframeConfig = KeyframeConfig()
    colmap: ColmapOptions = ColmapOptions()

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> SfmOptions:
        """Build from a flat dict; ``keyframes`` / ``colmap`` may be dicts of their fields."""
        kw = dict(options)
        unknown = set(kw) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise InputError(f"unknown sfm option(s) {sorted(unknown)}; known: "
                             f"{[f.name for f in dataclasses.fields(cls)]}")
        for key, sub in (("keyframes", KeyframeConfig), ("colmap", ColmapOptions)):
            if key in kw and not isinstance(kw[key], sub):
                if not isinstance(kw[key], dict):
                    raise InputError(f"sfm option {key} must be a JSON object of {sub.__name__} fields, "
                                     f"e.g. {key}={{...}}; got {kw[key]!r}")
                try:
                    kw[key] = sub(**kw[key])
                except TypeError as exc:
                    raise InputError(f"sfm option {key}: {exc}; its fields are "
                                     f"{[f.name for f in dataclasses.fields(sub)]}") from None
        if kw.get("depth") is not None and not isinstance(kw["depth"], dict):
            raise InputError('sfm option depth must be a JSON object of the learned depth backend\'s options, e.g. '
                             f'depth={{"model_dir": "/path/to/model"}} ({{}} for its defaults); got {kw["depth"]!r}')
        return cls(**kw)


@dataclass
class _Key:
    """A keyframe of the current chunk: stream position, frame, and (once known) its world pose and points."""

    position: int
    frame: Frame
    pose: np.ndarray | None = None
    points: np.ndarray | None = None  # (M, 3) world points it sees
    uv: np.ndarray | None = None  # (M, 2) where it sees them


class SfmGeometry:
    """Structure-from-motion geometry; use :meth:`process_stream` (the builder does)."""

    #: robust builder settings that do not suit triangulated depth (memory/robust.py): each point is verified
    #: across views already and lands in few frames, so gating voxels by hit count would remove real surface
    robust_exempt = ("min_voxel_hits",)

    def __init__(self, config: GeometryConfig | None = None) -> None:
        self.config = config or GeometryConfig(name="sfm")
        self.options = SfmOptions.from_options(self.config.options)
        self.stats: dict[str, Any] = {"n_frames": 0, "n_keyframes": 0, "n_registered_keyframes": 0, "chunks": [],
                                      "n_segments": 0, "frames_without_pose": 0, "n_localized_keyframes": 0,
                                      "timings_s": {}}
        self._world: Sim3 | None = None  # model -> world of the current chunk
        self._height_scale: tuple[float, float] | None = None  # (log scale, log sd) of the first segment
        self._gravity: dict[str, Any] = {}
        self._intrinsics: Intrinsics | None = None
        self._depth = None
        if self.options.depth is not None:
            from spatialmem.perception.depth_learned import LearnedDepthGeometry

            self._depth = LearnedDepthGeometry(GeometryConfig(name="depth", options=dict(self.options.depth)))

    # ------------------------------------------------------------------ protocol
    def process(self, frame: Frame) -> Frame:
        """Single frames cannot be reconstructed: SfM needs the stream (see :meth:`process_stream`)."""
        raise InputError("the 'sfm' geometry backend reconstructs a whole frame stream, not single frames; "
                         "build memories with spatialmem.memory.builder.build_memory or 'spatialmem ingest'")

    def process_stream(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        """Frames in order with ``world_from_camera`` and sparse ``depth_m`` (see the module docstring)."""
        opts = self.options
        selector = KeyframeSelector(opts.keyframes)
        pending: list[tuple[int, Frame]] = []
        new_keys: list[int] = []
        carry: list[_Key] = []
        last_pose: np.ndarray | None = None
        pos = -1
        for pos, frame in enumerate(frames):
            pending.append((pos, frame))
            new_keys += selector.offer(pos, frame.rgb)
            if len(new_keys) >= opts.chunk_keyframes:
                out, carry, last_pose = self._chunk(pending, new_keys, carry, last_pose, final=False)
                done = {p for p, _ in out}
                pending = [(p, f) for p, f in pending if p not in done]
                new_keys = []
                yield from (f for _, f in out)
        if pos < 0:
            return
        new_keys += selector.flush()
        if pending and pending[-1][0] not in new_keys:
            new_keys.append(pending[-1][0])  # the last frame closes the track
        out, _, _ = self._chunk(pending, new_keys, carry, last_pose, final=True)
        yield from (f for _, f in out)

    # ------------------------------------------------------------------ one chunk
    def _chunk(self, pending: list[tuple[int, Frame]], new_keys: list[int], carry: list[_Key],
               last_pose: np.ndarray | None, final: bool) -> tuple[list[tuple[int, Frame]], list[_Key], np.ndarray]:
        by_pos = dict(pending)
        keys = carry + [_Key(p, by_pos[p]) for p in sorted(set(new_keys)) if p in by_pos]
        K = keys[0].frame.intrinsics
        if self._intrinsics is None or self.options.known_intrinsics:
            self._intrinsics = K
        t0 = time.perf_counter()
        model = reconstruct([k.frame.rgb for k in keys], K, self.options.known_intrinsics, self.options.colmap)
        self._time("sfm", time.perf_counter() - t0)
        if model is not None:
            for stage, dt in model.timings_s.items():
                self._time("sfm_" + stage, dt)
        if model is not None and not self.options.known_intrinsics:
            self._intrinsics = model.intrinsics  # self-calibrated: frames are handed on with this camera
        n_new = len(keys) - len(carry)
        registered_new = 0 if model is None else sum(1 for i in model.poses if i >= len(carry))
        first, last = keys[len(carry)].frame.index if n_new else None, keys[-1].frame.index
        self.stats["chunks"].append({"first_frame": first, "last_frame": last, "keyframes": n_new,
                                     "registered": registered_new,
                                     "failed": model is None or registered_new < self.options.min_registered * n_new})
        self.stats["n_keyframes"] += n_new
        self.stats["n_registered_keyframes"] += registered_new
        if model is not None:
            self.stats["n_localized_keyframes"] += sum(1 for i in model.localized if i >= len(carry))
        if model is not None and len(model.poses) >= 2:
            self._place(model, keys, carry, last_pose)
        elif self._world is None and final:
            raise InputError(
                f"structure from motion found no camera motion it could use in frames {first}-{last} "
                f"({n_new} keyframes, {registered_new} registered): too few features or no camera motion. "
                "Try a video that moves through the room (walk, do not only turn), with texture in view, "
                "or give known intrinsics with --intrinsics FILE / --fov DEG")
        cut = max(p for p in new_keys) if (new_keys and not final) else max(by_pos)
        out_pos = [p for p, _ in pending if p <= cut]
        out, last_pose = self._emit(keys, [(p, by_pos[p]) for p in out_pos], last_pose)
        registered = [k for k in keys if k.pose is not None and k.position <= cut]
        carry = [dataclasses.replace(k, frame=k.frame) for k in registered[-self.options.overlap_keyframes:]]
        return out, carry, last_pose

    def _place(self, model: SparseModel, keys: list[_Key], carry: list[_Key], last_pose: np.ndarray | None) -> None:
        """Set world poses and points of the chunk's registered keyframes (aligning or anchoring the model)."""
        shared = [i for i in range(len(carry)) if i in model.poses]
        sim = align_poses([model.poses[i] for i in shared], [carry[i].pose for i in shared]) \
            if len(shared) >= 2 else None
        if sim is None:
            sim = self._anchor(model, last_pose)
        self._world = sim
        pts_world = sim.points(model.points_xyz)
        for i, key in enumerate(keys):
            if i in model.poses and (i >= len(carry) or key.pose is None):
                key.pose = sim.pose(model.poses[i])
            if i in model.observations:
                uv, rows = model.observations[i]
                key.points, key.uv = pts_world[rows], uv

    def _anchor(self, model: SparseModel, last_pose: np.ndarray | None) -> Sim3:
        """A new segment: gravity up, floor at z = 0, camera-height scale; continue from ``last_pose``."""
        self.stats["n_segments"] += 1
        poses = [model.poses[i] for i in sorted(model.poses)]
        rough, floor_z, up, heights = _gravity_floor(model.points_xyz, poses)
        self._gravity = {"method": up.method, "confidence": round(float(up.confidence), 3), "weak": bool(up.weak)}
        est = from_camera_height(heights)
        if self._height_scale is None and est is not None:
            self._height_scale = est
        s = float(np.exp(est[0])) if est is not None else rough.scale
        # model -> z-up (rotation), floor to z = 0, metric by the camera-height estimate
        sim = Sim3(s, rough.rotation, np.array([0.0, 0.0, -floor_z * s / rough.scale]))
        first = sim.pose(poses[0])
        start = last_pose[:2, 3] if last_pose is not None else np.zeros(2)  # continue where the last segment ended
        return Sim3(sim.scale, sim.rotation, sim.translation + np.r_[start - first[:2, 3], 0.0])

    def _emit(self, keys: list[_Key], frames: list[tuple[int, Frame]], last_pose: np.ndarray | None
              ) -> tuple[list[tuple[int, Frame]], np.ndarray | None]:
        """Frames with poses (interpolated between registered keyframes) and sparse depth."""
        t0 = time.perf_counter()
        reg = [k for k in keys if k.pose is not None]
        reg_pos = np.array([k.position for k in reg], np.int64)
        by_pos = {k.position: k for k in reg}
        out = []
        refined = None if self.options.known_intrinsics else self._intrinsics
        for p, f in frames:
            if refined is not None:
                f = dataclasses.replace(f, intrinsics=refined.scaled(f.rgb.shape[1], f.rgb.shape[0]))
            K = f.intrinsics
            depth = None
            if p in by_pos:
                k = by_pos[p]
                pose = k.pose
                depth = sparse_depth(k.points, pose, K, uv=k.uv) if k.points is not None else None
            elif len(reg_pos) and reg_pos[0] < p < reg_pos[-1]:
                j = int(np.searchsorted(reg_pos, p))
                a, b = reg[j - 1], reg[j]
                pose = interpolate_pose(a.pose, b.pose, (p - a.position) / (b.position - a.position))
                pts = [k.points for k in (a, b) if k.points is not None]
                depth = sparse_depth(np.concatenate(pts), pose, K) if pts else None
            else:  # outside the registered keyframes: hold the nearest known pose, no depth
                near = reg[int(np.argmin(np.abs(reg_pos - p)))].pose if len(reg_pos) else last_pose
                if near is None:
                    raise InputError(f"frame {f.index}: structure from motion registered no camera before it; "
                                     "try a video with more texture and camera motion at its start")
                pose = near
                self.stats["frames_without_pose"] += 1
            last_pose = pose
            if depth is None:
                depth = np.zeros((K.height, K.width), np.float32)
            out.append((p, dataclasses.replace(f, world_from_camera=pose, depth_m=depth, depth_intrinsics=K)))
            self.stats["n_frames"] += 1
        aligned = self._learned_depth(out)
        if self.options.densify:
            for k, (p, f) in enumerate(out):
                if not aligned[k]:
                    depth = densify_depth(f.depth_m, labels=_labels(f))
                    DK = f.intrinsics.scaled(depth.shape[1], depth.shape[0])
                    out[k] = (p, dataclasses.replace(f, depth_m=depth, depth_intrinsics=DK))
        self._time("sparse_depth", time.perf_counter() - t0)
        return out, last_pose

    def _learned_depth(self, out: list[tuple[int, Frame]]) -> list[bool]:
        """Replace the sparse depth of ``out``'s frames (in place) by the learned prediction aligned to it, where
        the frame has enough anchors and the fit succeeds; returns which frames were replaced."""
        aligned = [False] * len(out)
        if self._depth is None:
            return aligned
        t0 = time.perf_counter()
        idx = [k for k, (_, f) in enumerate(out) if np.count_nonzero(f.depth_m) >= self._depth.min_anchors]
        if idx:
            dense = self._depth.process_batch([out[k][1] for k in idx])
            for k, d, fit in zip(idx, dense, self._depth.alignments[-len(idx):], strict=True):
                if fit is not None:
                    out[k] = (out[k][0], dataclasses.replace(d, depth_intrinsics=None))
                    aligned[k] = True
        self._time("learned_depth", time.perf_counter() - t0)
        return aligned

    def _time(self, stage: str, dt: float) -> None:
        self.stats["timings_s"][stage] = self.stats["timings_s"].get(stage, 0.0) + dt

    # ------------------------------------------------------------------ after the build
    def finalize(self, memory):
        """Refine the metric scale with object-size priors; record the estimate and the run's statistics.

        Returns the memory rescaled about the world origin (the floor stays at z = 0).
        """
        floor = memory.room.floor_z if memory.room is not None else 0.0
        cam_z = np.median([c.world_from_camera[2, 3] for c in memory.cameras]) if memory.cameras else np.inf
        objs = [(i.category, float(i.box.center[2] + i.box.size[2] / 2 - floor)) for i in memory.instances
                if i.box.center[2] + i.box.size[2] / 2 < cam_z and len(i.points_world) >= 40]
        obj = from_object_heights(objs)
        camera = None if self._height_scale is None else (0.0, self._height_scale[1])
        est = fuse(camera, obj)
        factor = 1.0 if est is None else est.scale
        if est is not None and self._height_scale is not None:
            base = float(np.exp(self._height_scale[0]))
            est = dataclasses.replace(est, scale=est.scale * base, camera_height_scale=base,
                                      object_scale=None if est.object_scale is None else est.object_scale * base)
        info = self.metadata()
        info["scale"] = None if est is None else est.to_dict()
        info["scale_correction"] = round(factor, 6)
        out = memory.scaled(factor) if abs(factor - 1.0) > 1e-9 else memory
        meta = dict(out.metadata)
        meta["sfm"] = info
        meta["metric_scale"] = info["scale"]
        if not meta.get("gravity"):
            meta["gravity"] = dict(self._gravity)
        return dataclasses.replace(out, metadata=meta)

    def metadata(self) -> dict[str, Any]:
        """Registration, chunk, gravity and timing statistics of the run so far (JSON-able)."""
        s = self.stats
        n_kf = max(s["n_keyframes"], 1)
        return {
            "n_frames": s["n_frames"], "n_keyframes": s["n_keyframes"],
            "n_registered_keyframes": s["n_registered_keyframes"],
            "n_localized_keyframes": s["n_localized_keyframes"],
            "registered_fraction": round(s["n_registered_keyframes"] / n_kf, 4),
            "n_chunks": len(s["chunks"]), "n_segments": s["n_segments"], "chunks": list(s["chunks"]),
            "frames_without_pose": s["frames_without_pose"], "gravity": dict(self._gravity),
            "known_intrinsics": self.options.known_intrinsics,
            "intrinsics": None if self._intrinsics is None else self._intrinsics.to_dict(),
            "timings_s": {k: round(v, 3) for k, v in s["timings_s"].items()},
            "learned_depth": None if self._depth is None else self._depth.provenance(),
        }


def _labels(frame: Frame) -> np.ndarray | None:
    """The frame's instance ids at the image's resolution (nearest), or None when it has no masks."""
    ids = frame.instance_ids
    if ids is None:
        return None
    H, W = frame.rgb.shape[:2]
    if ids.shape == (H, W):
        return ids
    rows = (np.arange(H) * ids.shape[0]) // H
    cols = (np.arange(W) * ids.shape[1]) // W
    return ids[np.ix_(rows, cols)]


def _gravity_floor(points: np.ndarray, poses: list[np.ndarray]) -> tuple[Sim3, float, UpEstimate, np.ndarray]:
    """Gravity and floor of a model in arbitrary units.

    The model is first brought to roughly metric units (camera height over the 5th percentile of the points
    below the cameras set to the prior's mean) so that the metric thresholds of
    :func:`~spatialmem.geometry.gravity.estimate_up` and :class:`~spatialmem.geometry.floor.FloorEstimator`
    apply. Returns (rough model -> z-up similarity, floor z in that frame, the up estimate, camera heights
    above the floor in model units).
    """
    cams = np.array([p[:3, 3] for p in poses])
    cam_up, _ = up_from_cameras(np.stack(poses))
    h_pts, h_cam = points @ cam_up, cams @ cam_up
    below = h_pts[h_pts < np.median(h_cam)]
    rough = float(np.median(h_cam) - (np.percentile(below, 5) if len(below) >= 10 else h_pts.min(initial=-1.0)))
    s0 = CAMERA_HEIGHT_PRIOR[0] / max(rough, 1e-9)
    scaled = [np.vstack([np.c_[p[:3, :3], s0 * p[:3, 3]], [0, 0, 0, 1]]) for p in poses]
    up = estimate_up(points * s0, np.stack(scaled), snap_deg=0.0)
    sim = Sim3(s0, np.asarray(up.rotation, np.float64), np.zeros(3))
    floor = FloorEstimator()
    floor.add(sim.points(points))
    z_cam = sim.points(cams)[:, 2]
    for z in z_cam:
        floor.add_camera(float(z))
    est = floor.estimate()
    fz = float(est.z) if est is not None else float(np.percentile(sim.points(points)[:, 2], 2))
    return sim, fz, up, (z_cam - fz) / s0
