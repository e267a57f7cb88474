"""Import a :class:`~spatialmem.memory.scene.SceneMemory` from 3D box annotations (JSON; docs/formats.md).

For datasets that ship 3D boxes and for oracle experiments (perfect perception). Schema::

    {"scene_id": str, "up": "z",
     "objects": [{"category": str, "center": [x, y, z], "size": [sx, sy, sz],
                  "axes": [[3], [3], [3]],        # optional, rows = unit box axes; default identity
                  "first_seen_s": float | null}], # optional, default null
     "room": {"area_m2": float, "floor_polygon": [[x, y], ...],   # both optional
              "floor_z": float, "ceiling_z": float}}            # optional extensions (default 0.0 / null)

Defaults: ``scene_id`` = the file name without extension; ``up`` = "z" (nothing else is accepted);
no ``room`` -> room unknown; polygon only -> area from the shoelace formula; area only -> a room with
an empty polygon. Category names are stripped, lower-cased, inner whitespace collapsed. Instances get
ids 1..N in file order and carry no points.

Boxes whose axes are not gravity-aligned are accepted: the axes are relabelled so that the most
vertical one comes third, pointing up (the same box). A tilted box keeps its full 3-DoF rotation:
size, longest side, closest-point distance, IoU and direction from the centre are exact for any
rotation (:mod:`spatialmem.geometry.boxes`); ``box.gravity_aligned()`` gives the enclosing upright
box where floor-plane reasoning needs one. Each relabelling or tilt is recorded in
``memory.metadata["notes"]``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.errors import FormatError
from spatialmem.fsutil import read_user_text
from spatialmem.geometry.boxes import OrientedBox, polygon_area, signed_area
from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory
from spatialmem.types import MAX_WORLD_M

_ORTHO_TOL = 1e-3


def _is_number(v: Any) -> bool:
    """A finite JSON number within the world bound (+-MAX_WORLD_M: 1e308 is not a length)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and abs(v) <= MAX_WORLD_M


def _vec3(obj: dict, key: str, where: str, positive: bool = False) -> np.ndarray:
    v = obj[key]
    ok = isinstance(v, list) and len(v) == 3 and all(_is_number(x) for x in v)
    if ok and positive:
        ok = all(x > 0 for x in v)
    if not ok:
        kind = "positive numbers" if positive else "finite numbers"
        kind += f" of at most {MAX_WORLD_M:g} in size"
        raise FormatError(f"{where}.{key}: expected 3 {kind}, got {json.dumps(v)[:80]}")
    return np.array(v, dtype=np.float64)


def _axes(v: Any, where: str) -> np.ndarray:
    ok = isinstance(v, list) and len(v) == 3 and all(
        isinstance(r, list) and len(r) == 3 and all(_is_number(x) for x in r) for r in v
    )
    if not ok:
        raise FormatError(f"{where}.axes: expected 3 rows of 3 finite numbers, got {json.dumps(v)[:80]}")
    A = np.array(v, dtype=np.float64)
    if not np.allclose(A @ A.T, np.eye(3), atol=_ORTHO_TOL):
        raise FormatError(f"{where}.axes: rows must be orthogonal unit vectors (the box axes in world coordinates)")
    return A


def upright_axes(box: OrientedBox, atol: float = 1e-4) -> tuple[OrientedBox, str | None]:
    """The same box with its axes relabelled so that ``axes[2]`` is its most vertical axis, pointing up.

    Returns:
        ``(box, note)``: ``note`` is None when nothing changed; "axes reordered ..." when an exactly
        vertical axis was moved to the third slot; "box tilted X deg from gravity; kept with its full
        rotation" for a tilted box (its rotation is kept: sizes, distances and IoU are exact for any
        rotation, and ``box.gravity_aligned()`` gives the enclosing upright box for floor-plane work).
    """
    ax = box.axes
    vertical = np.abs(ax[:, 2])
    k = int(np.argmax(vertical))
    upright = vertical[k] >= 1.0 - atol
    if k == 2 and ax[2, 2] > 0:
        new = box
    else:
        others = [i for i in range(3) if i != k]
        a2 = ax[k] * np.sign(ax[k, 2])
        a0 = ax[others[0]].copy()
        if upright:  # an exactly vertical axis: make the other two exactly horizontal
            a2 = np.array([0.0, 0.0, 1.0])
            a0[2] = 0.0
            a0 /= np.linalg.norm(a0)
        a1 = np.cross(a2, a0)  # right-handed: +-axes[others[1]]
        size = np.array([box.size[others[0]], box.size[others[1]], box.size[k]])
        new = OrientedBox(box.center, size, np.array([a0, a1, a2]))
    if upright:
        return new, (None if new is box else "axes reordered so that axes[2] = +z")
    tilt = math.degrees(math.acos(min(1.0, float(vertical[k]))))
    return new, f"box tilted {tilt:.1f} deg from gravity; kept with its full rotation"


