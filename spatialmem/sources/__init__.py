"""Frame sources: one per capture layout, detected from the files; :func:`open_source` opens any of them.

Every source is a :class:`FrameSource`: iterable of :class:`spatialmem.types.Frame` in time order,
with ``len()``, a ``scene_name`` and the ``path`` it reads. Each layout's reader is a backend of
registry kind ``source`` (:mod:`spatialmem.registry`: name, ``"module:Class"``, pip extra, one-line
doc), so :func:`open_source` builds it through the registry and ``spatialmem backends`` lists it;
:data:`LAYOUTS` is the one table of how each built-in layout is *recognised* (docs/formats.md
describes each). A source registered by another package (kind ``source``, e.g. through the
``spatialmem.backends`` entry points) is opened with ``layout=`` / ``--layout`` NAME. A path
matching two layouts is an error that lists them (pass ``layout=`` to choose); a folder that looks
like a layout but lacks a file gets an error naming the missing file.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from spatialmem import registry
from spatialmem.errors import InputError
from spatialmem.types import Frame

VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")

#: option keyword -> the ingest flag that sets it (for messages)
OPTION_FLAGS = {"depth_scale": "--depth-scale", "fps": "--fps", "intrinsics": "--intrinsics", "hfov_deg": "--fov",
                "stride": "--stride", "max_frames": "--max-frames", "labels": "--labels"}


@runtime_checkable
class FrameSource(Protocol):
    """An ordered, sized stream of frames from one scene."""

    path: Path
    scene_name: str

    def __iter__(self) -> Iterator[Frame]: ...

    def __len__(self) -> int: ...


def _files(p: Path) -> list[Path]:
    return [f for f in p.iterdir() if f.is_file()] if p.is_dir() else []


def _is_synthetic(p: Path) -> bool:
    return (p / "scene.json").is_file() and (p / "frames.jsonl").is_file()


def _is_scannet(p: Path) -> bool:
    return all((p / d).is_dir() for d in ("color", "depth", "pose"))


def _is_tum(p: Path) -> bool:
    return (p / "rgb.txt").is_file() and (p / "depth.txt").is_file()


def _is_7scenes(p: Path) -> bool:
    from spatialmem.sources.sevenscenes import has_frames

    return has_frames(p) or any(has_frames(d) for d in p.iterdir() if d.is_dir() and d.name.startswith("seq"))


def _lazy(mod: str, fn: str) -> Callable[[Path], bool]:
    def test(p: Path) -> bool:
        return p.is_dir() and getattr(importlib.import_module(mod), fn)(p)

    return test


def _is_images(p: Path) -> bool:
    return any(f.suffix.lower() in IMAGE_SUFFIXES for f in _files(p))


@dataclass(frozen=True)
class Layout:
    """How one built-in capture layout is recognised: ``name`` (its reader's name under registry kind
    ``source``, which also holds the reader's import path, pip extra and one-line doc) and ``matches(path)``.

    ``fallback`` layouts (a plain image folder) are only chosen when no other layout matches.
    """

    name: str
    matches: Callable[[Path], bool]
    fallback: bool = False

    @property
    def doc(self) -> str:
        """The reader's one-line description (from the registry)."""
        return registry.spec(SOURCE_KIND, self.name).doc


#: The registry kind of frame sources.
SOURCE_KIND = "source"

LAYOUTS: tuple[Layout, ...] = (
    Layout("synthetic", _is_synthetic),
    Layout("scannet", _is_scannet),
    Layout("tum", _is_tum),
    Layout("7scenes", lambda p: p.is_dir() and _is_7scenes(p)),
    Layout("replica", _lazy("spatialmem.sources.replica", "is_replica")),
    Layout("stray", _lazy("spatialmem.sources.phone", "is_stray")),
    Layout("record3d", lambda p: p.is_dir() and _lazy("spatialmem.sources.phone", "is_record3d")(p) or
           p.suffix.lower() == ".r3d" and p.is_file()),
    Layout("arkitscenes", _lazy("spatialmem.sources.phone", "is_arkitscenes")),
    Layout("video", lambda p: p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES),
    Layout("images", _is_images, fallback=True),
)


def layout_names() -> list[str]:
    """Every layout ``layout=`` accepts: the built-in ones in detection order, then any other registered source."""
    builtin = [lay.name for lay in LAYOUTS]
    return builtin + [n for n in registry.names(SOURCE_KIND) if n not in builtin]


def detect_kind(path: str | os.PathLike) -> str:
    """The name of the layout that reads ``path`` (see :data:`LAYOUTS`).

    Raises:
        InputError: when the path does not exist, matches no layout (the message lists them) or
            matches several (the message names them and ``--layout``).
    """
    p = Path(path)
    if not p.exists():
        raise InputError(f"source {p} does not exist; pass a capture folder, a video or an image folder")
    if p.is_file() and p.suffix.lower() not in (*VIDEO_SUFFIXES, ".r3d"):
        raise InputError(f"source {p}: unsupported file type {p.suffix!r}; videos must be one of {VIDEO_SUFFIXES}, "
                         "Record3D captures .r3d")
    hits = [lay for lay in LAYOUTS if not lay.fallback and lay.matches(p)]
    if len(hits) > 1:
        raise InputError(f"source {p} matches several layouts ({', '.join(h.name for h in hits)}); choose one "
                         "with --layout")
    if not hits:
        hits = [lay for lay in LAYOUTS if lay.fallback and lay.matches(p)]
    if not hits:
        known = "; ".join(f"{lay.name}: {lay.doc}" for lay in LAYOUTS)
        raise InputError(f"source {p}: not a known layout. Expected one of: {known}")
    return hits[0].name


def open_source(path: str | os.PathLike, layout: str | None = None, **kw: Any) -> FrameSource:
    """Open ``path`` with the reader its layout calls for (``layout=`` forces one).

    Keyword arguments go to the reader (``stride=``, ``max_frames=``, ``depth_scale=``, ``fps=``,
    ``intrinsics=``, ``hfov_deg=``, ``labels=``, ...); one the layout cannot use is an InputError
    naming the flag, so that no option is silently ignored.
    """
    name = layout if layout is not None else detect_kind(path)
    if name not in layout_names():
        raise InputError(f"unknown layout {name!r}; choose one of {', '.join(layout_names())}")
    reader = registry.resolve(SOURCE_KIND, name)  # a missing extra or a broken reader says so itself
    accepted = set(inspect.signature(reader).parameters)
    extra = sorted(set(kw) - accepted)
    if extra:
        flags = ", ".join(OPTION_FLAGS.get(k, k) for k in extra)
        raise InputError(f"{flags} cannot be used with the {name} layout of {path}; it takes "
                         f"{', '.join(OPTION_FLAGS.get(k, k) for k in sorted(accepted - {'path'}))}")
    return reader(path, **kw)


__all__ = ["FrameSource", "Layout", "LAYOUTS", "SOURCE_KIND", "open_source", "detect_kind", "layout_names",
           "VIDEO_SUFFIXES", "IMAGE_SUFFIXES", "OPTION_FLAGS"]
