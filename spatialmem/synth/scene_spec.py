"""Frozen description of one synthetic scene and its ``scene.json`` I/O (docs/formats.md).

A :class:`SceneSpec` is what the generator decides (room, objects made of box parts, camera path)
before anything is rendered; :func:`scene_to_dict` turns it, plus the per-object first-visible
frames measured on the rendered instance masks, into the ``scene.json`` dictionary of the team
contract. Parts may carry an extra ``"color"`` ([r, g, b] in 0..1) and the room extra colour keys,
so a scene can be re-rendered from its ``scene.json`` alone (:func:`spec_from_dict`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from spatialmem.errors import FormatError
from spatialmem.geometry.boxes import OrientedBox, signed_area
from spatialmem.types import VISIBLE_MASK_FRACTION

SCENE_FORMAT = "spatialmem-scene"
SCENE_VERSION = 1

# Materials select the procedural texture in both renderers (see mesh.texture_value).
MATERIALS = ("plain", "wood", "fabric", "metal", "screen", "glass", "plaster", "tiles", "leaf", "emissive")


@dataclass(frozen=True, eq=False)
class Part:
    """One primitive box of an object, in the world frame.

    Attributes:
        box: the part's oriented box (metres).
        color: (3,) linear base colour in 0..1.
        material: index into :data:`MATERIALS`.
    """

    box: OrientedBox
    color: tuple[float, float, float] = (0.7, 0.7, 0.7)
    material: int = 0


@dataclass(frozen=True, eq=False)
class SceneObject:
    """One object of the scene.

    Attributes:
        id: instance id >= 1 (also its pixel value in the instance masks).
        category: lower-case category name (see synth.catalog).
        box: gravity-aligned OBB of the whole object (the bounding box of its parts in its own frame).
        parts: the boxes it is built from; their union is its exact geometry.
        support: "floor" | "wall" | "ceiling" | "object:<id>".
    """

    id: int
    category: str
    box: OrientedBox
    parts: tuple[Part, ...]
    support: str = "floor"


@dataclass(frozen=True, eq=False)
class RoomSpec:
    """The room: floor polygon (counter-clockwise, metres, floor at z = 0) and its structure.

    Attributes:
        shape: "rect" or "L".
        floor_polygon: (M, 2) float64 counter-clockwise vertices.
        ceiling_height_m: ceiling height above the floor.
        structure: boxes of the floor slab, wall slabs and ceiling slab (instance id 0).
    """

    shape: str
    floor_polygon: np.ndarray
    ceiling_height_m: float
    structure: tuple[Part, ...] = field(default_factory=tuple)

    @property
    def floor_area_m2(self) -> float:
        return abs(signed_area(self.floor_polygon))


@dataclass(frozen=True, eq=False)
class SceneSpec:
    """Everything the generator decided for one seed.

    Attributes:
        seed: the seed it was generated from.
        room: the room.
        objects: the objects, ids 1..N in order.
        poses: (F, 4, 4) float64 ``world_from_camera`` per frame (OpenCV camera).
        fps: frames per second of the capture.
    """

    seed: int
    room: RoomSpec
    objects: tuple[SceneObject, ...]
    poses: np.ndarray
    fps: float

    @property
    def scene_name(self) -> str:
        return scene_name_for(self.seed)

    @property
    def num_frames(self) -> int:
        return int(len(self.poses))


def scene_name_for(seed: int) -> str:
    """The folder name of the scene generated from ``seed``."""
    return f"scene_{int(seed):05d}"


def _r(v: float) -> float:
    return round(float(v), 6)


def _part_dict(p: Part) -> dict:
    d = p.box.to_dict()
    d["color"] = [_r(c) for c in p.color]
    d["material"] = MATERIALS[p.material]
    return d


def scene_to_dict(
    spec: SceneSpec,
    image_size: tuple[int, int],
    first_visible_min_pixels: int,
    first_visible_frame: Mapping[int, int | None],
) -> dict:
    """The ``scene.json`` dictionary (team contract) of a generated, rendered scene.

    Args:
        spec: the scene.
        image_size: (W, H) pixels of the rendered frames.
        first_visible_min_pixels: mask pixel count an object needs to count as visible.
        first_visible_frame: object id -> first frame index with that many pixels, or None.
    """
    n = spec.num_frames
    objects = []
    for o in spec.objects:
        f = first_visible_frame.get(o.id)
        d = {"id": int(o.id), "category": o.category, **o.box.to_dict()}
        d["parts"] = [_part_dict(p) for p in o.parts]
        d["support"] = o.support
        d["first_visible_frame"] = None if f is None else int(f)
        d["first_visible_s"] = None if f is None else _r(f / spec.fps)
        objects.append(d)
    room = spec.room
    return {
        "format": SCENE_FORMAT,
        "version": SCENE_VERSION,
        "scene_name": spec.scene_name,
        "seed": int(spec.seed),
        "units": "m",
        "up": "z",
        "fps": float(spec.fps),
        "num_frames": n,
        "duration_s": _r(n / spec.fps),
        "image_size": [int(image_size[0]), int(image_size[1])],
        "first_visible_min_pixels": int(first_visible_min_pixels),
        "room": {
            "shape": room.shape,
            "floor_z": 0.0,
            "ceiling_height_m": _r(room.ceiling_height_m),
            "floor_polygon": [[_r(x), _r(y)] for x, y in room.floor_polygon],
            "floor_area_m2": _r(room.floor_area_m2),
            "structure": [_part_dict(p) for p in room.structure],
        },
        "objects": objects,
    }


def dumps_scene(d: dict) -> str:
    """Deterministic JSON text of a scene dictionary (stable key order, trailing newline)."""
    return json.dumps(d, indent=1) + "\n"


def _part_from_dict(d: Mapping, where: str) -> Part:
    try:
        box = OrientedBox.from_dict(d)
        color = tuple(float(c) for c in d.get("color", (0.7, 0.7, 0.7)))
        material = MATERIALS.index(d.get("material", "plain"))
    except (KeyError, ValueError, TypeError) as exc:
        raise FormatError(f"{where}: bad part {exc}; expected center/size/axes (+ optional color, material)") from exc
    return Part(box, color, material)  # type: ignore[arg-type]


def spec_from_dict(d: Mapping, poses: Sequence | None = None) -> SceneSpec:
    """Rebuild a :class:`SceneSpec` from a ``scene.json`` dictionary (for re-rendering).

    Args:
        d: parsed scene.json.
        poses: optional (F, 4, 4) poses (from frames.jsonl); empty when omitted.

    Raises:
        FormatError: naming the field that does not follow the format.
    """
    if d.get("format") != SCENE_FORMAT:
        raise FormatError(f"scene.json: 'format' must be {SCENE_FORMAT!r}, got {d.get('format')!r}")
    try:
        r = d["room"]
        poly = np.asarray(r["floor_polygon"], dtype=np.float64).reshape(-1, 2)
        structure = tuple(_part_from_dict(p, "scene.json room.structure") for p in r.get("structure", []))
        room = RoomSpec(str(r["shape"]), poly, float(r["ceiling_height_m"]), structure)
        objects = []
        for i, o in enumerate(d["objects"]):
            where = f"scene.json objects[{i}]"
            parts = tuple(_part_from_dict(p, where) for p in o["parts"])
            objects.append(SceneObject(int(o["id"]), str(o["category"]), OrientedBox.from_dict(o), parts,
                                       str(o.get("support", "floor"))))
        fps = float(d["fps"])
    except (KeyError, TypeError, ValueError) as exc:
        raise FormatError(f"scene.json: missing or malformed field {exc}; see docs/formats.md") from exc
    P = np.zeros((0, 4, 4)) if poses is None else np.asarray(poses, dtype=np.float64).reshape(-1, 4, 4)
    return SceneSpec(int(d.get("seed", 0)), room, tuple(objects), P, fps)


def first_visible_threshold(width: int, height: int) -> int:
    """Mask pixel count for "visible": 500 px at 640x480, scaled by image area (at least 1)."""
    return max(1, int(math.ceil(VISIBLE_MASK_FRACTION * width * height - 1e-9)))
