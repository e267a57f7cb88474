"""Uploaded frames -> :class:`~spatialmem.types.Frame`, decoded exactly as the file sources decode them.

One frame is a multipart request: ``rgb`` (PNG / JPEG, or ``.npy`` (H, W, 3) uint8), optional ``depth``
(16-bit PNG in 1/``depth_scale`` metres, default millimetres, or ``.npy`` (H, W) float32 metres), optional
``instances`` (16-bit PNG or ``.npy`` (H, W) integer instance ids, 0 = background) and a ``meta`` JSON
field (:class:`FrameMeta`). Image sizes are checked from the file header before anything is decoded.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image

from spatialmem.errors import FormatError, InputError
from spatialmem.server.problems import ApiProblem
from spatialmem.sources.files import read_png16, read_rgb
from spatialmem.types import Frame, Intrinsics, check_pose

_NPY_MAGIC = b"\x93NUMPY"


@dataclass(frozen=True)
class FrameMeta:
    """The ``meta`` JSON of a frame upload (every field optional).

    Attributes:
        index: frame number (default: frames received so far); must grow from frame to frame.
        timestamp_s: seconds since the first frame (default: index / the session's fps).
        world_from_camera: 4x4 pose (OpenCV camera, z-up world, metres) when the client knows it.
        intrinsics: ``{"fx", "fy", "cx", "cy"}`` in pixels of the rgb image (default: the session's).
        labels: instance id -> category name for the ``instances`` image.
        depth_scale: depth PNG units per metre (1000 = millimetres).
    """

    index: int | None = None
    timestamp_s: float | None = None
    world_from_camera: Any = None
    intrinsics: dict | None = None
    labels: dict[int, str] = field(default_factory=dict)
    depth_scale: float = 1000.0

    @classmethod
    def parse(cls, text: str | None) -> FrameMeta:
        if not text:
            return cls()
        try:
            d = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiProblem(400, "Malformed JSON", f"field 'meta' is not valid JSON ({exc})") from None
        if not isinstance(d, dict):
            raise ApiProblem(400, "Invalid frame", "field 'meta' must be a JSON object")
        unknown = set(d) - {"index", "timestamp_s", "world_from_camera", "intrinsics", "labels", "depth_scale"}
        if unknown:
            raise ApiProblem(400, "Invalid frame", f"unknown 'meta' field(s): {', '.join(sorted(unknown))}")
        try:
            labels = {int(k): str(v).lower() for k, v in (d.get("labels") or {}).items()}
            return cls(index=None if d.get("index") is None else int(d["index"]),
                       timestamp_s=None if d.get("timestamp_s") is None else float(d["timestamp_s"]),
                       world_from_camera=d.get("world_from_camera"), intrinsics=d.get("intrinsics"), labels=labels,
                       depth_scale=float(d.get("depth_scale", 1000.0)))
        except (TypeError, ValueError, AttributeError) as exc:
            raise ApiProblem(400, "Invalid frame", f"field 'meta': {exc}") from None


class _Upload(io.BytesIO):
    """Bytes of one form field; named so that readers' error messages name the field."""

    def __init__(self, data: bytes, field_name: str) -> None:
        super().__init__(data)
        self.field_name = field_name

    def __str__(self) -> str:
        return f"upload field '{self.field_name}'"


def _image_size(data: bytes, field_name: str) -> tuple[int, int]:
    """(width, height) from the header of a PNG/JPEG or .npy upload, without decoding pixels."""
    if data[:6] == _NPY_MAGIC:
        buf = io.BytesIO(data)
        try:
            version = np.lib.format.read_magic(buf)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, _ = read(buf)  # header only
        except ValueError as exc:
            raise ApiProblem(400, "Invalid frame", f"field '{field_name}': bad .npy header ({exc})") from None
        if len(shape) < 2:
            raise ApiProblem(400, "Invalid frame", f"field '{field_name}': expected an image array, got {shape}")
        return int(shape[1]), int(shape[0])
    try:
        with Image.open(io.BytesIO(data)) as im:
            return im.size
    except OSError as exc:
        raise ApiProblem(400, "Invalid frame", f"field '{field_name}' is not a PNG/JPEG/.npy image ({exc})") from None


def _load_npy(data: bytes, field_name: str) -> np.ndarray:
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as exc:
        raise ApiProblem(400, "Invalid frame", f"field '{field_name}': unreadable .npy ({exc})") from None


def _check_pixels(data: bytes, field_name: str, max_pixels: int) -> tuple[int, int]:
    w, h = _image_size(data, field_name)
    if w * h > max_pixels:
        raise ApiProblem(413, "Frame too large", f"field '{field_name}' is {w}x{h} = {w * h} pixels; the limit is "
                         f"{max_pixels} (downscale the image, or raise --max-frame-pixels)")
    if w < 1 or h < 1:
        raise ApiProblem(400, "Invalid frame", f"field '{field_name}' is empty ({w}x{h})")
    return w, h


def decode_rgb(data: bytes, max_pixels: int) -> np.ndarray:
    """(H, W, 3) uint8 from PNG/JPEG (as :func:`~spatialmem.sources.files.read_rgb`) or .npy."""
    _check_pixels(data, "rgb", max_pixels)
    if data[:6] == _NPY_MAGIC:
        a = _load_npy(data, "rgb")
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ApiProblem(400, "Invalid frame", f"field 'rgb': expected (H, W, 3) uint8, got {a.shape} {a.dtype}")
        return a
    try:
        return read_rgb(_Upload(data, "rgb"))
    except (FormatError, InputError) as exc:
        raise ApiProblem(400, "Invalid frame", str(exc)) from None


def decode_single(data: bytes, field_name: str, max_pixels: int) -> np.ndarray:
    """(H, W) array from a 16-bit PNG (as :func:`~spatialmem.sources.files.read_png16`) or .npy."""
    _check_pixels(data, field_name, max_pixels)
    if data[:6] == _NPY_MAGIC:
        a = _load_npy(data, field_name)
    else:
        try:
            a = read_png16(_Upload(data, field_name))
        except (FormatError, InputError) as exc:
            raise ApiProblem(400, "Invalid frame", str(exc)) from None
    if a.ndim != 2:
        raise ApiProblem(400, "Invalid frame", f"field '{field_name}': expected one channel, got shape {a.shape}")
    return a


def intrinsics_for(meta: dict | None, default: Intrinsics | None, width: int, height: int) -> Intrinsics:
    """Intrinsics of a (width x height) image: from ``meta``, else the session's (rescaled), else a 60° guess."""
    if meta:
        try:
            return Intrinsics(float(meta["fx"]), float(meta["fy"]), float(meta["cx"]), float(meta["cy"]), width,
                              height)
        except (KeyError, TypeError, ValueError) as exc:
            raise ApiProblem(400, "Invalid frame", f"'intrinsics' needs numbers fx, fy, cx, cy ({exc})") from None
    if default is None:
        return Intrinsics.from_fov(width, height, 60.0)
    return default if (default.width, default.height) == (width, height) else default.scaled(width, height)


def build_frame(meta: FrameMeta, rgb: bytes, depth: bytes | None, instances: bytes | None, *, index: int,
                timestamp_s: float, default_intrinsics: Intrinsics | None, max_pixels: int) -> Frame:
    """The :class:`Frame` of one upload (see the module docstring); 400/413 problems on bad input."""
    image = decode_rgb(rgb, max_pixels)
    h, w = image.shape[:2]
    K = intrinsics_for(meta.intrinsics, default_intrinsics, w, h)
    pose = None
    if meta.world_from_camera is not None:
        try:
            pose = check_pose(meta.world_from_camera, f"frame {index}: world_from_camera")
        except FormatError as exc:
            raise ApiProblem(400, "Invalid frame", str(exc)) from None
    depth_m = None
    if depth is not None:
        d = decode_single(depth, "depth", max_pixels)
        if d.dtype.kind == "f":
            depth_m = np.nan_to_num(d.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
        else:
            if not meta.depth_scale > 0:
                raise ApiProblem(400, "Invalid frame", "'depth_scale' must be > 0 (1000 = millimetres)")
            depth_m = d.astype(np.float32) * np.float32(1.0 / meta.depth_scale)  # as sources.files.read_depth_mm
    ids = None
    if instances is not None:
        a = decode_single(instances, "instances", max_pixels)
        if a.dtype.kind not in "iu":
            raise ApiProblem(400, "Invalid frame", f"field 'instances': expected integer ids, got {a.dtype}")
        ids = a.astype(np.int32)
    return Frame(index=index, timestamp_s=timestamp_s, rgb=image, intrinsics=K, world_from_camera=pose,
                 depth_m=depth_m, instance_ids=ids, instance_labels=dict(meta.labels) if ids is not None else {})