def _parse_object(i: int, obj: Any) -> tuple[str, OrientedBox, float | None, list[str]]:
    where = f"objects[{i}]"
    if not isinstance(obj, dict):
        raise FormatError(f"{where}: expected an object with category, center and size")
    for key in ("category", "center", "size"):
        if key not in obj:
            raise FormatError(f"{where}.{key}: missing (required)")
    cat = obj["category"]
    if not isinstance(cat, str) or not cat.strip():
        raise FormatError(f"{where}.category: expected a non-empty string, got {json.dumps(cat)[:80]}")
    category = " ".join(cat.split()).lower()
    center = _vec3(obj, "center", where)
    size = _vec3(obj, "size", where, positive=True)
    axes = np.eye(3) if obj.get("axes") is None else _axes(obj["axes"], where)
    fs = obj.get("first_seen_s")
    if fs is not None and not (isinstance(fs, (int, float)) and not isinstance(fs, bool) and math.isfinite(fs)
                               and fs >= 0):
        raise FormatError(f"{where}.first_seen_s: expected a number of seconds >= 0 or null, got {json.dumps(fs)[:80]}")
    box, note = upright_axes(OrientedBox(center, size, axes))
    notes = [f"{where}: {note}"] if note else []
    return category, box, (None if fs is None else float(fs)), notes


def _parse_room(room: Any) -> tuple[Room | None, list[str]]:
    if room is None:
        return None, []
    if not isinstance(room, dict):
        raise FormatError("room: expected an object with area_m2 and/or floor_polygon")
    area = room.get("area_m2")
    if area is not None and not (_is_number(area) and area > 0):
        raise FormatError(f"room.area_m2: expected a positive number, got {json.dumps(area)[:80]}")
    poly = room.get("floor_polygon")
    notes: list[str] = []
    if poly is not None:
        ok = isinstance(poly, list) and len(poly) >= 3 and all(
            isinstance(p, list) and len(p) == 2 and all(_is_number(x) for x in p) for p in poly
        )
        if not ok:
            raise FormatError("room.floor_polygon: expected a list of at least 3 [x, y] pairs of finite numbers")
        poly_arr = np.array(poly, dtype=np.float64)
        signed = signed_area(poly_arr)
        if abs(signed) <= 0:
            raise FormatError("room.floor_polygon: the polygon has zero area")
        if signed < 0:
            poly_arr = poly_arr[::-1].copy()
            notes.append("room.floor_polygon: clockwise polygon reversed to counter-clockwise")
    else:
        poly_arr = np.zeros((0, 2), np.float64)
    for key in ("floor_z", "ceiling_z"):
        if room.get(key) is not None and not _is_number(room[key]):
            raise FormatError(f"room.{key}: expected a number (metres) or null")
    if area is None and poly is None:
        return None, ["room: neither area_m2 nor floor_polygon given; room unknown"]
    if area is None:
        area = polygon_area(poly_arr)
    elif poly is not None:
        pa = polygon_area(poly_arr)
        if abs(pa - area) > 0.05 * area:
            notes.append(f"room: area_m2 {area:g} differs from the polygon's area {pa:.3f}; keeping area_m2")
    floor_z = float(room.get("floor_z") or 0.0)
    ceiling = room.get("ceiling_z")
    if ceiling is not None and ceiling <= floor_z:
        raise FormatError(f"room.ceiling_z: {ceiling:g} is not above floor_z {floor_z:g}; the ceiling must be higher")
    return Room(floor_z, poly_arr, float(area), None if ceiling is None else float(ceiling)), notes


def parse_annotations(data: Any, default_scene_id: str = "scene", source_file: str | None = None) -> SceneMemory:
    """Build a memory from an already parsed annotation document (see module docstring).

    Raises:
        FormatError: naming the field (``objects[3].size: expected 3 positive numbers, ...``).
    """
    if not isinstance(data, dict):
        raise FormatError("top level: expected a JSON object with scene_id, objects and room")
    scene_id = data.get("scene_id", default_scene_id)
    if not isinstance(scene_id, str) or not scene_id.strip():
        raise FormatError(f"scene_id: expected a non-empty string, got {json.dumps(scene_id)[:80]}")
    up = data.get("up", "z")
    if up != "z":
        raise FormatError(f"up: only \"z\" is supported (world z axis points up), got {json.dumps(up)[:40]}; "
                          "rotate the annotations to z-up first")
    if "objects" not in data:
        raise FormatError("objects: missing (required); give a list of objects, possibly empty")
    objects = data["objects"]
    if not isinstance(objects, list):
        raise FormatError("objects: expected a list of objects")
    instances, notes = [], []
    for i, obj in enumerate(objects):
        category, box, fs, obj_notes = _parse_object(i, obj)
        notes.extend(obj_notes)
        instances.append(ObjectInstance(id=i + 1, category=category, box=box, first_seen_s=fs, last_seen_s=fs))
    room, room_notes = _parse_room(data.get("room"))
    notes.extend(room_notes)
    metadata: dict[str, Any] = {"source": "annotations", "n_frames": 0, "notes": notes}
    if source_file is not None:
        metadata["annotation_file"] = source_file
    return SceneMemory(scene_id=scene_id.strip(), instances=tuple(instances), room=room, metadata=metadata)


def import_annotations(path: str | os.PathLike) -> SceneMemory:
    """Read an annotation JSON file and build a memory from it (boxes only, no points, no cameras).

    Raises:
        InputError: the file does not exist, is a directory or is not UTF-8 text.
        FormatError: the file is not JSON or does not follow the schema; the message names the file,
            the object index and the field.
    """
    p = Path(path)
    text = read_user_text(p, "annotation file")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{p}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise FormatError(f"{p}: JSON nested too deeply to be an annotation file") from None
    try:
        return parse_annotations(data, default_scene_id=p.stem, source_file=str(p))
    except FormatError as exc:
        raise FormatError(f"{p}: {exc}") from None
