"""Metric scale without metric depth: a hand-held camera-height prior and object-size priors.

Monocular structure from motion recovers a scene up to an unknown scale ``s`` (metres per model
unit). Two independent kinds of evidence each give a log-normal estimate of ``log s``:

* **camera height**: a hand-held capture is filmed from about chest to eye height;
  ``CAMERA_HEIGHT_PRIOR`` gives the mean and spread (metres) of the camera above the floor. With the
  floor found in the model (gravity-aligned sparse points), ``s = prior / median camera height``.
* **object sizes**: ``OBJECT_HEIGHT_PRIORS`` gives, per category, the typical *height* of the object
  (top above the floor, metres) and its spread; heights are used because the gravity direction is
  known and tops are seen from a standing viewpoint, while footprints are often seen only in part.
  Each reconstructed object whose category is in the table gives ``log(prior / measured height)``;
  only objects whose top lies below the camera (their top surface is in view) and that hold enough
  points take part, because sparse points tend to miss the top edge of tall things (beds are left
  out: headboards range from none to 1.3 m).

The estimates are fused by inverse-variance weighting of the log-scales (objects that disagree with the
camera height by more than twice the combined spread are left out and only reported), each object's weight
divided by the number of objects of its category (so ten chairs do not outvote everything), and
the object term's robust spread (MAD) widened when objects disagree. The sources of the table are
listed in docs/perception.md; none of the numbers comes from the synthetic world's catalogue.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

#: Height of a hand-held camera above the floor (metres): mean, standard deviation.
CAMERA_HEIGHT_PRIOR: tuple[float, float] = (1.45, 0.12)

#: Typical height above the floor (metres) per category: (mean, standard deviation). Sources in docs/perception.md.
OBJECT_HEIGHT_PRIORS: dict[str, tuple[float, float]] = {
    "chair": (0.85, 0.10),
    "stool": (0.65, 0.12),
    "table": (0.74, 0.04),
    "desk": (0.74, 0.03),
    "sofa": (0.85, 0.10),
    "nightstand": (0.60, 0.08),
    "dresser": (0.85, 0.15),
    "cabinet": (0.90, 0.20),
    "bookshelf": (1.80, 0.25),
    "refrigerator": (1.75, 0.10),
    "toilet": (0.78, 0.05),
    "sink": (0.88, 0.06),
    "bathtub": (0.55, 0.06),
    "stove": (0.91, 0.03),
    "washer": (0.88, 0.04),
    "door": (2.03, 0.05),
    "trash bin": (0.55, 0.15),
    "heater": (0.60, 0.15),
}


@dataclass(frozen=True)
class ScaleEstimate:
    """A metric scale estimate: metres per model unit.

    Attributes:
        scale: the estimate (multiply model coordinates by it).
        log_sd: standard deviation of ``log(scale)`` (0.05 is about +-5 %).
        confidence: ``exp(-log_sd / 0.05)`` in (0, 1]: 0.37 at +-5 %, 0.14 at +-10 %.
        camera_height_scale, object_scale: the separate estimates (None when unavailable).
        n_objects: objects with a size prior that took part.
        objects_rejected: the object estimate disagreed with the camera-height one and was left out.
    """

    scale: float
    log_sd: float
    confidence: float
    camera_height_scale: float | None = None
    object_scale: float | None = None
    n_objects: int = 0
    objects_rejected: bool = False

    def to_dict(self) -> dict:
        return {k: (None if v is None else (round(float(v), 6) if isinstance(v, float) else v))
                for k, v in dataclasses.asdict(self).items()}


def from_camera_height(camera_heights: np.ndarray, prior: tuple[float, float] = CAMERA_HEIGHT_PRIOR
                       ) -> tuple[float, float] | None:
    """``(log_scale, log_sd)`` from camera heights above the floor in model units ((N,) array), or None."""
    h = np.asarray(camera_heights, np.float64)
    h = h[np.isfinite(h) & (h > 0)]
    if len(h) < 3:
        return None
    mean, sd = prior
    return float(np.log(mean / np.median(h))), float(sd / mean)


def from_object_heights(objects: Iterable[tuple[str, float]],
                        priors: dict[str, tuple[float, float]] | None = None) -> tuple[float, float, int] | None:
    """``(log_scale, log_sd, n)`` from ``(category, measured height in model units)`` pairs, or None."""
    table = OBJECT_HEIGHT_PRIORS if priors is None else priors
    rows = [(c, h) for c, h in objects if c in table and h > 0 and np.isfinite(h)]
    if not rows:
        return None
    counts = Counter(c for c, _ in rows)
    logs = np.array([np.log(table[c][0] / h) for c, h in rows])
    w = np.array([1.0 / ((table[c][1] / table[c][0]) ** 2 * counts[c]) for c, _ in rows])
    med = float(np.median(logs))
    spread = 1.4826 * float(np.median(np.abs(logs - med))) if len(logs) > 2 else 0.0
    inlier = np.abs(logs - med) <= max(3.0 * spread, 0.15)
    mean = float((w[inlier] * logs[inlier]).sum() / w[inlier].sum())
    sd = float(np.sqrt(1.0 / w[inlier].sum()))
    sd = max(sd, spread / np.sqrt(max(inlier.sum(), 1)))
    return mean, sd, int(inlier.sum())


def fuse(camera: tuple[float, float] | None, objects: tuple[float, float, int] | None) -> ScaleEstimate | None:
    """Inverse-variance fusion of the camera-height and object-size estimates (either may be None).

    When both exist but disagree by more than twice their combined spread (objects measured from a partial or
    contaminated reconstruction), the object term is left out (``objects_rejected``) and only reported.
    """
    rejected = False
    if camera and objects and abs(camera[0] - objects[0]) > 2.0 * np.hypot(camera[1], objects[1]):
        rejected = True
        est = fuse(camera, None)
        return dataclasses.replace(est, object_scale=float(np.exp(objects[0])), n_objects=objects[2],
                                   objects_rejected=rejected)
    parts = [(m, s) for m, s in ([camera] if camera else []) + ([objects[:2]] if objects else [])]
    if not parts:
        return None
    w = np.array([1.0 / s ** 2 for _, s in parts])
    m = float((w * np.array([p[0] for p in parts])).sum() / w.sum())
    sd = float(np.sqrt(1.0 / w.sum()))
    return ScaleEstimate(scale=float(np.exp(m)), log_sd=sd, confidence=float(np.exp(-sd / 0.05)),
                         camera_height_scale=None if camera is None else float(np.exp(camera[0])),
                         object_scale=None if objects is None else float(np.exp(objects[0])),
                         n_objects=0 if objects is None else objects[2])
