"""The ``given`` geometry backend: poses and depth come from the source (synthetic scenes, RGB-D scans)."""

from __future__ import annotations

import dataclasses

import numpy as np

from spatialmem.errors import InputError
from spatialmem.perception.base import GeometryConfig
from spatialmem.types import Frame, check_pose


class GivenGeometry:
    """Checks that each frame carries a valid pose and depth, and masks depth outside the valid range."""

    exact = True  # the source's own data: the memory builder fits it exactly (memory/robust.py)

    def __init__(self, config: GeometryConfig | None = None) -> None:
        self.config = config or GeometryConfig()

    def process(self, frame: Frame) -> Frame:
        """Return ``frame`` with validated ``world_from_camera`` and range-clipped ``depth_m``.

        Raises:
            InputError: naming the frame when pose or depth is missing (use a source with poses and
                depth, or another geometry backend).
        """
        if frame.world_from_camera is None or frame.depth_m is None:
            missing = "pose" if frame.world_from_camera is None else "depth"
            raise InputError(
                f"frame {frame.index}: the 'given' geometry backend needs a {missing} from the source, but the "
                "source has none; use an RGB-D source (synthetic scene folder or ScanNet-layout folder) or "
                "choose another geometry backend with --geometry"
            )
        pose = check_pose(frame.world_from_camera, f"frame {frame.index} world_from_camera")
        d = np.asarray(frame.depth_m, dtype=np.float32)
        lo, hi = self.config.min_depth_m, self.config.max_depth_m
        bad = ~np.isfinite(d) | (d < lo) | (d > hi)
        if bad.any():
            d = np.where(bad, np.float32(0.0), d)
        return dataclasses.replace(frame, world_from_camera=pose, depth_m=d)
