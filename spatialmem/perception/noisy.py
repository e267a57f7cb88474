"""The ``noisy`` backends: seeded simulations of imperfect perception on top of given masks and geometry.

:class:`NoisyInstances` turns a source's masks into the detections a real detector would give (misses,
false positives, category confusion, label flicker, eroded/dilated/split masks); :class:`NoisyGeometry`
turns its poses and depth into what a real depth + pose pipeline would give (depth noise growing with
distance, pose drift as a random walk, a global scale error). Parameters and presets:
:mod:`spatialmem.perception.noise`. Options: ``level`` (``low``/``medium``/``high``) and any field of
:class:`~.noise.InstanceNoise` / :class:`~.noise.GeometryNoise` to override it.
"""

from __future__ import annotations

import dataclasses
import math
import zlib

import numpy as np
from scipy import ndimage

from spatialmem.perception.base import GeometryConfig, InstancesConfig
from spatialmem.perception.geometry_given import GivenGeometry
from spatialmem.perception.instances_given import GivenInstances
from spatialmem.perception.noise import confusion_partners, geometry_noise, instance_noise
from spatialmem.types import Detection2D, Frame

_REFERENCE_WIDTH_PX = 640.0  # mask_px is given at this image width
_STRUCT = ndimage.generate_binary_structure(2, 1)


def perturb_mask(mask: np.ndarray, radius_px: int, dilate: bool) -> np.ndarray:
    """``mask`` dilated (or eroded) by ``radius_px`` steps of the 4-neighbourhood; unchanged for radius 0."""
    if radius_px <= 0:
        return mask
    rows, cols = np.nonzero(mask.any(axis=1))[0], np.nonzero(mask.any(axis=0))[0]
    if len(rows) == 0:
        return mask
    r = int(radius_px)
    h, w = mask.shape
    r0, r1 = max(0, rows[0] - r - 1), min(h, rows[-1] + r + 2)
    c0, c1 = max(0, cols[0] - r - 1), min(w, cols[-1] + r + 2)
    op = ndimage.binary_dilation if dilate else ndimage.binary_erosion
    out = np.zeros_like(mask)
    out[r0:r1, c0:c1] = op(mask[r0:r1, c0:c1], structure=_STRUCT, iterations=r, border_value=0)
    return out


def scene_key(scene_id: str) -> int:
    """A stable 32-bit key of a scene id (crc32), mixed into the noise seeds."""
    return zlib.crc32(scene_id.encode("utf-8"))


def split_mask(mask: np.ndarray, angle_rad: float) -> list[np.ndarray]:
    """The two pieces of ``mask`` on either side of the line through its centroid at ``angle_rad`` (non-empty ones)."""
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return []
    r0, c0 = rows.mean(), cols.mean()
    rr, cc = np.indices(mask.shape)
    side = (cc - c0) * math.sin(angle_rad) - (rr - r0) * math.cos(angle_rad) >= 0
    return [p for p in (mask & side, mask & ~side) if p.any()]


class NoisyInstances:
    """Given masks with simulated detector errors (see :class:`~.noise.InstanceNoise`)."""

    def __init__(self, config: InstancesConfig | None = None) -> None:
        self.config = config or InstancesConfig(name="noisy")
        self.noise = instance_noise(self.config.options)
        self._given = GivenInstances(dataclasses.replace(self.config, min_pixels=1))
        self._scene = 0  # crc32 of the scene id (bind_scene): scenes that share object ids draw different errors

    def bind_scene(self, scene_id: str) -> None:
        """Make the errors depend on the scene too (the builder calls this before the first frame)."""
        self._scene = scene_key(scene_id)

    def provenance(self) -> dict:
        """What the memory's metadata records about this backend."""
        return {"noise": dataclasses.asdict(self.noise), "scene_key": self._scene}

    def _object_label(self, object_id: int, category: str) -> str:
        partners = confusion_partners(category)
        if not partners or self.noise.confusion_rate <= 0:
            return category
        rng = np.random.default_rng([self.noise.seed, 1, self._scene, object_id])  # systematic: the same in every frame
        return str(partners[rng.integers(len(partners))]) if rng.random() < self.noise.confusion_rate else category

    def detect(self, frame: Frame) -> list[Detection2D]:
        """Noisy detections of one frame (deterministic in the seed and the frame index)."""
        nz = self.noise
        rng = np.random.default_rng([nz.seed, 0, self._scene, frame.index])
        given = self._given.detect_with_ids(frame)
        in_view = sorted({d.category for _, d in given})
        out: list[Detection2D] = []
        for oid, det in given:
            if rng.random() < nz.miss_rate:
                continue
            cat = self._object_label(oid, det.category)
            if rng.random() < nz.flicker_rate:
                cands = [c for c in confusion_partners(det.category) if c != cat] or [c for c in in_view if c != cat]
                if cands:
                    cat = cands[rng.integers(len(cands))]
            mask = det.mask
            if nz.mask_px > 0:
                r = int(round(rng.uniform(0.0, nz.mask_px) * mask.shape[1] / _REFERENCE_WIDTH_PX))
                mask = perturb_mask(mask, r, dilate=bool(rng.random() < 0.5))
            pieces = split_mask(mask, rng.uniform(0, math.pi)) if rng.random() < nz.split_rate else [mask]
            out += [Detection2D(frame.index, cat, p, score=det.score) for p in pieces]
        out += self._false_positives(frame, rng, in_view)
        return [d for d in out if int(d.mask.sum()) >= max(1, self.config.min_pixels)]

    def _false_positives(self, frame: Frame, rng: np.random.Generator, in_view: list[str]) -> list[Detection2D]:
        n = int(rng.poisson(self.noise.false_positives_per_frame)) if self.noise.false_positives_per_frame > 0 else 0
        if n == 0:
            return []
        shape = frame.instance_ids.shape if frame.instance_ids is not None else frame.rgb.shape[:2]
        h, w = shape
        pool = in_view + [p for c in in_view for p in confusion_partners(c)] or ["chair", "table", "box"]
        out = []
        for _ in range(n):
            bh, bw = (int(max(2, rng.uniform(0.04, 0.25) * s)) for s in (h, w))
            r0, c0 = int(rng.integers(0, max(1, h - bh))), int(rng.integers(0, max(1, w - bw)))
            m = np.zeros((h, w), bool)
            m[r0:r0 + bh, c0:c0 + bw] = True
            out.append(Detection2D(frame.index, str(pool[rng.integers(len(pool))]), m,
                                   score=float(rng.uniform(0.3, 0.7))))
        return out


