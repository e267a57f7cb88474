"""Small file readers shared by the sources and the server (images, 16-bit PNG, intrinsics); errors name the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from spatialmem.errors import FormatError, InputError
from spatialmem.types import Intrinsics, check_intrinsics

#: Horizontal field of view assumed for videos and images without intrinsics (degrees): a phone's main camera.
DEFAULT_HFOV_DEG = 60.0

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


def read_depth_mm(path: Path, scale: float = 1000.0, invalid: int | None = None) -> np.ndarray:
    """(H, W) float32 metres from a 16-bit PNG in 1/``scale`` metres (0, and ``invalid`` if given, = no measurement)."""
    raw = read_png16(path)
    d = raw.astype(np.float32) * np.float32(1.0 / scale)
    if invalid is not None:
        d[raw == invalid] = 0.0
    return d


def check_fov(hfov_deg: float) -> float:
    """A horizontal field of view in degrees, checked to lie in (0, 180)."""
    if not 0.0 < float(hfov_deg) < 180.0:
        raise InputError(f"--fov must be a horizontal field of view in degrees between 0 and 180, got {hfov_deg}")
    return float(hfov_deg)


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file, read from its header."""
    try:
        with Image.open(path) as im:
            return int(im.size[0]), int(im.size[1])
    except FileNotFoundError:
        raise InputError(f"missing image {path}") from None
    except OSError as exc:
        raise FormatError(f"cannot read image {path}: {exc}") from None


def resolve_intrinsics(given: Intrinsics | np.ndarray, size: tuple[int, int], what: str) -> Intrinsics:
    """Validated intrinsics for images of ``size`` (width, height) from an Intrinsics or a 3x3 / 4x4 K.

    A bare matrix is taken to be for images of ``size``; an Intrinsics of another size is rescaled when
    the aspect ratio agrees (:func:`spatialmem.types.check_intrinsics`). Raises FormatError naming ``what``.
    """
    if not isinstance(given, Intrinsics):
        M = np.asarray(given, dtype=np.float64)
        if M.shape not in ((3, 3), (4, 4), (3, 4)):
            raise FormatError(f"{what}: expected a 3x3 or 4x4 camera matrix, got shape {M.shape}")
        given = Intrinsics(float(M[0, 0]), float(M[1, 1]), float(M[0, 2]), float(M[1, 2]), int(size[0]),
                           int(size[1]))
    return check_intrinsics(given, what, size)


def read_text(p: Path, missing: str, what: str | None = None) -> str:
    """The text of ``p``; a missing file is an InputError saying ``missing``, an unreadable or non-UTF-8 one
    a FormatError naming ``what`` (default: the path)."""
    try:
        return p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(missing) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{what or p}: cannot read ({exc})") from None


def load_intrinsics_file(path: str | Path) -> Intrinsics | np.ndarray:
    """Intrinsics from ``--intrinsics FILE``: a 3x3 or 4x4 matrix as whitespace-separated text, or JSON
    ``{"fx", "fy", "cx", "cy"}`` (with ``"width"``, ``"height"`` when known). Without a size, a 3x3 K
    is returned (taken to be for the frames' own size)."""
    p = Path(path)
    text = read_text(p, f"--intrinsics: missing file {p}", f"--intrinsics {p}")
    if text.lstrip().startswith("{"):
        try:
            d = json.loads(text)
            fx, fy, cx, cy = (float(d[k]) for k in ("fx", "fy", "cx", "cy"))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise FormatError(f"--intrinsics {p}: expected JSON with numbers fx, fy, cx, cy ({exc})") from None
        if "width" in d and "height" in d:
            try:
                return Intrinsics(fx, fy, cx, cy, int(d["width"]), int(d["height"]))
            except (TypeError, ValueError) as exc:
                raise FormatError(f"--intrinsics {p}: width and height must be integers ({exc})") from None
        return np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    try:
        M = np.array([[float(v) for v in line.replace(",", " ").split()] for line in text.splitlines()
                      if line.strip()], dtype=np.float64)
    except ValueError as exc:
        raise FormatError(f"--intrinsics {p}: expected a 3x3 or 4x4 matrix of numbers or JSON ({exc})") from None
    if M.shape not in ((3, 3), (4, 4)):
        raise FormatError(f"--intrinsics {p}: expected a 3x3 or 4x4 matrix, got shape {M.shape}")
    return M[:3, :3]
