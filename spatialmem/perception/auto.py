"""Choosing backends for ``--geometry auto`` / ``--instances auto``: the best installed one for the source.

A source that carries poses and depth (synthetic scenes, RGB-D captures) uses them (``given``); a source
with instance masks uses them (``given``). A plain RGB source (a video, an image folder) needs backends
that estimate: the first *installed* name of :data:`RGB_GEOMETRY` and :data:`RGB_INSTANCES` (best first)
is taken; "installed" means its dependencies and default weights are present (:func:`installed`). When no
instance backend can run on plain RGB the choice says so: the memory will hold the room and the cameras
but no objects.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from spatialmem import registry
from spatialmem.errors import BackendError, MissingDependencyError
from spatialmem.perception.base import GeometryConfig

#: Geometry backends that work from RGB alone, best first.
RGB_GEOMETRY: tuple[str, ...] = ("sfm",)
#: Instance backends that work from RGB alone, best first.
RGB_INSTANCES: tuple[str, ...] = ("open-vocab",)


@dataclass(frozen=True)
class BackendChoice:
    """The backends to build and why.

    Attributes:
        geometry, instances: registry names (``instances`` is ``"given"`` with no masks when nothing else runs).
        notes: one line per decision, for the user and the memory's metadata.
        objects_possible: False when neither the source nor an installed backend can produce instances.
    """

    geometry: str
    instances: str
    notes: tuple[str, ...]
    objects_possible: bool = True


def installed(kind: str, name: str) -> tuple[bool, str]:
    """Whether backend ``kind/name`` can run here (:func:`spatialmem.registry.status`: its dependencies
    import and no default weights are known to be missing); else the reason and how to get it."""
    try:
        st = registry.status(kind, name)
    except (MissingDependencyError, BackendError) as exc:
        return False, str(exc)
    if st.ready:
        return True, ""
    what = f"missing {', '.join(st.missing)}" if st.missing else \
        "weights not found: " + ", ".join(m for m, p in st.models if p is False)
    return False, f"{kind} backend {name!r}: {what}; to get it: {st.get}"


def _first_installed(kind: str, names: tuple[str, ...]) -> tuple[str | None, list[str]]:
    why = []
    for n in names:
        if n not in registry.names(kind):
            why.append(f"{kind} backend {n!r} is not part of this installation")
            continue
        ok, reason = installed(kind, n)
        if ok:
            return n, why
        why.append(reason)
    return None, why


def choose_backends(has_geometry: bool, has_masks: bool, geometry: str = "auto",
                    instances: str = "auto") -> BackendChoice:
    """Resolve ``"auto"`` for either kind (explicit names are kept as given).

    Args:
        has_geometry: the source carries poses and depth.
        has_masks: the source carries instance masks.

    Raises:
        MissingDependencyError: ``geometry="auto"`` on a plain RGB source with no RGB geometry backend
            installed (the message names the extra).
    """
    notes: list[str] = []
    geo = geometry
    if geometry == "auto":
        if has_geometry:
            geo = "given"
            notes.append("geometry: given (the source has poses and depth)")
        else:
            geo, why = _first_installed("geometry", RGB_GEOMETRY)
            if geo is None:
                spec = registry.spec("geometry", RGB_GEOMETRY[0])
                raise MissingDependencyError("pycolmap", spec.extra or "sfm",
                                             "estimating camera poses from a plain RGB source; " + "; ".join(why))
            notes.append(f"geometry: {geo} (plain RGB source: poses and depth are estimated)")
    inst = instances
    possible = True
    if instances == "auto":
        if has_masks:
            inst = "given"
            notes.append("instances: given (the source has instance masks)")
        else:
            found, why = _first_installed("instances", RGB_INSTANCES)
            if found is not None:
                inst = found
                notes.append(f"instances: {found} (plain RGB source: objects are detected)")
            else:
                inst, possible = "given", False
                hint = "; ".join(why) if why else f"no backend that detects objects in RGB ({', '.join(RGB_INSTANCES)})"
                notes.append("instances: the source has no instance masks and no installed backend detects objects "
                             "in RGB, so the memory will hold no objects (only the room and the cameras); an object "
                             f"detector would make them: {hint}; then choose it with --instances")
    elif not has_masks and instances == "given":
        possible = False
        notes.append("instances: the source has no instance masks, so the memory will hold no objects")
    return BackendChoice(geo, inst, tuple(notes), possible)


def rgb_only_source(geometry: str, src, layout: str | None = None) -> dict[str, Any]:
    """Source options for ``geometry``: structure from motion on a synthetic scene reads its RGB (and masks)
    only, never its poses or depth. The layout is detected only for ``sfm``."""
    from spatialmem.sources import detect_kind

    if geometry != "sfm" or (layout or detect_kind(src)) != "synthetic":
        return {}
    return {"rgb_only": True}


def with_intrinsics_mode(geometry: GeometryConfig, source) -> GeometryConfig:
    """The geometry backend's config, with option ``known_intrinsics`` set for ``sfm`` (unless given): fixed
    intrinsics when the source or the user gives them, else self-calibration."""
    if geometry.name != "sfm" or "known_intrinsics" in geometry.options:
        return geometry
    known = bool(getattr(source, "intrinsics_known", True))
    return dataclasses.replace(geometry, options={**geometry.options, "known_intrinsics": known})