class NoisyGeometry:
    """Given poses and depth with simulated errors (see :class:`~.noise.GeometryNoise`).

    Frames must arrive in time order: the pose drift is a random walk over the frames processed.
    """

    def __init__(self, config: GeometryConfig | None = None) -> None:
        self.config = config or GeometryConfig(name="noisy")
        self.noise = geometry_noise(self.config.options)
        self._given = GivenGeometry(self.config)
        self._scene = 0
        self._seed_rng()
        self._drift = np.eye(4)  # world_noisy_from_world before scaling, the random walk's state
        self._origin: np.ndarray | None = None  # the first camera: the reconstruction's origin, fixed under scaling

    def _seed_rng(self) -> None:
        nz = self.noise
        self._rng = np.random.default_rng([nz.seed, 2, self._scene])
        self.scale = 1.0 + (nz.scale_error if self._rng.random() < 0.5 else -nz.scale_error)

    def bind_scene(self, scene_id: str) -> None:
        """Make the errors (scale sign, drift, depth noise) depend on the scene too; call before the first frame."""
        self._scene = scene_key(scene_id)
        self._seed_rng()

    def provenance(self) -> dict:
        return {"noise": dataclasses.asdict(self.noise), "scale": self.scale, "scene_key": self._scene}

    def _step_drift(self, camera_world: np.ndarray) -> None:
        nz = self.noise
        dyaw = math.radians(self._rng.normal(0.0, nz.drift_deg_per_frame)) if nz.drift_deg_per_frame > 0 else 0.0
        dt = self._rng.normal(0.0, nz.drift_m_per_frame, 3) if nz.drift_m_per_frame > 0 else np.zeros(3)
        c = (self._drift @ np.append(camera_world, 1.0))[:3]  # the camera where the drifted map puts it
        cy, sy = math.cos(dyaw), math.sin(dyaw)
        step = np.eye(4)
        step[:3, :3] = [[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]]
        step[:3, 3] = c - step[:3, :3] @ c + dt  # rotate about the vertical through the camera, then shift
        self._drift = step @ self._drift

    def process(self, frame: Frame) -> Frame:
        """The frame with drifted, scaled pose and noisy, scaled depth (0 stays 0)."""
        frame = self._given.process(frame)
        nz = self.noise
        self._step_drift(frame.world_from_camera[:3, 3])
        pose = self._drift @ frame.world_from_camera
        if self._origin is None:
            self._origin = pose[:3, 3].copy()
        pose[:3, 3] = self._origin + self.scale * (pose[:3, 3] - self._origin)
        d = frame.depth_m
        factor = self.scale * (1.0 + (self._rng.normal(0.0, nz.depth_frame_rel) if nz.depth_frame_rel > 0 else 0.0))
        noisy = d * np.float32(factor)
        if nz.depth_rel > 0:
            noisy = noisy * (1.0 + self._rng.normal(0.0, nz.depth_rel, d.shape)).astype(np.float32)
        noisy = np.where(d > 0, np.maximum(noisy, 0.0), 0.0).astype(np.float32)
        return dataclasses.replace(frame, world_from_camera=pose, depth_m=noisy)
