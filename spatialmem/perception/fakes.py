"""Test doubles for the perception stages: :class:`FakeGeometry` and :class:`FakeInstances`.

``FakeGeometry`` passes frames through, optionally adding Gaussian depth noise (deterministic seed).
``FakeInstances`` returns canned detections per frame index (``options["detections"]``) or, when
none are given, behaves like the ``given`` backend, optionally renaming categories
(``options["rename"]``) or dropping every n-th detection (``options["drop_every"]``).
"""

from __future__ import annotations

import dataclasses

import numpy as np

from spatialmem.errors import InputError
from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.perception.instances_given import GivenInstances
from spatialmem.types import Detection2D, Frame


class FakeGeometry:
    """Pass-through geometry; ``options={"depth_noise_m": s, "seed": k}`` adds N(0, s) depth noise."""

    def __init__(self, config: GeometryConfig | None = None) -> None:
        self.config = config or GeometryConfig(name="fake")
        self.calls = 0
        self._rng = np.random.default_rng(int(self.config.options.get("seed", 0)))

    @property
    def exact(self) -> bool:
        """Exact without depth noise (the memory builder then fits boxes exactly, memory/robust.py)."""
        return float(self.config.options.get("depth_noise_m", 0.0)) <= 0

    def process(self, frame: Frame) -> Frame:
        """The frame unchanged (or with depth noise); raises InputError when the source has no pose or depth."""
        self.calls += 1
        if frame.world_from_camera is None or frame.depth_m is None:
            raise InputError(
                f"frame {frame.index}: the 'fake' geometry backend is a test double that passes the source's poses "
                "and depth through, and this source has none (a video or image folder); choose a backend that "
                "estimates them with --geometry (see `spatialmem backends`), or use an RGB-D source")
        sigma = float(self.config.options.get("depth_noise_m", 0.0))
        if sigma <= 0 or frame.depth_m is None:
            return frame
        d = frame.depth_m.astype(np.float32)
        noisy = np.where(d > 0, d + self._rng.normal(0.0, sigma, d.shape).astype(np.float32), 0.0)
        return dataclasses.replace(frame, depth_m=noisy.astype(np.float32))


class FakeInstances:
    """Canned or derived detections for tests (exact masks: the builder treats them as given ones)."""

    exact = True

    def __init__(self, config: InstancesConfig | None = None) -> None:
        self.config = config or InstancesConfig(name="fake")
        self._given = GivenInstances(self.config)
        self.calls = 0

    def detect(self, frame: Frame) -> list[Detection2D]:
        self.calls += 1
        canned = self.config.options.get("detections")
        if canned is not None:
            return list(canned.get(frame.index, ()))
        dets = self._given.detect(frame)
        rename = self.config.options.get("rename", {})
        drop = int(self.config.options.get("drop_every", 0))
        out = []
        for k, d in enumerate(dets):
            if drop and k % drop == drop - 1:
                continue
            out.append(dataclasses.replace(d, category=rename.get(d.category, d.category)))
        return out
