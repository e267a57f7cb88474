"""Small image readers shared by the sources (PIL based); errors name the file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from spatialmem.errors import FormatError, InputError


def read_rgb(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 colour image."""
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except FileNotFoundError:
        raise InputError(f"missing image {path}") from None
    except OSError as exc:
        raise FormatError(f"cannot read image {path}: {exc}") from None


def read_png16(path: Path) -> np.ndarray:
    """(H, W) uint16 (or int32) single-channel PNG, e.g. depth in millimetres or instance ids."""
    try:
        with Image.open(path) as im:
            arr = np.asarray(im)
    except FileNotFoundError:
        raise InputError(f"missing image {path}") from None
    except OSError as exc:
        raise FormatError(f"cannot read image {path}: {exc}") from None
    if arr.ndim != 2:
        raise FormatError(f"{path}: expected a single-channel 16-bit PNG, got shape {arr.shape}")
    return arr


def read_depth_mm(path: Path, scale: float = 1000.0) -> np.ndarray:
    """(H, W) float32 metres from a 16-bit PNG in 1/``scale`` metres (0 = no measurement)."""
    return read_png16(path).astype(np.float32) * np.float32(1.0 / scale)
