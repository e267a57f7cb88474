"""Episodic memory: the bounded long-term stores that frames leaving the working window consolidate into.

:class:`EpisodicMemory` groups them; :class:`~spatialmem.memory.builder.MemoryBuilder` delegates to it:

* the fused instances (:class:`~spatialmem.memory.instance_state.InstanceState`, each voxel-capped)
  and their :class:`~spatialmem.memory.associate.SpatialHash`; observations are fused into them
  as soon as a frame is stepped;
* :class:`KeyframeStore`: at most K keyframes; frames leaving the working window are offered to it
  (consolidation: kept downsampled, or their image dropped) and the most redundant view is dropped
  when it is full;
* :class:`VoxelCloud`: the scene point cloud as a sparse voxel grid with a voxel budget;
* :class:`CameraTrack`: the camera trajectory, thinned beyond a cap.

The room evidence (height histogram, free-space grid) is held by the builder. Nothing here grows
with the number of frames beyond the documented caps.
"""

from __future__ import annotations

import bisect
import copy
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from spatialmem.geometry.pointcloud import voxel_keys
from spatialmem.memory.associate import SpatialHash
from spatialmem.memory.instance_state import InstanceState
from spatialmem.memory.working import FrameRecord
from spatialmem.types import Intrinsics


@dataclass(eq=False)
class KeyframeEntry:
    """A stored keyframe with its descriptor (camera position, view direction, visible instances)."""

    record: FrameRecord
    position: np.ndarray
    direction: np.ndarray


def _content_sim(a: dict[int, int], b: dict[int, int]) -> float:
    """Weighted Jaccard similarity of two {instance id: pixel count} maps (1 when both are empty)."""
    if not a and not b:
        return 1.0
    keys = set(a) | set(b)
    num = sum(min(a.get(k, 0), b.get(k, 0)) for k in keys)
    den = sum(max(a.get(k, 0), b.get(k, 0)) for k in keys)
    return num / den if den else 0.0


class KeyframeStore:
    """At most ``capacity`` keyframes; when full, the most redundant one (new one included) is dropped.

    Similarity of two keyframes = 0.5 * view similarity (``exp(-distance / view_scale_m)`` times the
    cosine of the angle between view directions, clipped at 0) + 0.5 * content similarity (weighted
    Jaccard of visible-instance pixel counts). A keyframe's redundancy is its highest similarity to any
    other, minus 1 when it is the only keyframe showing some instance (so every instance keeps a view
    as long as there is room). Pairwise similarities are cached, so an offer costs K similarity
    evaluations plus O(K^2) array work.
    """

    def __init__(self, capacity: int = 32, view_scale_m: float = 1.0) -> None:
        if capacity < 1:
            raise ValueError(f"keyframe capacity must be >= 1, got {capacity}")
        self.capacity = int(capacity)
        self.view_scale_m = float(view_scale_m)
        self.entries: list[KeyframeEntry] = []
        self._sim = np.zeros((0, 0))  # pairwise similarities of ``entries``
        self.replacements = 0

    @staticmethod
    def entry(record: FrameRecord) -> KeyframeEntry:
        T = record.world_from_camera
        return KeyframeEntry(record, np.asarray(T[:3, 3], float), np.asarray(T[:3, 2], float))

    def similarity(self, a: KeyframeEntry, b: KeyframeEntry) -> float:
        view = float(np.exp(-np.linalg.norm(a.position - b.position) / self.view_scale_m)) * \
            max(0.0, float(np.dot(a.direction, b.direction)))
        return 0.5 * view + 0.5 * _content_sim(a.record.visible, b.record.visible)

    def offer(self, record: FrameRecord) -> bool:
        """Consider a frame as a keyframe; True when it was stored (O(K) similarities, O(K^2) array work)."""
        new = self.entry(record)
        n_old = len(self.entries)
        if self._sim.shape[0] != n_old:
            self._rebuild()
        row = np.array([self.similarity(e, new) for e in self.entries], dtype=np.float64)
        if n_old < self.capacity:
            self._append(new, row)
            return True
        n = n_old + 1
        sim = np.full((n, n), -np.inf)
        sim[:n_old, :n_old] = self._sim
        sim[n_old, :n_old] = sim[:n_old, n_old] = row
        red = sim.max(axis=1)
        cover: dict[int, int] = {}
        cand = self.entries + [new]
        for e in cand:
            for iid in e.record.visible:
                cover[iid] = cover.get(iid, 0) + 1
        for i, e in enumerate(cand):
            if any(cover[iid] == 1 for iid in e.record.visible):
                red[i] -= 1.0
        drop = int(np.argmax(red))  # ties: the earliest (older keyframes go first)
        if drop == n - 1:
            return False
        del self.entries[drop]
        keep = np.delete(np.arange(n_old), drop)
        self._sim = self._sim[np.ix_(keep, keep)]
        self._append(new, row[keep])
        self.replacements += 1
        return True

    def _append(self, new: KeyframeEntry, row: np.ndarray) -> None:
        n = len(self.entries)
        sim = np.full((n + 1, n + 1), -np.inf)
        sim[:n, :n] = self._sim
        sim[n, :n] = sim[:n, n] = row
        self._sim = sim
        self.entries.append(new)

    def _rebuild(self) -> None:
        n = len(self.entries)
        self._sim = np.full((n, n), -np.inf)
        for i in range(n):
            for j in range(i + 1, n):
                self._sim[i, j] = self._sim[j, i] = self.similarity(self.entries[i], self.entries[j])

    def remap(self, old: int, new: int) -> None:
        touched = False
        for e in self.entries:
            if old in e.record.visible:
                e.record.remap(old, new)
                touched = True
        if touched:
            self._rebuild()

    def clone(self) -> KeyframeStore:
        """An independent copy of the store (entries list and cache copied; records shared)."""
        c = copy.copy(self)
        c.entries = list(self.entries)
        c._sim = self._sim.copy()
        return c

    def records(self) -> list[FrameRecord]:
        """Stored keyframes ordered by frame index."""
        return sorted((e.record for e in self.entries), key=lambda r: r.frame_index)


