"""``spatialmem export``: PLY points, GLB boxes (glTF binary, parsed back here), Rerun .rrd, viewer JSON."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from spatialmem import cli
from spatialmem.memory.export import glb_bytes
from spatialmem.memory.store import load_memory


@pytest.fixture(scope="module")
def memory(served):
    return load_memory(served / "tiny")


def _read_glb(data: bytes) -> tuple[dict, bytes]:
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    assert (magic, version, length) == (b"glTF", 2, len(data))
    jlen, jtype = struct.unpack_from("<II", data, 12)
    assert jtype == 0x4E4F534A and jlen % 4 == 0
    doc = json.loads(data[20:20 + jlen])
    blen, btype = struct.unpack_from("<II", data, 20 + jlen)
    assert btype == 0x004E4942 and blen == doc["buffers"][0]["byteLength"]
    return doc, data[28 + jlen:28 + jlen + blen]


def _accessor(doc: dict, blob: bytes, k: int) -> np.ndarray:
    acc = doc["accessors"][k]
    view = doc["bufferViews"][acc["bufferView"]]
    dtype = {5126: np.float32, 5121: np.uint8, 5125: np.uint32}[acc["componentType"]]
    width = {"SCALAR": 1, "VEC3": 3}[acc["type"]]
    a = np.frombuffer(blob, dtype, acc["count"] * width, view["byteOffset"])
    return a.reshape(acc["count"], width) if width > 1 else a


def test_glb_boxes_parse_back(memory):
    doc, blob = _read_glb(glb_bytes(memory))
    boxes = [m for m in doc["meshes"] if m["name"] != "scene points"]
    assert [m["name"] for m in boxes] == [f"{i.category} #{i.id}" for i in memory.instances]
    for mesh, inst in zip(boxes, memory.instances):
        prim = mesh["primitives"][0]
        corners = _accessor(doc, blob, prim["attributes"]["POSITION"])
        np.testing.assert_allclose(corners, inst.box.corners(), atol=1e-5)
        tri = _accessor(doc, blob, prim["indices"]).reshape(-1, 3)
        assert tri.shape == (12, 3) and set(tri.reshape(-1)) == set(range(8))
        # every face is outward or inward consistently: the 12 triangles cover the box surface area
        a, b, c = corners[tri[:, 0]], corners[tri[:, 1]], corners[tri[:, 2]]
        area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1).sum()
        sx, sy, sz = inst.box.size
        assert area == pytest.approx(2 * (sx * sy + sy * sz + sx * sz), rel=1e-4)
    pts = next(m for m in doc["meshes"] if m["name"] == "scene points")["primitives"][0]
    assert pts["mode"] == 0
    np.testing.assert_allclose(_accessor(doc, blob, pts["attributes"]["POSITION"]), memory.points_world, atol=1e-6)


def test_cli_export_formats(memory, served, tmp_path):
    assert cli.main(["export", str(served / "tiny"), "--format", "ply", "--out", str(tmp_path / "m.ply")]) == 0
    data = (tmp_path / "m.ply").read_bytes()
    header, _, body = data.partition(b"end_header\n")
    assert f"element vertex {len(memory.points_world)}".encode() in header
    rec = np.frombuffer(body, dtype=[("xyz", "<f4", 3), ("rgb", "u1", 3)])
    np.testing.assert_array_equal(rec["xyz"], memory.points_world)
    np.testing.assert_array_equal(rec["rgb"], memory.colors_rgb)
    assert cli.main(["export", str(served / "tiny"), "--format", "glb", "--out", str(tmp_path / "m.glb")]) == 0
    assert (tmp_path / "m.glb").read_bytes() == glb_bytes(memory)
    assert cli.main(["export", str(served / "tiny"), "--format", "json", "--out", str(tmp_path / "m.json")]) == 0
    assert len(json.loads((tmp_path / "m.json").read_text())["objects"]) == len(memory.instances)
    assert cli.main(["export", str(served / "tiny"), "--format", "obj"]) == 2
    assert cli.main(["export", str(tmp_path / "nothing"), "--format", "ply"]) == 4


def test_cli_export_rerun(served, tmp_path):
    pytest.importorskip("rerun", reason="rerun-sdk (the 'rerun' extra) is not installed")
    assert cli.main(["export", str(served / "tiny"), "--format", "rerun", "--out", str(tmp_path / "m.rrd")]) == 0
    data = (tmp_path / "m.rrd").read_bytes()
    assert data[:4] == b"RRF2"
    for entity in (b"world/points", b"world/objects", b"world/camera_track", b"world/camera/image"):
        assert entity in data
