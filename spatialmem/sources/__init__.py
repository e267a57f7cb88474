"""Frame sources: synthetic scene folders, RGB-D folders (ScanNet layout), video files, image folders.

Every source is a :class:`FrameSource`: iterable of :class:`spatialmem.types.Frame` in time order,
with ``len()``, a ``scene_name`` and the ``path`` it reads. :func:`open_source` picks the right one:

* a folder with ``scene.json`` + ``frames.jsonl``          -> :class:`~.synthetic.SyntheticSceneSource`
* a folder with ``color/``, ``depth/``, ``pose/``, ``intrinsic/`` -> :class:`~.scannet.ScanNetSource`
* a video file (``.mp4``, ``.mov``, ``.avi``, ``.mkv``, ``.webm``) -> :class:`~.video.VideoSource`
* a folder of images (``.jpg``, ``.jpeg``, ``.png``)        -> :class:`~.images.ImageFolderSource`
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from spatialmem.errors import InputError
from spatialmem.types import Frame

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@runtime_checkable
class FrameSource(Protocol):
    """An ordered, sized stream of frames from one scene."""

    path: Path
    scene_name: str

    def __iter__(self) -> Iterator[Frame]: ...

    def __len__(self) -> int: ...


def detect_kind(path: str | os.PathLike) -> str:
    """Which source reads ``path``: ``"synthetic"``, ``"scannet"``, ``"video"`` or ``"images"``.

    Raises:
        InputError: when the path does not exist or matches no known layout (the message lists them).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"source {p} does not exist; pass a scene folder, an RGB-D folder, a video or an image folder")
    if p.is_file():
        if p.suffix.lower() in VIDEO_SUFFIXES:
            return "video"
        raise InputError(f"source {p}: unsupported file type {p.suffix!r}; videos must be one of {VIDEO_SUFFIXES}")
    if (p / "scene.json").is_file() and (p / "frames.jsonl").is_file():
        return "synthetic"
    if all((p / d).is_dir() for d in ("color", "depth", "pose", "intrinsic")):
        return "scannet"
    if any(f.suffix.lower() in IMAGE_SUFFIXES for f in p.iterdir() if f.is_file()):
        return "images"
    raise InputError(
        f"source {p}: not a known layout. Expected a synthetic scene folder (scene.json + frames.jsonl), a ScanNet-"
        "layout folder (color/, depth/, pose/, intrinsic/), a video file or a folder of .jpg/.png images"
    )


def open_source(path: str | os.PathLike, **kw: Any) -> FrameSource:
    """Open ``path`` with the source its layout calls for (see the module docstring).

    Keyword arguments go to the source's constructor (e.g. ``hfov_deg=`` or ``intrinsics=`` for videos and
    image folders, ``stride=`` to read every n-th frame, ``max_frames=``).
    """
    kind = detect_kind(path)
    if kind == "synthetic":
        from spatialmem.sources.synthetic import SyntheticSceneSource

        return SyntheticSceneSource(path, **kw)
    if kind == "scannet":
        from spatialmem.sources.scannet import ScanNetSource

        return ScanNetSource(path, **kw)
    if kind == "video":
        from spatialmem.sources.video import VideoSource

        return VideoSource(path, **kw)
    from spatialmem.sources.images import ImageFolderSource

    return ImageFolderSource(path, **kw)


__all__ = ["FrameSource", "open_source", "detect_kind", "VIDEO_SUFFIXES", "IMAGE_SUFFIXES"]