class VoxelCloud:
    """Scene point cloud as a sparse voxel grid (first colour wins) holding at most ``budget`` voxels.

    When the budget is exceeded the voxel size doubles and the grid is re-binned (the cloud keeps
    covering the whole scene at a coarser resolution).
    """

    def __init__(self, voxel_m: float = 0.05, budget: int = 250_000) -> None:
        self.voxel_m, self.budget = float(voxel_m), int(budget)
        self.keys = np.zeros(0, np.int64)
        self.xyz = np.zeros((0, 3), np.float32)
        self.rgb = np.zeros((0, 3), np.uint8)

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, points: np.ndarray, colors: np.ndarray) -> None:
        """Add (N, 3) points with (N, 3) uint8 colours; voxels already occupied are left as they are."""
        if len(points) == 0:
            return
        k = voxel_keys(points, self.voxel_m)
        uk, first = np.unique(k, return_index=True)
        if len(self.keys):
            pos = np.searchsorted(self.keys, uk)
            new = self.keys[np.minimum(pos, len(self.keys) - 1)] != uk
            if not new.any():
                return
            pos, uk, first = pos[new], uk[new], first[new]
            self.keys = np.insert(self.keys, pos, uk)
            self.xyz = np.insert(self.xyz, pos, points[first].astype(np.float32), axis=0)
            self.rgb = np.insert(self.rgb, pos, colors[first].astype(np.uint8), axis=0)
        else:
            self.keys, self.xyz, self.rgb = uk, points[first].astype(np.float32), colors[first].astype(np.uint8)
        while len(self.keys) > self.budget:
            self.voxel_m *= 2.0
            k = voxel_keys(self.xyz, self.voxel_m)
            self.keys, first = np.unique(k, return_index=True)
            self.xyz, self.rgb = self.xyz[first], self.rgb[first]


@dataclass(frozen=True, eq=False)
class CameraSample:
    frame_index: int
    timestamp_s: float
    world_from_camera: np.ndarray
    intrinsics: Intrinsics


