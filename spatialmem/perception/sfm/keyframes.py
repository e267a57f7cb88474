"""Keyframe selection on a video stream: enough image motion (parallax) since the last keyframe, not blurred.

Each frame is reduced to a small grey thumbnail (``width`` pixels wide). The motion since the last
keyframe is the shift found by phase correlation between the two thumbnails plus the residual change
after that shift, both as fractions of the image width; rotation-only turns and translation both
move the image, and the residual term grows with parallax (near and far things shifting by different
amounts). A frame becomes a *candidate* once the motion exceeds ``min_motion`` (or ``max_gap`` frames
have passed); among the candidate and up to ``blur_window - 1`` following frames the sharpest (the
variance of the thumbnail's Laplacian) is kept, so a motion-blurred frame is skipped for a sharper neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image


@dataclass(frozen=True)
class KeyframeConfig:
    """Settings of :class:`KeyframeSelector`.

    Attributes:
        min_motion: image motion (fraction of the width) since the last keyframe that makes a candidate.
        max_gap: a candidate is forced after this many frames, whatever the motion.
        blur_window: frames from the candidate on among which the sharpest becomes the keyframe.
        width: thumbnail width (pixels) used for motion and sharpness.
    """

    min_motion: float = 0.06
    max_gap: int = 6
    blur_window: int = 2
    width: int = 96


def thumbnail(rgb: np.ndarray, width: int) -> np.ndarray:
    """(h, width) float32 grey thumbnail of an (H, W, 3) uint8 image."""
    h = max(8, width * rgb.shape[0] // rgb.shape[1])
    return np.asarray(Image.fromarray(rgb).convert("L").resize((width, h), Image.BILINEAR), np.float32)


def sharpness(thumb: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian (higher = sharper)."""
    lap = (-4 * thumb[1:-1, 1:-1] + thumb[:-2, 1:-1] + thumb[2:, 1:-1] + thumb[1:-1, :-2] + thumb[1:-1, 2:])
    return float(lap.var())


def image_motion(a: np.ndarray, b: np.ndarray) -> float:
    """Motion between two thumbnails as a fraction of their width: phase-correlation shift + residual change."""
    fa, fb = np.fft.rfft2(a - a.mean()), np.fft.rfft2(b - b.mean())
    r = fa * np.conj(fb)
    corr = np.fft.irfft2(r / np.maximum(np.abs(r), 1e-9), s=a.shape)
    dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    h, w = a.shape
    dy = dy - h if dy > h // 2 else dy
    dx = dx - w if dx > w // 2 else dx
    shift = float(np.hypot(dx, dy)) / w
    sa = a[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    sb = b[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
    if sa.size < 0.25 * a.size:
        return max(shift, 0.5)
    resid = float(np.mean(np.abs(sa - sb))) / max(float(np.std(a)) + 1e-6, 1.0)
    return shift + 0.1 * resid


class KeyframeSelector:
    """Streaming keyframe decisions: call :meth:`offer` per frame in order.

    ``offer`` returns the list of stream positions decided as keyframes by that call (usually empty
    or one; the first frame is always a keyframe); :meth:`flush` decides a pending candidate at the end.
    """

    def __init__(self, config: KeyframeConfig | None = None) -> None:
        self.config = config or KeyframeConfig()
        self._last_thumb: np.ndarray | None = None
        self._last_pos = -1
        self._pending: list[tuple[int, float, np.ndarray]] = []  # (position, sharpness, thumb)

    def offer(self, position: int, rgb: np.ndarray) -> list[int]:
        cfg = self.config
        th = thumbnail(rgb, cfg.width)
        if self._last_thumb is None:
            self._take(position, th)
            return [position]
        if self._pending:
            self._pending.append((position, sharpness(th), th))
            if len(self._pending) >= cfg.blur_window:
                return [self._decide()]
            return []
        if position - self._last_pos >= cfg.max_gap or image_motion(self._last_thumb, th) >= cfg.min_motion:
            self._pending.append((position, sharpness(th), th))
            if len(self._pending) >= cfg.blur_window:
                return [self._decide()]
        return []

    def flush(self) -> list[int]:
        """Decide a pending candidate (end of stream)."""
        return [self._decide()] if self._pending else []

    def _decide(self) -> int:
        pos, _, th = max(self._pending, key=lambda p: (p[1], -p[0]))
        self._pending = []
        self._take(pos, th)
        return pos

    def _take(self, position: int, thumb: np.ndarray) -> None:
        self._last_thumb, self._last_pos = thumb, position
