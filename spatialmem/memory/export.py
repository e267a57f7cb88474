"""Export a :class:`~spatialmem.memory.scene.SceneMemory` for viewers.

* :func:`scene_dict` - the JSON the web viewer draws (points, labelled boxes, camera track, keyframes,
  room outline); also what ``GET /api/memories/{name}/scene`` returns.
* :func:`write_ply` - the scene points as binary little-endian PLY (x, y, z float32; red, green, blue uint8).
* :func:`write_glb` - glTF 2.0 binary: one translucent box mesh per object (node named ``"category #id"``),
  plus the scene points as a ``POINTS`` primitive with vertex colours. World frame, z up, metres (glTF's
  own convention is y up: the root node carries the z-up -> y-up rotation, so viewers show it upright).
* :func:`write_rrd` - a Rerun recording (needs the optional ``rerun-sdk``: ``pip install 'spatialmem[rerun]'``).

Every writer writes to a temporary file next to the target and renames it (nothing half-written).
"""

from __future__ import annotations

import json
import math
import os
import struct
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.errors import InputError
from spatialmem.memory.scene import SceneMemory
from spatialmem.memory.topdown import category_color

#: Points sent to the viewer at most (a deterministic, evenly strided subset beyond this).
VIEWER_MAX_POINTS = 60_000

# Triangles of a box over the corner order of ``OrientedBox.corners()`` (signs in itertools.product order).
_BOX_TRIANGLES = np.array([
    [0, 1, 3], [0, 3, 2], [4, 6, 7], [4, 7, 5],  # x- , x+
    [0, 4, 5], [0, 5, 1], [2, 3, 7], [2, 7, 6],  # y- , y+
    [0, 2, 6], [0, 6, 4], [1, 5, 7], [1, 7, 3],  # z- , z+
], np.uint32)


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def _subsample(n: int, max_n: int) -> np.ndarray:
    """Indices of an evenly strided subset of ``range(n)`` with at most ``max_n`` entries."""
    if n <= max_n:
        return np.arange(n)
    return np.linspace(0, n - 1, max_n).round().astype(np.int64)


def instance_dict(inst) -> dict[str, Any]:
    """One object as JSON: id, category, box (centre, size in metres, yaw in degrees, 8 corners), colour."""
    box = inst.box
    return {
        "id": int(inst.id),
        "category": inst.category,
        "center": [_r(v) for v in box.center],
        "size": [_r(v) for v in box.size],
        "yaw_deg": _r(math.degrees(box.yaw), 3),
        "corners": [[_r(v) for v in c] for c in box.corners()],
        "color": list(category_color(inst.category)),
        "first_seen_s": None if inst.first_seen_s is None else _r(inst.first_seen_s, 3),
        "n_observations": int(inst.n_observations),
        "n_points": int(len(inst.points_world)),
        "keyframes": [int(k) for k in inst.keyframe_indices],
    }


def inspect_dict(memory: SceneMemory) -> dict[str, Any]:
    """What ``spatialmem inspect --json`` prints: counts, categories, metadata and every instance's box."""
    return {
        "scene_id": memory.scene_id,
        "room_area_m2": None if memory.room is None else float(memory.room.area_m2),
        "n_frames": int(memory.metadata.get("n_frames", len(memory.cameras))),
        "n_cameras": len(memory.cameras),
        "n_keyframes": len(memory.keyframes),
        "n_points": int(len(memory.points_world)),
        "floor_z": None if memory.room is None else float(memory.room.floor_z),
        "source_layout": memory.metadata.get("source_layout"),
        "depth_scale": memory.metadata.get("depth_scale"),
        "gravity": memory.metadata.get("gravity"),
        "categories": memory.categories(),
        "metadata": memory.metadata,
        "instances": [
            {
                "id": inst.id,
                "category": inst.category,
                "center": [float(x) for x in inst.box.center],
                "size": [float(x) for x in inst.box.size],
                "yaw_deg": math.degrees(inst.box.yaw),
                "first_seen_s": inst.first_seen_s,
                "n_points": int(len(inst.points_world)),
                "n_observations": int(inst.n_observations),
            }
            for inst in memory.instances
        ],
    }


