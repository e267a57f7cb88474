"""``SceneMemory``: the immutable, queryable snapshot of everything known about one scene.

This is the hand-off from the memory builder (or the annotation importer, or the store) to the
query language. It holds only numpy arrays and plain values; it never changes once built.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from spatialmem.geometry.boxes import OrientedBox
from spatialmem.types import Intrinsics


@dataclass(frozen=True, eq=False)
class ObjectInstance:
    """One fused 3D object.

    Attributes:
        id: stable integer id within the memory (>= 1).
        category: canonical category name, lower case (``"trash bin"``).
        box: gravity-aligned oriented box (world, metres).
        points_world: (N, 3) float32 fused surface points (voxel-capped); may be empty (N = 0)
            for memories imported from box annotations.
        first_seen_s / last_seen_s: first and last time it was observed (None if unknown).
        n_observations: how many frame observations were fused into it.
        keyframe_indices: frame indices of its best views, best first.
        feature: optional (D,) float32 fused feature.
    """

    id: int
    category: str
    box: OrientedBox
    points_world: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    first_seen_s: float | None = None
    last_seen_s: float | None = None
    n_observations: int = 0
    keyframe_indices: tuple[int, ...] = ()
    feature: np.ndarray | None = None

    @property
    def center(self) -> np.ndarray:
        return self.box.center


@dataclass(frozen=True, eq=False)
class CameraRecord:
    """One camera of the trajectory: pose (world_from_camera 4x4) and intrinsics at a time."""

    frame_index: int
    timestamp_s: float
    world_from_camera: np.ndarray
    intrinsics: Intrinsics


@dataclass(frozen=True, eq=False)
class Keyframe:
    """A stored video frame (kept by the episodic memory for rendering and for ``keyframe(obj)``).

    Attributes:
        rgb: (H, W, 3) uint8, possibly downsampled; ``intrinsics`` matches its resolution.
        instance_ids: ids of the memory instances visible in it.
    """

    frame_index: int
    timestamp_s: float
    world_from_camera: np.ndarray
    intrinsics: Intrinsics
    rgb: np.ndarray
    instance_ids: tuple[int, ...] = ()


@dataclass(frozen=True, eq=False)
class Room:
    """The room's floor: height of the floor plane, floor polygon (M, 2) CCW, and its area."""

    floor_z: float
    floor_polygon: np.ndarray
    area_m2: float
    ceiling_z: float | None = None


@dataclass(frozen=True, eq=False)
class SceneMemory:
    """Immutable snapshot of a scene's spatial memory.

    Attributes:
        scene_id: name of the scene.
        instances: fused objects, ordered by id.
        cameras: the camera trajectory, ordered by time (may be empty for imported memories).
        keyframes: stored frames, ordered by frame index (bounded by the episodic capacity).
        room: floor plane and extent, or None when unknown.
        points_world: (P, 3) float32 voxel-downsampled scene point cloud; colors_rgb (P, 3) uint8.
        metadata: free-form provenance (source, backends, build settings, frame count).
    """

    scene_id: str
    instances: tuple[ObjectInstance, ...] = ()
    cameras: tuple[CameraRecord, ...] = ()
    keyframes: tuple[Keyframe, ...] = ()
    room: Room | None = None
    points_world: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.float32))
    colors_rgb: np.ndarray = field(default_factory=lambda: np.zeros((0, 3), np.uint8))
    metadata: dict[str, Any] = field(default_factory=dict)

    def categories(self) -> dict[str, int]:
        """Category name -> number of instances, sorted by name."""
        return dict(sorted(Counter(i.category for i in self.instances).items()))

    def by_category(self, category: str) -> list[ObjectInstance]:
        """Instances whose category equals ``category`` (case-insensitive, exact name)."""
        c = category.strip().lower()
        return [i for i in self.instances if i.category == c]

    def instance(self, instance_id: int) -> ObjectInstance:
        for inst in self.instances:
            if inst.id == instance_id:
                return inst
        raise KeyError(f"no instance with id {instance_id} in memory {self.scene_id!r}")

    def scaled(self, factor: float) -> SceneMemory:
        """The same memory with every length multiplied by ``factor`` about the world origin.

        Used when a metric scale estimate is refined after the build (structure from motion): points,
        boxes, camera and keyframe positions, the room's floor, ceiling, polygon and area all scale; rotations,
        times and images do not.
        """
        f = float(factor)

        def pose(T: np.ndarray) -> np.ndarray:
            out = np.array(T, np.float64)
            out[:3, 3] *= f
            return out

        inst = tuple(dataclasses.replace(
            i, box=OrientedBox(i.box.center * f, i.box.size * f, i.box.axes),
            points_world=(np.asarray(i.points_world, np.float32) * np.float32(f))) for i in self.instances)
        cams = tuple(dataclasses.replace(c, world_from_camera=pose(c.world_from_camera)) for c in self.cameras)
        kfs = tuple(dataclasses.replace(k, world_from_camera=pose(k.world_from_camera)) for k in self.keyframes)
        room = None if self.room is None else Room(
            floor_z=self.room.floor_z * f, floor_polygon=np.asarray(self.room.floor_polygon) * f,
            area_m2=self.room.area_m2 * f * f,
            ceiling_z=None if self.room.ceiling_z is None else self.room.ceiling_z * f)
        return dataclasses.replace(self, instances=inst, cameras=cams, keyframes=kfs, room=room,
                                   points_world=np.asarray(self.points_world, np.float32) * np.float32(f))

    def summary(self) -> dict[str, Any]:
        """A small JSON-able description: what a planner/LLM is told about the memory."""
        return {
            "scene_id": self.scene_id,
            "categories": self.categories(),
            "n_instances": len(self.instances),
            "n_cameras": len(self.cameras),
            "n_keyframes": len(self.keyframes),
            "room_area_m2": None if self.room is None else round(float(self.room.area_m2), 2),
            "duration_s": None if not self.cameras else round(float(self.cameras[-1].timestamp_s), 2),
        }
