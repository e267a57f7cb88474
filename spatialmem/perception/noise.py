"""Noise models of imperfect perception: the parameters, the named presets and the confusion table.

Two parameter sets, each a frozen dataclass whose fields are documented with their unit:
:class:`InstanceNoise` (detector errors on top of given masks) and :class:`GeometryNoise` (depth and
pose errors on top of given poses and depth). :data:`PRESETS` names three levels, ``low``,
``medium`` and ``high``; ``docs/perception.md`` lists them in a table generated from the same values
(:func:`preset_table`). The backends that apply them live in :mod:`spatialmem.perception.noisy`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from spatialmem.errors import InputError

#: Plausible confusions of an indoor detector (both directions): one table, read by the noisy backend.
CONFUSION_PAIRS: tuple[tuple[str, str], ...] = (
    ("sofa", "chair"), ("table", "desk"), ("cabinet", "dresser"), ("nightstand", "cabinet"),
    ("stool", "chair"), ("monitor", "tv"), ("lamp", "ceiling light"), ("bookshelf", "cabinet"),
    ("sink", "bathtub"), ("washer", "refrigerator"), ("box", "trash bin"), ("pillow", "backpack"),
)


def confusion_partners(category: str) -> tuple[str, ...]:
    """Categories a detector plausibly mistakes ``category`` for (empty when it has no known partner)."""
    out = [b for a, b in CONFUSION_PAIRS if a == category] + [a for a, b in CONFUSION_PAIRS if b == category]
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class InstanceNoise:
    """Detector errors simulated on top of given masks (all probabilities in [0, 1]).

    Attributes:
        miss_rate: probability that a true detection is dropped in a frame (independently per frame).
        false_positives_per_frame: mean number (Poisson) of wrong detections added per frame; each is a
            box-shaped mask of 4-25 % of the image side at a random place, labelled with a category seen
            in the frame (or a partner of one), so it looks plausible.
        confusion_rate: probability that an *object* is systematically labelled as a plausible partner
            (:data:`CONFUSION_PAIRS`) in every frame it is seen, as a biased detector would; objects with
            no partner keep their label.
        flicker_rate: probability that one detection's identity flickers in one frame: its label is swapped
            for a partner category (or, without one, another category in view) for that frame only. The
            builder never uses source ids, so an id switch reaches the memory only through its label.
        mask_px: erosion/dilation radius bound in pixels at 640 px image width (scaled with the mask's
            width); each mask is eroded or dilated (even odds) by a radius drawn uniformly from 0..mask_px.
        split_rate: probability that a mask is split into two fragments by a random line through its
            centroid, each fragment reported as its own detection of the same category.
        seed: random seed; the noise of a frame depends only on (seed, scene id, frame index, object id).
    """

    miss_rate: float = 0.0
    false_positives_per_frame: float = 0.0
    confusion_rate: float = 0.0
    flicker_rate: float = 0.0
    mask_px: float = 0.0
    split_rate: float = 0.0
    seed: int = 0


@dataclass(frozen=True)
class GeometryNoise:
    """Depth and pose errors simulated on top of given poses and depth.

    Attributes:
        depth_rel: per-pixel depth noise, a Gaussian with standard deviation ``depth_rel * d`` (so it grows
            with the distance ``d``; dimensionless, e.g. 0.03 = 3 %).
        depth_frame_rel: per-frame multiplicative depth error, a factor ``1 + N(0, depth_frame_rel)`` shared
            by all pixels of a frame (the frame-to-frame scale inconsistency of monocular depth).
        drift_m_per_frame: standard deviation (metres) of the per-frame translation step of the pose drift,
            a random walk (after n frames the drift's spread is ``drift_m_per_frame * sqrt(n)`` per axis).
        drift_deg_per_frame: standard deviation (degrees) of the per-frame yaw step of the pose drift (a
            random walk about the vertical axis through the camera; gravity keeps roll and pitch).
        scale_error: global scale error: the whole reconstruction (poses and depth) is scaled about the first
            camera (the origin of an SfM/SLAM reconstruction) by ``1 + scale_error`` or ``1 - scale_error``
            (the sign drawn once from the seed).
        seed: random seed.
    """

    depth_rel: float = 0.0
    depth_frame_rel: float = 0.0
    drift_m_per_frame: float = 0.0
    drift_deg_per_frame: float = 0.0
    scale_error: float = 0.0
    seed: int = 0


#: Named levels. ``medium`` is meant to resemble a good open-vocabulary detector + SAM and a good
#: monocular depth / SfM pipeline on indoor video; ``high`` a poor one.
PRESETS: dict[str, tuple[InstanceNoise, GeometryNoise]] = {
    "low": (InstanceNoise(miss_rate=0.05, false_positives_per_frame=0.05, confusion_rate=0.02, flicker_rate=0.02,
                          mask_px=1.0, split_rate=0.02),
            GeometryNoise(depth_rel=0.01, depth_frame_rel=0.005, drift_m_per_frame=0.001, drift_deg_per_frame=0.02,
                          scale_error=0.02)),
    "medium": (InstanceNoise(miss_rate=0.15, false_positives_per_frame=0.2, confusion_rate=0.05, flicker_rate=0.05,
                             mask_px=3.0, split_rate=0.05),
               GeometryNoise(depth_rel=0.03, depth_frame_rel=0.02, drift_m_per_frame=0.003, drift_deg_per_frame=0.05,
                             scale_error=0.05)),
    "high": (InstanceNoise(miss_rate=0.3, false_positives_per_frame=0.5, confusion_rate=0.1, flicker_rate=0.1,
                           mask_px=6.0, split_rate=0.1),
             GeometryNoise(depth_rel=0.06, depth_frame_rel=0.05, drift_m_per_frame=0.006, drift_deg_per_frame=0.1,
                           scale_error=0.1)),
}


def _from_options(cls, preset: Any, options: Mapping[str, Any]):
    """Build ``cls`` from ``options["level"]`` (a preset name, default ``base``) overridden by any field."""
    level = str(options.get("level", "")).strip().lower()
    if level and level not in PRESETS:
        raise InputError(f"unknown noise level {level!r}; choose one of: {', '.join(PRESETS)}")
    base = preset(PRESETS[level]) if level else cls()
    names = {f.name for f in dataclasses.fields(cls)}
    over = {}
    for k, v in options.items():
        if k in names:
            try:
                over[k] = int(v) if k == "seed" else float(v)
            except (TypeError, ValueError):
                raise InputError(f"noise option {k}={v!r}: expected a number") from None
            if k != "seed" and (over[k] < 0 or (k.endswith("_rate") and over[k] > 1)):
                raise InputError(f"noise option {k}={v!r}: must be >= 0 (and <= 1 for a rate)")
    return dataclasses.replace(base, **over)


def instance_noise(options: Mapping[str, Any]) -> InstanceNoise:
    """The :class:`InstanceNoise` of backend options (``level`` = preset, then per-field overrides)."""
    return _from_options(InstanceNoise, lambda p: p[0], options)


def geometry_noise(options: Mapping[str, Any]) -> GeometryNoise:
    """The :class:`GeometryNoise` of backend options (``level`` = preset, then per-field overrides)."""
    return _from_options(GeometryNoise, lambda p: p[1], options)


def preset_table() -> str:
    """A Markdown table of every preset's parameters (the one in docs/perception.md)."""
    fields = [f.name for f in dataclasses.fields(InstanceNoise) if f.name != "seed"] + \
             [f.name for f in dataclasses.fields(GeometryNoise) if f.name != "seed"]
    lines = ["| parameter | " + " | ".join(PRESETS) + " |", "|---|" + "---|" * len(PRESETS)]
    for name in fields:
        vals = [getattr(i if hasattr(i, name) else g, name) for i, g in PRESETS.values()]
        lines.append(f"| `{name}` | " + " | ".join(f"{v:g}" for v in vals) + " |")
    return "\n".join(lines)
