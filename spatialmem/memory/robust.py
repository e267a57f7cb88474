"""The memory's robustness to *estimated* perception: which builder settings change, and the robust box fit.

Exact perception (a synthetic scene's or an annotated scan's own poses, depth and masks) is best served by
exact box extents and no filtering. Estimated perception (SfM, learned or simulated-noisy depth; detector
masks) is not: per-pixel depth noise, per-frame scale jitter and drift smear an object's fused points,
dilated masks bleed onto the background, false positives and label flicker leave ghost instances. A
backend says which it is with a class attribute ``exact`` (``True`` for the ``given`` backends and the
exact test doubles; absent = estimated), and :func:`robust_config` applies the overrides of
:data:`ROBUST_GEOMETRY` to the builder's settings when the geometry is estimated and those of
:data:`ROBUST_INSTANCES` when the instances are (``BuilderConfig.robust``: ``"auto"`` decides from the
backends, ``"on"`` / ``"off"`` force it). The choice is recorded in the memory's metadata (``robust``).

Robust box fit (:func:`fit_box_trimmed`): statistical outlier removal, then the yaw from the points
inside per-axis quantiles; the extents are count-weighted quantiles of the remaining points along the
box's own axes, so a thin tail of smeared or stray points (a few percent of the observations) no longer
sets the box. On a box's surface a face holds a finite share of the points at the extreme of its axis,
so trimming a smaller share does not shrink a fully seen box.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from spatialmem.geometry.boxes import OrientedBox, box_from_rotated_rect
from spatialmem.geometry.pointcloud import statistical_outliers

#: Builder settings for estimated geometry (dotted names reach into ``lift`` / ``association``).
ROBUST_GEOMETRY: dict[str, Any] = {
    "lift.depth_median": 5,  # 5 x 5 samples of the stride-2 grid: per-pixel depth noise / ~4, edges kept
    "lift.depth_edge_rel": 0.08,  # silhouettes: mask samples on a >= 8 % depth step are not lifted
    "box_trim_fraction": 0.01,  # extents: 1 % of the (count-weighted) points ignored per side and axis
    "min_voxel_hits": 2,  # smeared depth lands in a different voxel each time: keep voxels seen twice
}

#: Builder settings for estimated instances (detector masks and labels).
ROBUST_INSTANCES: dict[str, Any] = {
    "lift.depth_edge_rel": 0.08,  # dilated masks: the band bleeding onto the background is not lifted
    "box_trim_fraction": 0.01,  # false positives fused into an object add a thin tail of points
    "min_voxel_hits": 2,  # a false positive fused into an object adds voxels seen once
    "min_observations": 3,  # a false positive or a flickered label is seldom seen three times in one place
    "association.absorb_overlap": 0.6,  # a low-support instance inside a well-supported one is the same
    "association.absorb_support": 0.25,  # object mislabelled (label flicker): absorbed, its label a vote
}

MODES = ("auto", "on", "off")
YAW_TRIM = 0.05  # the yaw of a trimmed box is fitted to the points inside at least this trim


def is_exact(backend: object) -> bool:
    """Whether a perception backend reports exact data (its ``exact`` attribute; absent = estimated)."""
    return bool(getattr(backend, "exact", False))


def _apply(config: Any, overrides: dict[str, Any]) -> Any:
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    for key, value in overrides.items():
        head, _, tail = key.partition(".")
        if tail:
            nested.setdefault(head, {})[tail] = value
        else:
            flat[head] = value
    for head, sub in nested.items():
        flat[head] = dataclasses.replace(getattr(config, head), **sub)
    return dataclasses.replace(config, **flat)


def _get(config: Any, key: str) -> Any:
    head, _, tail = key.partition(".")
    return getattr(getattr(config, head), tail) if tail else getattr(config, head)


def robust_config(config: Any, geometry_exact: bool, instances_exact: bool,
                  geometry_exempt: tuple[str, ...] = ()) -> tuple[Any, dict[str, bool]]:
    """The builder config with the robust overrides its perception calls for, and which were applied.

    Args:
        config: a :class:`~spatialmem.memory.builder.BuilderConfig`; its ``robust`` field is ``"auto"``
            (from the two flags), ``"on"`` (both sets) or ``"off"`` (none).
        geometry_exact, instances_exact: whether the geometry / instance backend is exact (:func:`is_exact`).
        geometry_exempt: keys of :data:`ROBUST_GEOMETRY` that do not suit the geometry backend's depth (its
            ``robust_exempt`` attribute; e.g. ``sfm``'s triangulated points are verified across views already
            and each is seen in few frames, so gating voxels by their hit count removes real surface).

    Returns:
        ``(config, {"geometry": bool, "instances": bool})``. A setting the caller changed from its default
        is kept as the caller set it; where both tables set one, the larger value wins.
    """
    mode = str(config.robust)
    if mode not in MODES:
        from spatialmem.errors import InputError

        raise InputError(f"robust={mode!r}: choose one of {', '.join(MODES)}")
    geo = mode == "on" or (mode == "auto" and not geometry_exact)
    inst = mode == "on" or (mode == "auto" and not instances_exact)
    defaults = type(config)()
    merged: dict[str, Any] = {}
    geo_table = {k: v for k, v in ROBUST_GEOMETRY.items() if k not in geometry_exempt}
    for on, table in ((geo, geo_table), (inst, ROBUST_INSTANCES)):
        if on:
            for key, value in table.items():
                if _get(config, key) == _get(defaults, key):
                    merged[key] = max(merged.get(key, value), value)
    return (_apply(config, merged) if merged else config), {"geometry": geo, "instances": inst}


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]) -> np.ndarray:
    """Quantiles ``qs`` (in [0, 1]) of ``values`` (N,) where each value counts ``weights`` (N,) times."""
    order = np.argsort(values, kind="stable")
    v, w = np.asarray(values, np.float64)[order], np.asarray(weights, np.float64)[order]
    cum = np.cumsum(w)
    total = cum[-1]
    idx = np.searchsorted(cum, np.asarray(qs, np.float64) * total, side="left")
    return v[np.clip(idx, 0, len(v) - 1)]


def fit_box_trimmed(points: np.ndarray, weights: np.ndarray | None, trim: float, fit) -> OrientedBox:
    """A gravity-aligned box whose extents ignore the outer ``trim`` of the (weighted) points per side and axis.

    Args:
        points: (N, 3) world points (metres), e.g. an instance's voxel means.
        weights: (N,) how many samples each point stands for (voxel counts), or None (all 1).
        trim: fraction in [0, 0.5) ignored at each end of each axis (0 = exact extents).
        fit: the box fit that chooses the yaw, ``fit(points) -> OrientedBox``
            (:func:`~.lift.fit_box_surface` or :func:`~.lift.fit_box_fast`).

    Stray points are first set aside (:func:`~spatialmem.geometry.pointcloud.statistical_outliers`, 2 sd).
    The yaw is fitted to the remaining points, then twice refitted to those inside the range trimmed by
    ``max(trim, YAW_TRIM)`` along the previous box's axes (a cut along other axes would pull the yaw of a
    rotated object towards them); the extents are the weighted quantiles ``trim`` and ``1 - trim`` of the
    remaining points along the final box's two horizontal axes and z.
    """
    pts = np.asarray(points, np.float64).reshape(-1, 3)
    if trim <= 0 or len(pts) < 20:
        return fit(pts)
    w = np.ones(len(pts)) if weights is None else np.asarray(weights, np.float64).reshape(-1)

    def extents(yaw: float, q: float) -> tuple[np.ndarray, list[np.ndarray]]:
        u, v = np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])
        coords = np.column_stack([pts[:, :2] @ u, pts[:, :2] @ v, pts[:, 2]])
        return coords, [weighted_quantiles(coords[:, k], w, (q, 1.0 - q)) for k in range(3)]

    core = statistical_outliers(pts, std_ratio=2.0)
    yaw = fit(pts[core]).yaw if core.sum() >= 8 else 0.0
    q_yaw = max(trim, YAW_TRIM)
    for _ in range(2):  # the yaw from the core trimmed along the previous box's axes
        coords, lim = extents(yaw, q_yaw)
        inside = core & np.all([(coords[:, k] >= lim[k][0]) & (coords[:, k] <= lim[k][1]) for k in range(3)], axis=0)
        yaw = fit(pts[inside] if inside.sum() >= 8 else pts).yaw
    w = np.where(core, w, 0.0)  # the final extents: of the statistical inliers only
    _, ((u0, u1), (v0, v1), (z0, z1)) = extents(yaw, trim)
    return box_from_rotated_rect(yaw, np.array([u0, v0]), np.array([u1, v1]), z0, z1)
