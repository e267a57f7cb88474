"""Source for a video file, decoded with PyAV: colour frames only (no pose, no depth).

Intrinsics come from ``intrinsics=`` (an :class:`~spatialmem.types.Intrinsics` for the video's
resolution, or a 3x3 K) or from a horizontal field of view ``hfov_deg`` (default 60 degrees).
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


class VideoSource:
    """Frames of a video file.

    Args:
        path: the video file.
        hfov_deg: horizontal field of view used when ``intrinsics`` is not given (None: a 60 degree guess, and
            ``intrinsics_known`` is False so that geometry backends self-calibrate).
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
                n = int(st.frames or 0)
                if n <= 0:  # container does not say: count by demuxing (no decoding)
                    n = sum(1 for p in container.demux(st) if p.size)
        except av.error.FFmpegError as exc:
            raise FormatError(f"{self.path}: cannot decode video ({exc})") from None
        self._n_decoded = n
        self.intrinsics_known = intrinsics is not None or hfov_deg is not None
        if intrinsics is None:
            self.intrinsics = Intrinsics.from_fov(self.width, self.height, check_fov(hfov_deg or DEFAULT_HFOV_DEG))
        else:
            self.intrinsics = resolve_intrinsics(intrinsics, (self.width, self.height), "--intrinsics")

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
