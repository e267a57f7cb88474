"""Working memory: the last W frames and their raw observations (the immediate context of the stream).

Each pushed :class:`FrameRecord` keeps the frame's pose, its full-resolution colour image, its lifted
observations and which memory instance each was fused into. When more than W are held, the oldest
is evicted and handed back to the builder for consolidation into the episodic keyframe store (which
downsamples the images it keeps and drops the others).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from spatialmem.types import Intrinsics, Observation3D


@dataclass(eq=False)
class FrameRecord:
    """One frame as held by the working memory.

    Attributes:
        frame_index, timestamp_s: which frame.
        world_from_camera: (4, 4) pose.
        intrinsics: intrinsics of ``rgb``.
        rgb: (h, w, 3) uint8 colour image: full resolution while in the window; downsampled (and
            ``intrinsics`` rescaled) when kept as a keyframe, emptied when not kept.
        observations: the frame's lifted observations.
        instance_ids: memory instance id each observation was fused into (same order).
        visible: instance id -> mask pixel count, for the instances seen in this frame.
        full_intrinsics: intrinsics of the frame's full-resolution colour image (``intrinsics`` follows
            ``rgb`` when it is downsampled).
    """

    frame_index: int
    timestamp_s: float
    world_from_camera: np.ndarray
    intrinsics: Intrinsics
    rgb: np.ndarray
    observations: tuple[Observation3D, ...] = ()
    instance_ids: list[int] = field(default_factory=list)
    visible: dict[int, int] = field(default_factory=dict)
    full_intrinsics: Intrinsics | None = None

    def __post_init__(self) -> None:
        if self.full_intrinsics is None:
            self.full_intrinsics = self.intrinsics

    def remap(self, old: int, new: int) -> None:
        """Rename instance ``old`` to ``new`` (after a duplicate merge)."""
        self.instance_ids = [new if i == old else i for i in self.instance_ids]
        if old in self.visible:
            self.visible[new] = self.visible.get(new, 0) + self.visible.pop(old)


class WorkingMemory:
    """A sliding window of the most recent ``window`` frames."""

    def __init__(self, window: int = 8) -> None:
        if window < 1:
            raise ValueError(f"working-memory window must be >= 1, got {window}")
        self.window = int(window)
        self._frames: deque[FrameRecord] = deque()

    def push(self, record: FrameRecord) -> FrameRecord | None:
        """Add the newest frame; return the evicted oldest one when the window overflows."""
        self._frames.append(record)
        if len(self._frames) > self.window:
            return self._frames.popleft()
        return None

    @property
    def frames(self) -> tuple[FrameRecord, ...]:
        """Held frames, oldest first."""
        return tuple(self._frames)

    def __len__(self) -> int:
        return len(self._frames)

    def remap(self, old: int, new: int) -> None:
        for r in self._frames:
            r.remap(old, new)
