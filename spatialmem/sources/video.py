"""Source for a video file, decoded with PyAV: colour frames only (no pose, no depth).

Intrinsics come from ``intrinsics=`` (an :class:`~spatialmem.types.Intrinsics` for the video's
resolution, or a 3x3 K), from a horizontal field of view ``hfov_deg``, from the container's metadata
(a 35 mm equivalent focal length, :data:`FOCAL_35MM_TAGS`, as iPhones write it), in that order; else a
60 degree guess that geometry backends refine (``intrinsics_known`` False).
Geometry must then come from a geometry backend other than ``given``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from spatialmem.errors import FormatError, InputError, require_package
from spatialmem.sources.files import DEFAULT_HFOV_DEG, check_fov, resolve_intrinsics
from spatialmem.types import Frame, Intrinsics

#: Container / stream metadata keys holding the 35 mm equivalent focal length (millimetres), first found wins.
FOCAL_35MM_TAGS: tuple[str, ...] = ("com.apple.quicktime.camera.focal_length.35mm_equivalent",
                                    "FocalLengthIn35mmFilm", "focal_length_35mm")
#: Diagonal of the 36 x 24 mm frame that "35 mm equivalent" refers to (millimetres).
FULL_FRAME_DIAGONAL_MM = float(np.hypot(36.0, 24.0))


def intrinsics_from_metadata(tags: dict[str, str], width: int, height: int) -> Intrinsics | None:
    """A centred pinhole camera from a 35 mm equivalent focal length in ``tags``, or None when none is usable.

    The equivalent focal length gives the same *diagonal* field of view as on a 36 x 24 mm frame, so
    ``f_px = f35 * image_diagonal_px / 43.27``.
    """
    for key in FOCAL_35MM_TAGS:
        raw = tags.get(key)
        if raw is None:
            continue
        try:
            f35 = float(str(raw).strip().split()[0])
        except (ValueError, IndexError):
            continue
        if 5.0 <= f35 <= 400.0:  # outside: not a plausible camera (fish-eyes below 8 mm, long tele ~300 mm)
            f = f35 * float(np.hypot(width, height)) / FULL_FRAME_DIAGONAL_MM
            return Intrinsics(f, f, (width - 1) / 2.0, (height - 1) / 2.0, width, height)
    return None


class VideoSource:
    """Frames of a video file.

    Args:
        path: the video file.
        hfov_deg: horizontal field of view used when ``intrinsics`` is not given (None: the container's focal
            length metadata, else a 60 degree guess, and ``intrinsics_known`` is False so that geometry
            backends self-calibrate). ``intrinsics_source`` says which was used.
        intrinsics: camera intrinsics (Intrinsics, or a 3x3 K array at the video's resolution).
        stride: keep every ``stride``-th decoded frame; max_frames: stop after this many.
    """

    def __init__(self, path: str | os.PathLike, hfov_deg: float | None = None,
                 intrinsics: Intrinsics | np.ndarray | None = None, stride: int = 1,
                 max_frames: int | None = None) -> None:
        require_package("av", "video", "reading video files")
        import av

        self.path = Path(path)
        self.scene_name = self.path.stem
        if stride < 1:
            raise InputError(f"stride must be >= 1, got {stride}")
        self.stride, self.max_frames = int(stride), max_frames
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise FormatError(f"{self.path}: the file has no video stream")
                st = container.streams.video[0]
                self.width, self.height = int(st.codec_context.width), int(st.codec_context.height)
                self.fps = float(st.average_rate) if st.average_rate else 30.0
                tags = {**dict(container.metadata), **dict(st.metadata)}
                n = int(st.frames or 0)
                if n <= 0:  # container does not say: count by demuxing (no decoding)
                    n = sum(1 for p in container.demux(st) if p.size)
        except av.error.FFmpegError as exc:
            raise FormatError(f"{self.path}: cannot decode video ({exc})") from None
        self._n_decoded = n
        meta = intrinsics_from_metadata(tags, self.width, self.height)
        self.intrinsics_known = intrinsics is not None or hfov_deg is not None or meta is not None
        if intrinsics is not None:
            self.intrinsics = resolve_intrinsics(intrinsics, (self.width, self.height), "--intrinsics")
            self.intrinsics_source = "--intrinsics"
        elif hfov_deg is not None:
            self.intrinsics = Intrinsics.from_fov(self.width, self.height, check_fov(hfov_deg))
            self.intrinsics_source = "--fov"
        elif meta is not None:
            self.intrinsics, self.intrinsics_source = meta, "metadata"
        else:
            self.intrinsics = Intrinsics.from_fov(self.width, self.height, DEFAULT_HFOV_DEG)
            self.intrinsics_source = "guess"

    def __len__(self) -> int:
        n = (self._n_decoded + self.stride - 1) // self.stride
        return min(n, int(self.max_frames)) if self.max_frames is not None else n

    def __iter__(self) -> Iterator[Frame]:
        import av

        kept = 0
        k = -1
        try:
            with av.open(str(self.path)) as container:
                st = container.streams.video[0]
                st.thread_type = "AUTO"
                t0 = None
                for k, vf in enumerate(container.decode(st)):
                    if k % self.stride:
                        continue
                    if self.max_frames is not None and kept >= self.max_frames:
                        break
                    t = float(vf.time) if vf.time is not None else k / self.fps
                    t0 = t if t0 is None else t0
                    rgb = vf.to_ndarray(format="rgb24")
                    yield Frame(index=k, timestamp_s=t - t0, rgb=rgb, intrinsics=self.intrinsics)
                    kept += 1
        except (av.error.FFmpegError, OSError) as exc:
            raise FormatError(f"{self.path}: cannot decode video frame {k + 1} ({exc}); "
                              "the file may be truncated or corrupt") from None
