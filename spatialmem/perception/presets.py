"""Named perception settings: which geometry and instance backends build a memory, with their options.

One table (:data:`PRESETS`) serves ``spatialmem vsibench --perception NAME`` and the memory cache: a
preset's :meth:`PerceptionPreset.fingerprint` is part of every cache key, so two presets never share a
cached memory. A preset also declares what one scene's ingest needs from a worker (``num_gpus`` for
learned perception), which the Ray executor schedules by.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spatialmem.errors import InputError
from spatialmem.perception.base import GeometryConfig, InstancesConfig


@dataclass(frozen=True)
class PerceptionPreset:
    """One perception setting.

    Attributes:
        name: the preset's name on the command line.
        geometry, instances: the geometry and instance backends (registry name + options).
        num_cpus, num_gpus: resources one scene's ingest needs (Ray schedules by them).
        doc: one line for ``--help`` and the docs.
    """

    name: str
    geometry: GeometryConfig
    instances: InstancesConfig
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    doc: str = ""

    def fingerprint(self) -> dict[str, Any]:
        """Everything about this preset that changes the memory it builds (not its name or resources).

        The dict's keys (``geometry``, ``geometry_options``, ``instances``, ``instances_options``) are part of
        every cache key already on disk: keep them.
        """
        return {"geometry": self.geometry.name, "geometry_options": self.geometry.options,
                "instances": self.instances.name, "instances_options": self.instances.options}

    def check_available(self) -> None:
        """Raise :class:`InputError` naming the missing backend when this preset cannot run here."""
        from spatialmem import registry

        for kind, name in (("geometry", self.geometry.name), ("instances", self.instances.name)):
            if name not in registry.names(kind):
                raise InputError(f"perception preset {self.name!r} needs the {kind} backend {name!r}, which is not "
                                 f"registered here (known: {', '.join(registry.names(kind))}); "
                                 "see 'spatialmem backends' for what each needs")


PRESETS: dict[str, PerceptionPreset] = {p.name: p for p in (
    PerceptionPreset("given", GeometryConfig("given"), InstancesConfig("given"),
                     doc="poses, depth and masks read from the source (synthetic scenes, RGB-D scans with labels)"),
    *(PerceptionPreset(f"noisy-{level}", GeometryConfig("noisy", options={"level": level}),
                       InstancesConfig("noisy", options={"level": level}),
                       doc=f"the source's poses, depth and masks with simulated '{level}' perception errors")
      for level in ("low", "medium", "high")),
    PerceptionPreset("rgb", GeometryConfig("sfm"), InstancesConfig("given"),
                     doc="camera poses and points from the RGB frames alone (structure from motion), source masks"),
    PerceptionPreset("learned", GeometryConfig("depth"), InstancesConfig("open-vocab"), num_gpus=1.0,
                     doc="learned metric depth plus open-vocabulary detection and SAM masks (GPU)"),
)}


def get_preset(name: str) -> PerceptionPreset:
    """The preset called ``name``, or :class:`InputError` listing the known ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise InputError(f"unknown perception preset {name!r}; choose one of: {', '.join(PRESETS)}") from None
