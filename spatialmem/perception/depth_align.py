"""Robust scale-and-shift alignment of a predicted depth map to sparse metric depth (e.g. SfM points).

Pure numpy. A monocular network predicts metric depth (up to a per-frame scale error) or relative
inverse depth (up to an unknown scale and shift); triangulated SfM points give a few hundred exact
but sparse depths. :func:`fit_scale_shift` finds ``s, t`` with ``target ≈ s * pred + t`` (in depth or
in inverse depth) by RANSAC on pairs of anchors followed by least squares on the inliers, where an
inlier is within ``inlier_rel`` *relative depth* error, so near and far anchors count alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Alignment:
    """The fit of one frame.

    Attributes:
        scale, shift: ``target ≈ scale * pred + shift`` in the fitted space.
        space: ``"depth"`` (metres) or ``"inverse"`` (1/metres).
        n_anchors: anchors offered; n_inliers: anchors within the inlier threshold after the fit.
        rel_error: median relative depth error of the inliers after the fit.
    """

    scale: float
    shift: float
    space: str
    n_anchors: int
    n_inliers: int
    rel_error: float

    def apply(self, pred: np.ndarray) -> np.ndarray:
        """Metric depth (float32, metres, 0 where the fit gives none) from a prediction in ``space``."""
        v = self.scale * pred.astype(np.float64) + self.shift
        if self.space == "inverse":
            with np.errstate(divide="ignore"):
                v = np.where(v > 1e-6, 1.0 / np.maximum(v, 1e-6), 0.0)
        return np.where(np.isfinite(v) & (v > 0), v, 0.0).astype(np.float32)


def _lstsq(p: np.ndarray, y: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    A = np.stack([p, np.ones_like(p)], axis=1) * w[:, None]
    (s, t), *_ = np.linalg.lstsq(A, y * w, rcond=None)
    return float(s), float(t)


def fit_scale_shift(pred: np.ndarray, target_depth_m: np.ndarray, space: str = "depth", *, inlier_rel: float = 0.1,
                    iterations: int = 200, seed: int = 0, shift: bool = True) -> Alignment | None:
    """Fit ``target ≈ s * pred + t`` robustly.

    Args:
        pred: (N,) predictions at the anchors: metric depth (``space="depth"``) or inverse depth / disparity
            (``space="inverse"``).
        target_depth_m: (N,) metric depth of the anchors (> 0), metres.
        space: where the model is linear: ``"depth"`` or ``"inverse"``.
        inlier_rel: an anchor is an inlier when the aligned depth is within this relative error.
        iterations: RANSAC hypotheses (pairs of anchors; single anchors when ``shift`` is False).
        seed: RANSAC seed (the fit is deterministic).
        shift: fit a shift too (False: scale only, ``t = 0``).

    Returns:
        The :class:`Alignment`, or None with fewer than 3 valid anchors or no positive-scale fit.
    """
    p = np.asarray(pred, np.float64).ravel()
    z = np.asarray(target_depth_m, np.float64).ravel()
    ok = np.isfinite(p) & np.isfinite(z) & (z > 0)
    p, z = p[ok], z[ok]
    n = len(p)
    if n < 3:
        return None
    y = 1.0 / z if space == "inverse" else z

    def rel_err(s: float, t: float) -> np.ndarray:
        est = Alignment(s, t, space, n, 0, 0.0).apply(p).astype(np.float64)
        return np.where(est > 0, np.abs(est - z) / z, np.inf)

    rng = np.random.default_rng(seed)
    best: tuple[int, float, float] = (-1, 1.0, 0.0)
    k = 2 if shift else 1
    for _ in range(iterations):
        idx = rng.choice(n, size=k, replace=False)
        if shift:
            dp = p[idx[1]] - p[idx[0]]
            if abs(dp) < 1e-9:
                continue
            s = (y[idx[1]] - y[idx[0]]) / dp
            t = y[idx[0]] - s * p[idx[0]]
        else:
            if abs(p[idx[0]]) < 1e-9:
                continue
            s, t = y[idx[0]] / p[idx[0]], 0.0
        if s <= 0:
            continue
        count = int((rel_err(s, t) < inlier_rel).sum())
        if count > best[0]:
            best = (count, s, t)
    if best[0] < min(3, n):
        return None
    s, t = best[1], best[2]
    for _ in range(3):  # refine on the inliers (weights make the fit relative, like the inlier test)
        inl = rel_err(s, t) < inlier_rel
        if inl.sum() < k + 1:
            break
        w = (z[inl] if space == "inverse" else 1.0 / z[inl])
        if shift:
            s, t = _lstsq(p[inl], y[inl], w)
        else:
            s = float(np.sum(w * w * p[inl] * y[inl]) / max(np.sum(w * w * p[inl] ** 2), 1e-12))
        if s <= 0:
            return None
    err = rel_err(s, t)
    inl = err < inlier_rel
    return Alignment(s, t, space, n, int(inl.sum()), float(np.median(err[inl])) if inl.any() else float("inf"))