def scene_dict(memory: SceneMemory, max_points: int = VIEWER_MAX_POINTS) -> dict[str, Any]:
    """The viewer's JSON of a memory.

    Returns:
        ``{"scene_id", "summary", "points": {"positions": [x0, y0, z0, x1, ...], "colors": [r0, g0, b0, ...],
        "total"}, "objects": [instance_dict...], "cameras": [{"frame_index", "timestamp_s", "position",
        "forward"}], "keyframes": [{"frame_index", "timestamp_s", "instance_ids"}], "room": {"floor_z",
        "polygon", "area_m2", "ceiling_z"} | None}``; positions in world metres (z up), at most ``max_points``.
    """
    pts, cols = np.asarray(memory.points_world), np.asarray(memory.colors_rgb)
    idx = _subsample(len(pts), max_points)
    room = memory.room
    return {
        "scene_id": memory.scene_id,
        "summary": memory.summary(),
        "points": {
            "positions": np.round(pts[idx].astype(np.float64), 3).reshape(-1).tolist(),
            "colors": (cols[idx].astype(np.int64).reshape(-1).tolist() if len(cols) == len(pts)
                       else [180] * (3 * len(idx))),
            "total": int(len(pts)),
        },
        "objects": [instance_dict(i) for i in memory.instances],
        "cameras": [{"frame_index": int(c.frame_index), "timestamp_s": _r(c.timestamp_s, 3),
                     "position": [_r(v) for v in c.world_from_camera[:3, 3]],
                     "forward": [_r(v) for v in c.world_from_camera[:3, 2]]} for c in memory.cameras],
        "keyframes": [{"frame_index": int(k.frame_index), "timestamp_s": _r(k.timestamp_s, 3),
                       "instance_ids": [int(i) for i in k.instance_ids]} for k in memory.keyframes],
        "room": None if room is None else {
            "floor_z": _r(room.floor_z), "area_m2": _r(room.area_m2, 3),
            "ceiling_z": None if room.ceiling_z is None else _r(room.ceiling_z),
            "polygon": [[_r(x), _r(y)] for x, y in np.asarray(room.floor_polygon).reshape(-1, 2)]},
    }


def _atomic_write(path: Path, write: Callable[[Path], None]) -> Path:
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a directory; give a file path")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _scene_points(memory: SceneMemory) -> tuple[np.ndarray, np.ndarray]:
    """(P, 3) float32 points and (P, 3) uint8 colours; the objects' points when the memory has no scene cloud."""
    pts, cols = np.asarray(memory.points_world, np.float32), np.asarray(memory.colors_rgb, np.uint8)
    if len(pts) == 0:
        with_pts = [i for i in memory.instances if len(i.points_world)]
        if with_pts:
            pts = np.concatenate([np.asarray(i.points_world, np.float32) for i in with_pts])
            cols = np.concatenate([np.tile(np.array(category_color(i.category), np.uint8), (len(i.points_world), 1))
                                   for i in with_pts])
    if len(cols) != len(pts):
        cols = np.full((len(pts), 3), 180, np.uint8)
    return pts.reshape(-1, 3), cols.reshape(-1, 3)


def write_ply(memory: SceneMemory, path: str | os.PathLike) -> Path:
    """Write the scene points (world metres, z up) with colours as a binary PLY; returns the path."""
    pts, cols = _scene_points(memory)
    rec = np.empty(len(pts), dtype=[("x", "<f4"), ("y", "<f4"), ("z", "<f4"),
                                    ("red", "u1"), ("green", "u1"), ("blue", "u1")])
    for k, name in enumerate("xyz"):
        rec[name] = pts[:, k]
    for k, name in enumerate(("red", "green", "blue")):
        rec[name] = cols[:, k]
    header = ("ply\nformat binary_little_endian 1.0\n"
              f"comment spatialmem scene {memory.scene_id}, world frame z up, metres\n"
              f"element vertex {len(pts)}\n"
              "property float x\nproperty float y\nproperty float z\n"
              "property uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n")

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(header.encode("ascii"))
            f.write(rec.tobytes())

    return _atomic_write(Path(path), write)


