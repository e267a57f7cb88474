"""Configs and protocols of the perception stages (geometry and instance backends).

A *geometry* backend turns a source :class:`~spatialmem.types.Frame` into one that has a
``world_from_camera`` pose and ``depth_m`` (the ``given`` backend just checks the source provided
them; SfM or learned-depth backends plug in here later). An *instance* backend finds 2D object
instances in a frame and returns :class:`~spatialmem.types.Detection2D` (mask + category, optional
feature). Both are built through :mod:`spatialmem.registry` from these configs, so the memory
builder never names a concrete backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from spatialmem.types import Detection2D, Frame


@dataclass(frozen=True)
class GeometryConfig:
    """Which geometry backend to build and its options.

    Attributes:
        name: registry name (``"given"``, ``"fake"``, ...).
        min_depth_m, max_depth_m: depth outside this range is treated as missing.
        options: backend-specific settings.
    """

    name: str = "given"
    min_depth_m: float = 0.05
    max_depth_m: float = 20.0
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class InstancesConfig:
    """Which instance backend to build and its options.

    Attributes:
        name: registry name (``"given"``, ``"fake"``, ...).
        min_pixels: detections with fewer mask pixels (at the mask's resolution) are dropped.
        ignore_categories: categories never reported (e.g. ``("wall", "floor")``).
        options: backend-specific settings.
    """

    name: str = "given"
    min_pixels: int = 40
    ignore_categories: tuple[str, ...] = ("wall", "floor", "ceiling", "unknown", "")
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class GeometryBackend(Protocol):
    """Fills pose and metric depth of a frame."""

    def process(self, frame: Frame) -> Frame:
        """Return the frame with ``world_from_camera`` and ``depth_m`` set (raises InputError if it cannot)."""
        ...


@runtime_checkable
class InstanceBackend(Protocol):
    """Finds 2D object instances in a frame."""

    def detect(self, frame: Frame) -> list[Detection2D]:
        """Detections of one frame (masks may have any resolution spanning the whole image)."""
        ...


def build_geometry(config: GeometryConfig) -> GeometryBackend:
    """Build the geometry backend named by ``config.name`` through the registry."""
    from spatialmem import registry

    return registry.build("geometry", config.name, config)


def build_instances(config: InstancesConfig) -> InstanceBackend:
    """Build the instance backend named by ``config.name`` through the registry."""
    from spatialmem import registry

    return registry.build("instances", config.name, config)