class CameraTrack:
    """The camera trajectory, every frame up to ``max_cameras``; beyond that, thinned.

    When the cap is reached every other stored camera is dropped (the first and the latest, and those
    whose frames are keyframes, are always kept), and from then on only every ``stride``-th frame is
    recorded (the stride doubles at each thinning). Typical videos (up to ``max_cameras`` frames) keep
    the full trajectory.
    """

    def __init__(self, max_cameras: int = 10_000) -> None:
        self.max_cameras = max(4, int(max_cameras))
        self.samples: list[CameraSample] = []
        self.stride = 1
        self._seen = 0
        self._indices: set[int] = set()

    def add(self, frame_index: int, timestamp_s: float, world_from_camera: np.ndarray, protected: set[int],
            intrinsics: Intrinsics) -> None:
        keep = self._seen % self.stride == 0
        self._seen += 1
        if not keep:
            return
        self.samples.append(CameraSample(frame_index, timestamp_s, np.array(world_from_camera, dtype=np.float64),
                                         intrinsics))
        self._indices.add(int(frame_index))
        if len(self.samples) > self.max_cameras:
            last = len(self.samples) - 1
            self.samples = [s for i, s in enumerate(self.samples)
                            if i % 2 == 0 or i == last or s.frame_index in protected]
            self._indices = {s.frame_index for s in self.samples}
            self.stride *= 2

    def ensure(self, record: FrameRecord) -> None:
        """Make sure a keyframe's camera is in the track."""
        if record.frame_index in self._indices:
            return
        self._indices.add(record.frame_index)
        bisect.insort(self.samples, CameraSample(record.frame_index, record.timestamp_s, record.world_from_camera,
                                                 record.full_intrinsics), key=lambda s: s.frame_index)


def downsample_rgb(rgb: np.ndarray, K: Intrinsics, max_width: int) -> tuple[np.ndarray, Intrinsics]:
    """``rgb`` reduced by an integer factor to at most ``max_width`` pixels wide, with matching intrinsics."""
    f = max(1, math.ceil(rgb.shape[1] / max_width))
    if f == 1:
        return rgb.copy(), K
    small = np.asarray(Image.fromarray(rgb).reduce(f))
    return small, K.scaled(small.shape[1], small.shape[0])


class EpisodicMemory:
    """The bounded long-term stores of a memory being built (see the module docstring).

    Args:
        keyframe_capacity: K, the keyframe store's capacity.
        keyframe_width: stored keyframes are downsampled to at most this width (pixels).
        scene_voxel_m, scene_point_budget: scene point-cloud voxel size and voxel budget.
        max_cameras: camera-track cap.
        hash_cell_m: cell size of the instances' spatial hash.
    """

    def __init__(self, keyframe_capacity: int = 32, keyframe_width: int = 320, scene_voxel_m: float = 0.05,
                 scene_point_budget: int = 250_000, max_cameras: int = 10_000, hash_cell_m: float = 1.0) -> None:
        self.keyframe_width = int(keyframe_width)
        self.instances: dict[int, InstanceState] = {}
        self.index = SpatialHash(hash_cell_m)
        self.keyframes = KeyframeStore(keyframe_capacity)
        self.cloud = VoxelCloud(scene_voxel_m, scene_point_budget)
        self.track = CameraTrack(max_cameras)

    def consolidate(self, record: FrameRecord) -> bool:
        """A frame leaves the working window: drop its raw observations and offer it as a keyframe.

        A kept keyframe's image is downsampled and its camera is kept in the track; otherwise its image
        is dropped. Returns whether it was kept.
        """
        record.observations = ()
        if self.keyframes.offer(record):
            record.rgb, record.intrinsics = downsample_rgb(record.rgb, record.intrinsics, self.keyframe_width)
            self.track.ensure(record)
            return True
        record.rgb = np.zeros((0, 0, 3), np.uint8)
        return False

    def merge(self, keep: int, drop: int) -> None:
        """Fuse instance ``drop`` into ``keep`` (duplicates) and rename it in the keyframes."""
        a, b = self.instances[keep], self.instances.pop(drop)
        a.absorb(b)
        self.index.remove(drop)
        self.index.update(keep, *a.aabb())
        self.keyframes.remap(drop, keep)