class _GlbBuilder:
    """Accumulates binary buffer views and accessors of one glTF file."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.views: list[dict] = []
        self.accessors: list[dict] = []

    def add(self, array: np.ndarray, component: int, kind: str, target: int, normalized: bool = False,
            bounds: bool = False) -> int:
        data = np.ascontiguousarray(array).tobytes()
        while len(self.blob) % 4:
            self.blob.append(0)
        self.views.append({"buffer": 0, "byteOffset": len(self.blob), "byteLength": len(data), "target": target})
        self.blob.extend(data)
        acc: dict[str, Any] = {"bufferView": len(self.views) - 1, "componentType": component,
                               "count": int(len(array)), "type": kind}
        if normalized:
            acc["normalized"] = True
        if bounds:
            acc["min"] = [float(v) for v in np.min(array, axis=0)]
            acc["max"] = [float(v) for v in np.max(array, axis=0)]
        self.accessors.append(acc)
        return len(self.accessors) - 1


_FLOAT, _UBYTE, _UINT = 5126, 5121, 5125
_ARRAY_BUFFER, _ELEMENT_ARRAY_BUFFER = 34962, 34963


def glb_bytes(memory: SceneMemory, with_points: bool = True) -> bytes:
    """The glTF 2.0 binary (GLB) of a memory's boxes (and points): see the module docstring."""
    g = _GlbBuilder()
    materials: dict[str, int] = {}
    mat_list: list[dict] = []
    meshes: list[dict] = []
    nodes: list[dict] = [{"name": memory.scene_id, "rotation": [-math.sqrt(0.5), 0.0, 0.0, math.sqrt(0.5)],
                          "children": []}]  # z-up world -> glTF y-up
    tri = g.add(_BOX_TRIANGLES.reshape(-1), _UINT, "SCALAR", _ELEMENT_ARRAY_BUFFER) if memory.instances else None
    for inst in memory.instances:
        if inst.category not in materials:
            r, gr, b = (c / 255.0 for c in category_color(inst.category))
            materials[inst.category] = len(mat_list)
            mat_list.append({"name": inst.category, "doubleSided": True, "alphaMode": "BLEND",
                             "pbrMetallicRoughness": {"baseColorFactor": [r, gr, b, 0.45], "metallicFactor": 0.0,
                                                      "roughnessFactor": 1.0}})
        pos = g.add(inst.box.corners().astype(np.float32), _FLOAT, "VEC3", _ARRAY_BUFFER, bounds=True)
        meshes.append({"name": f"{inst.category} #{inst.id}", "primitives": [
            {"attributes": {"POSITION": pos}, "indices": tri, "material": materials[inst.category], "mode": 4}]})
        nodes.append({"name": f"{inst.category} #{inst.id}", "mesh": len(meshes) - 1})
        nodes[0]["children"].append(len(nodes) - 1)
    pts, cols = _scene_points(memory)
    if with_points and len(pts):
        pos = g.add(pts, _FLOAT, "VEC3", _ARRAY_BUFFER, bounds=True)
        col = g.add(cols, _UBYTE, "VEC3", _ARRAY_BUFFER, normalized=True)
        meshes.append({"name": "scene points", "primitives": [
            {"attributes": {"POSITION": pos, "COLOR_0": col}, "mode": 0}]})
        nodes.append({"name": "scene points", "mesh": len(meshes) - 1})
        nodes[0]["children"].append(len(nodes) - 1)
    while len(g.blob) % 4:
        g.blob.append(0)
    doc: dict[str, Any] = {"asset": {"version": "2.0", "generator": "spatialmem"}, "scene": 0,
                           "scenes": [{"name": memory.scene_id, "nodes": [0]}], "nodes": nodes,
                           "meshes": meshes, "accessors": g.accessors, "bufferViews": g.views}
    if mat_list:
        doc["materials"] = mat_list
    if g.blob:
        doc["buffers"] = [{"byteLength": len(g.blob)}]
    js = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    js += b" " * (-len(js) % 4)
    chunks = struct.pack("<II", len(js), 0x4E4F534A) + js
    if g.blob:
        chunks += struct.pack("<II", len(g.blob), 0x004E4942) + bytes(g.blob)
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


