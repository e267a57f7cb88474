"""Token encoders shared by both latent designs: 3D point encoding, time encoding, object tokens.

* :func:`fourier_features` — sin/cos of a point's coordinates at octave frequencies.
* :class:`PointEncoding` — a learned projection of those features: the "3D-aware" part of a
  visual token (added to the token, so one world point looks the same from every view).
* :func:`age_features` / :class:`AgeEncoding` — how long ago a token was seen (log-scaled, so it
  works for any stream length).
* :class:`ObjectTokenEncoder` — the object-level visual tokens of :mod:`spatialmem.latent.data`:
  a category embedding plus an encoding of the world 3D box (centre and log size).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def fourier_features(points: torch.Tensor, num_freqs: int = 6, scale_m: float = 8.0) -> torch.Tensor:
    """(..., 3) points in metres -> (..., 3 * 2 * num_freqs) features sin/cos(2^k * pi * p / scale_m)."""
    freqs = (2.0 ** torch.arange(num_freqs, dtype=points.dtype, device=points.device)) * (math.pi / scale_m)
    ang = points[..., :, None] * freqs  # (..., 3, F)
    return torch.cat([ang.sin(), ang.cos()], dim=-1).flatten(-2)


class PointEncoding(nn.Module):
    """Learned positional encoding of a world 3D point: (..., 3) metres -> (..., dim)."""

    def __init__(self, dim: int, num_freqs: int = 6, scale_m: float = 8.0) -> None:
        super().__init__()
        self.num_freqs, self.scale_m = num_freqs, scale_m
        self.proj = nn.Linear(6 * num_freqs, dim)

    def forward(self, points_world: torch.Tensor) -> torch.Tensor:
        return self.proj(fourier_features(points_world, self.num_freqs, self.scale_m))


def age_features(age: torch.Tensor, num_freqs: int = 8) -> torch.Tensor:
    """(...,) ages in frames (>= 0) -> (..., 2 * num_freqs) sin/cos of log1p(age) at several scales."""
    x = torch.log1p(age.float().clamp(min=0))[..., None]
    freqs = torch.linspace(0.25, 2.0, num_freqs, device=age.device)
    return torch.cat([(x * freqs).sin(), (x * freqs).cos()], dim=-1)


class AgeEncoding(nn.Module):
    """Learned encoding of a token's age in frames: (...,) -> (..., dim)."""

    def __init__(self, dim: int, num_freqs: int = 8) -> None:
        super().__init__()
        self.num_freqs = num_freqs
        self.proj = nn.Linear(2 * num_freqs, dim)

    def forward(self, age: torch.Tensor) -> torch.Tensor:
        return self.proj(age_features(age, self.num_freqs))


class ObjectTokenEncoder(nn.Module):
    """Object-level visual tokens: category embedding + 3D box encoding.

    Args:
        num_categories: size of the category vocabulary (index -1 is padding).
        dim: token dimension.
    """

    def __init__(self, num_categories: int, dim: int, num_freqs: int = 6, scale_m: float = 8.0) -> None:
        super().__init__()
        self.category = nn.Embedding(num_categories + 1, dim)  # last row: padding
        self.center = PointEncoding(dim, num_freqs, scale_m)
        self.size = nn.Linear(3, dim)
        self.num_categories = num_categories

    def forward(self, category_ids: torch.Tensor, boxes: torch.Tensor, include_center: bool = True) -> torch.Tensor:
        """(..., ) category ids (-1 = pad) and (..., 6) boxes -> (..., dim) tokens (zeros at padding).

        ``include_center=False`` leaves the box centre out, for callers (the dual memory) that add
        their own 3D point encoding.
        """
        pad = category_ids < 0
        idx = torch.where(pad, torch.full_like(category_ids, self.num_categories), category_ids)
        tok = self.category(idx) + self.size(torch.log(boxes[..., 3:6].clamp(min=1e-3)))
        if include_center:
            tok = tok + self.center(boxes[..., :3])
        return tok.masked_fill(pad[..., None], 0.0)
