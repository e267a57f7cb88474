"""The ``depth`` geometry backend: learned monocular metric depth through ``transformers``.

Default model: ``depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf`` (Depth Anything V2, fine-tuned
for metric depth on indoor scenes, output in metres up to 20 m). Any ``AutoModelForDepthEstimation``
checkpoint works (``model`` option); models whose config says ``depth_estimation_type="relative"``
predict inverse depth and need sparse metric anchors to be aligned.

Per frame:

* the network predicts depth at its own resolution; it is resized (bilinear) to the frame's image size;
* when the incoming frame already carries *sparse* metric depth (``depth_m`` with zeros where unknown,
  e.g. the projections of SfM points a pose backend put there), the prediction is aligned to it with a
  robust scale and shift (:func:`~.depth_align.fit_scale_shift`), in inverse depth for relative
  models and in depth for metric ones;
* the pose is the frame's own (from the source or a pose backend). A frame without one can only be
  the first: it gets a level camera at ``camera_height_m`` above the floor (z = 0), looking along +y,
  which is what a single image needs. A video without poses needs a pose backend (``--geometry sfm``).

Options (all optional): ``model`` (Hub id), ``model_dir`` (local folder, see :mod:`.hub`), ``revision``,
``device``, ``offline``, ``batch_size`` (frames per forward pass, default 4), ``align`` (``"auto"``:
align when at least ``min_anchors`` anchors exist, ``"none"``: never), ``min_anchors`` (default 20),
``inlier_rel`` (0.1), ``camera_height_m`` (1.5).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from spatialmem.errors import InputError
from spatialmem.perception.base import GeometryConfig
from spatialmem.perception.depth_align import Alignment, fit_scale_shift
from spatialmem.perception.hub import load_pretrained, pick_device
from spatialmem.types import Frame, check_pose

DEFAULT_DEPTH_MODEL = "depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf"

#: world_from_camera rotation of a level camera looking along +y (camera x -> world x, y -> -z, z -> +y).
_LEVEL_R = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


def level_pose(camera_height_m: float) -> np.ndarray:
    """``world_from_camera`` of a level camera ``camera_height_m`` above the origin, looking along +y."""
    T = np.eye(4)
    T[:3, :3] = _LEVEL_R
    T[2, 3] = camera_height_m
    return T


class LearnedDepthGeometry:
    """Metric depth from a ``transformers`` depth-estimation model (see the module docstring)."""

    def __init__(self, config: GeometryConfig | None = None) -> None:
        self.config = cfg = config or GeometryConfig(name="depth")
        o = cfg.options
        self.model_id = str(o.get("model") or DEFAULT_DEPTH_MODEL)
        self.batch_size = max(1, int(o.get("batch_size", 4)))
        self.align = str(o.get("align", "auto"))
        if self.align not in ("auto", "none"):
            raise InputError(f"depth option align={self.align!r}: choose 'auto' or 'none'")
        self.min_anchors = int(o.get("min_anchors", 20))
        self.inlier_rel = float(o.get("inlier_rel", 0.1))
        self.camera_height_m = float(o.get("camera_height_m", 1.5))
        self.device = pick_device(o.get("device"))
        self.loaded = load_pretrained("AutoModelForDepthEstimation", self.model_id, model_dir=o.get("model_dir"),
                                      revision=o.get("revision"), processor_cls="AutoImageProcessor",
                                      offline=o.get("offline"), device=self.device,
                                      purpose="the 'depth' geometry backend")
        kind = getattr(self.loaded.model.config, "depth_estimation_type", "metric")
        self.space = "inverse" if kind == "relative" else "depth"
        self.n_frames = 0
        self.alignments: list[Alignment | None] = []  # per processed frame, for reports and tests

    @classmethod
    def required_models(cls) -> list[str]:
        """Model ids loaded with default options."""
        return [DEFAULT_DEPTH_MODEL]

    def provenance(self) -> dict:
        aligned = [a for a in self.alignments if a is not None]
        return {"models": [self.loaded.provenance()], "output": self.space, "device": self.device,
                "frames_aligned": len(aligned), "frames": len(self.alignments),
                "median_alignment_rel_error": float(np.median([a.rel_error for a in aligned])) if aligned else None}

    def predict(self, images: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Raw predictions for a batch of (H, W, 3) uint8 images, each resized to its image's (H, W), float32.

        Metric models give metres; relative ones inverse depth up to scale and shift.
        """
        import torch

        out: list[np.ndarray] = []
        for k in range(0, len(images), self.batch_size):
            chunk = list(images[k:k + self.batch_size])
            inputs = self.loaded.processor(images=chunk, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                pred = self.loaded.model(**inputs).predicted_depth  # (B, h, w)
            for img, p in zip(chunk, pred, strict=True):
                h, w = img.shape[:2]
                up = torch.nn.functional.interpolate(p[None, None].float(), size=(h, w), mode="bilinear",
                                                     align_corners=False)
                out.append(up[0, 0].cpu().numpy().astype(np.float32))
        return out

    def _anchors(self, frame: Frame, pred: np.ndarray) -> Alignment | None:
        if self.align == "none" or frame.depth_m is None:
            return None
        d = np.asarray(frame.depth_m, np.float32)
        h, w = pred.shape
        rows, cols = np.nonzero(d > 0)
        if len(rows) < self.min_anchors:
            return None
        hd, wd = d.shape
        pr = np.clip(np.round((rows + 0.5) * h / hd - 0.5).astype(int), 0, h - 1)
        pc = np.clip(np.round((cols + 0.5) * w / wd - 0.5).astype(int), 0, w - 1)
        return fit_scale_shift(pred[pr, pc], d[rows, cols], self.space, inlier_rel=self.inlier_rel,
                               seed=frame.index)

    def process_batch(self, frames: Sequence[Frame]) -> list[Frame]:
        """:meth:`process` for several frames with one forward pass per ``batch_size`` frames."""
        preds = self.predict([f.rgb for f in frames])
        return [self._finish(f, p) for f, p in zip(frames, preds, strict=True)]

    def process(self, frame: Frame) -> Frame:
        """The frame with predicted (and, given sparse anchors, aligned) metric depth and a pose."""
        return self.process_batch([frame])[0]

    def _finish(self, frame: Frame, pred: np.ndarray) -> Frame:
        fit = self._anchors(frame, pred)
        self.alignments.append(fit)
        if fit is not None:
            depth = fit.apply(pred)
        elif self.space == "inverse":
            raise InputError(
                f"frame {frame.index}: {self.model_id} predicts relative depth, and the frame has fewer than "
                f"{self.min_anchors} sparse metric depths to align it to; use a metric model (the default "
                f"{DEFAULT_DEPTH_MODEL}) or a pose backend that provides sparse points (--geometry sfm)")
        else:
            depth = np.where(np.isfinite(pred) & (pred > 0), pred, 0.0).astype(np.float32)
        lo, hi = self.config.min_depth_m, self.config.max_depth_m
        depth = np.where((depth >= lo) & (depth <= hi), depth, np.float32(0.0)).astype(np.float32)
        pose = frame.world_from_camera
        if pose is None:
            if self.n_frames > 0:
                raise InputError(
                    f"frame {frame.index} has no camera pose: the 'depth' backend estimates depth, not camera motion, "
                    "so it can build a memory from a single image but not from a moving camera; use --geometry sfm "
                    "for a video or image sequence (it uses the depth backend when installed)")
            pose = level_pose(self.camera_height_m)
        else:
            pose = check_pose(pose, f"frame {frame.index} world_from_camera")
        self.n_frames += 1
        return dataclasses.replace(frame, world_from_camera=pose, depth_m=depth, depth_intrinsics=None)