def write_glb(memory: SceneMemory, path: str | os.PathLike, with_points: bool = True) -> Path:
    """Write :func:`glb_bytes` to ``path`` atomically; returns the path."""
    data = glb_bytes(memory, with_points)
    return _atomic_write(Path(path), lambda tmp: tmp.write_bytes(data))


def write_rrd(memory: SceneMemory, path: str | os.PathLike) -> Path:
    """Write a Rerun recording: points, labelled boxes, the camera track and keyframe images (z-up world).

    Raises:
        MissingDependencyError: when ``rerun-sdk`` is not installed (``pip install 'spatialmem[rerun]'``).
    """
    from spatialmem.errors import require_package

    rr = require_package("rerun", "rerun", "exporting .rrd recordings")

    def write(tmp: Path) -> None:
        rec = rr.RecordingStream("spatialmem", recording_id=memory.scene_id)
        rec.save(str(tmp))
        rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
        pts, cols = _scene_points(memory)
        rec.log("world/points", rr.Points3D(pts, colors=cols, radii=0.01), static=True)
        if memory.instances:
            rec.log("world/objects", rr.Boxes3D(
                centers=[i.box.center for i in memory.instances],
                half_sizes=[i.box.size / 2.0 for i in memory.instances],
                quaternions=[_quat_xyzw(i.box.axes) for i in memory.instances],
                colors=[category_color(i.category) for i in memory.instances],
                labels=[f"{i.category} #{i.id}" for i in memory.instances]), static=True)
        if memory.cameras:
            track = np.array([c.world_from_camera[:3, 3] for c in memory.cameras])
            rec.log("world/camera_track", rr.LineStrips3D([track], colors=[(220, 40, 40)]), static=True)
        for k in memory.keyframes:
            rec.set_time("frame", sequence=int(k.frame_index))
            q = _quat_xyzw(k.world_from_camera[:3, :3].T)
            rec.log("world/camera", rr.Transform3D(translation=k.world_from_camera[:3, 3],
                                                   quaternion=rr.Quaternion(xyzw=q)))
            h, w = k.rgb.shape[:2]
            rec.log("world/camera/image", rr.Pinhole(focal_length=[k.intrinsics.fx, k.intrinsics.fy],
                                                     principal_point=[k.intrinsics.cx, k.intrinsics.cy],
                                                     width=w, height=h))
            rec.log("world/camera/image", rr.Image(k.rgb))
        rec.flush()
        rec.disconnect()

    return _atomic_write(Path(path), write)


def _quat_xyzw(axes_rows: np.ndarray) -> list[float]:
    """Quaternion (x, y, z, w) of the rotation whose columns are ``axes_rows``' rows (box -> world)."""
    from scipy.spatial.transform import Rotation

    return [float(v) for v in Rotation.from_matrix(np.asarray(axes_rows, np.float64).T).as_quat()]


#: Export formats of ``spatialmem export``: name -> (file suffix, writer).
EXPORTERS: dict[str, tuple[str, Callable[[SceneMemory, Path], Path]]] = {
    "ply": (".ply", write_ply),
    "glb": (".glb", write_glb),
    "rerun": (".rrd", write_rrd),
    "json": (".json", lambda m, p: _atomic_write(Path(p), lambda t: t.write_text(json.dumps(scene_dict(m))))),
}
