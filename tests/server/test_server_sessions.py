"""Live sessions: frames in, questions mid-stream, events over a WebSocket, saves, isolation and limits."""

from __future__ import annotations

import dataclasses
import io
import json
import sys
import types

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from spatialmem import registry
from spatialmem.memory.store import load_memory
from spatialmem.server.config import ServerLimits
from spatialmem.sources import open_source

from .conftest import frame_parts, make_app, scene_rows, session_body


def _open(c, scene, **kw) -> str:
    r = c.post("/api/sessions", json=session_body(scene, **kw))
    assert r.status_code == 201, r.text
    return r.json()["session"]


def test_stream_ask_events_and_save(tmp_path, served, tiny_scene):
    rows = scene_rows(tiny_scene)
    with TestClient(make_app(served, save_root=tmp_path)) as c:
        sid = _open(c, tiny_scene, name="live-tiny")
        other = _open(c, tiny_scene)
        with c.websocket_connect(f"/api/sessions/{sid}/events") as ws:
            assert ws.receive_json()["type"] == "hello"
            for row in rows[:20]:
                files, data = frame_parts(tiny_scene, row)
                r = c.post(f"/api/sessions/{sid}/frames", files=files, data=data)
                assert r.status_code == 200, r.text
            progress, objects = [], []
            while len(progress) < 20:
                e = ws.receive_json()
                (progress if e["type"] == "progress" else objects).append(e)
        assert [p["n_frames"] for p in progress] == list(range(1, 21))
        assert objects and all(o["category"] and len(o["size"]) == 3 for o in objects)
        mid = c.post(f"/api/sessions/{sid}/memory/run", json={"program": "answer(count(all_objects()))"}).json()
        assert int(mid["answer_text"]) == c.get(f"/api/sessions/{sid}/memory").json()["summary"]["n_instances"] > 0
        # the other session saw nothing: sessions are isolated
        assert c.get(f"/api/sessions/{other}").json()["n_frames"] == 0
        assert c.post(f"/api/sessions/{other}/memory/run", json={"program": "answer(count(all_objects()))"}
                      ).json()["answer_text"] == "0"
        saved = c.post(f"/api/sessions/{sid}/save", json={}).json()
        assert saved["name"] == "live-tiny" and saved["n_frames"] == 20
        assert len(load_memory(tmp_path / "live-tiny").instances) == int(mid["answer_text"])
        for row in rows[20:30]:  # keep streaming; shutdown saves again
            files, data = frame_parts(tiny_scene, row)
            c.post(f"/api/sessions/{sid}/frames", files=files, data=data)
    assert load_memory(tmp_path / "live-tiny").metadata["n_frames"] == 30
    assert not (tmp_path / f"session-{other}").exists()  # an empty session is not saved


def test_frame_errors_and_limits(tmp_path, served, tiny_scene):
    rows = scene_rows(tiny_scene)
    lim = ServerLimits(max_sessions=2, max_frame_pixels=96 * 72)
    with TestClient(make_app(served, save_root=tmp_path, limits=lim)) as c:
        sid = _open(c, tiny_scene)
        files, data = frame_parts(tiny_scene, rows[0])
        assert c.post(f"/api/sessions/{sid}/frames", files=files, data=data).status_code == 200
        again = c.post(f"/api/sessions/{sid}/frames", files=files, data=data)
        assert again.status_code == 409 and again.json()["title"] == "Frame out of order"
        files, data = frame_parts(tiny_scene, rows[1])
        assert c.post(f"/api/sessions/{sid}/frames", files=files, data={"meta": "{nope"}).status_code == 400
        bad_meta = json.dumps({"index": 1, "wings": 2})
        assert c.post(f"/api/sessions/{sid}/frames", files=files, data={"meta": bad_meta}).status_code == 400
        assert c.post(f"/api/sessions/{sid}/frames", files={"rgb": ("x.png", b"not an image")},
                      data=data).status_code == 400
        big = io.BytesIO()
        Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(big, format="PNG")
        r = c.post(f"/api/sessions/{sid}/frames", files={"rgb": ("big.png", big.getvalue())}, data=data)
        assert r.status_code == 413 and "pixels" in r.json()["detail"]
        no_depth = {"rgb": files["rgb"]}
        r = c.post(f"/api/sessions/{sid}/frames", files=no_depth, data=data)
        assert r.status_code == 400 and "given" in r.json()["detail"]  # the given backend needs depth
        assert c.post(f"/api/sessions/{sid}/frames", data=data).status_code == 422  # no rgb
        assert c.post("/api/sessions", json={"geometry": "crystal-ball"}).status_code == 400
        _open(c, tiny_scene)
        r = c.post("/api/sessions", json=session_body(tiny_scene))
        assert r.status_code == 429 and r.json()["title"] == "Too many sessions"
        assert c.delete(f"/api/sessions/{sid}", params={"save": True}).json()["saved"] == f"session-{sid}"
        assert c.get(f"/api/sessions/{sid}").status_code == 404
        assert c.post("/api/sessions", json={**session_body(tiny_scene), "name": "../x"}).status_code == 400
        assert c.post("/api/sessions", json=session_body(tiny_scene)).status_code == 201
    assert load_memory(tmp_path / f"session-{sid}").metadata["n_frames"] == 1


class GroundTruthGeometry:
    """Test backend: pose, depth and instance masks of a synthetic scene's frame k (video frames carry rgb only)."""

    scene = None

    def __init__(self, config=None) -> None:
        self.source = open_source(self.scene)

    def process(self, frame):
        gt = self.source.read(frame.index)
        return dataclasses.replace(frame, world_from_camera=gt.world_from_camera, depth_m=gt.depth_m,
                                   instance_ids=gt.instance_ids, instance_labels=gt.instance_labels)


@pytest.fixture()
def gt_backend(tiny_scene, monkeypatch):
    mod = types.ModuleType("_spatialmem_test_backends")
    GroundTruthGeometry.scene = tiny_scene
    mod.GroundTruthGeometry = GroundTruthGeometry
    monkeypatch.setitem(sys.modules, mod.__name__, mod)
    registry.register("geometry", "test-ground-truth", f"{mod.__name__}:GroundTruthGeometry")
    yield "test-ground-truth"
    registry.unregister("geometry", "test-ground-truth")


def test_video_upload(tmp_path, served, tiny_scene, gt_backend):
    video = (tiny_scene / "video.mp4").read_bytes()
    with TestClient(make_app(served, save_root=tmp_path)) as c:
        sid = _open(c, tiny_scene, geometry=gt_backend)
        r = c.post(f"/api/sessions/{sid}/video", files={"video": ("walk.mp4", video, "video/mp4")})
        assert r.status_code == 200, r.text
        assert r.json()["frames_added"] == r.json()["n_frames"] == len(scene_rows(tiny_scene))
        assert c.get(f"/api/sessions/{sid}/memory").json()["summary"]["n_instances"] > 0
        plain = _open(c, tiny_scene)  # the given backend: a video has no depth -> a clear 400
        r = c.post(f"/api/sessions/{plain}/video", files={"video": ("walk.mp4", video, "video/mp4")})
        assert r.status_code == 400 and "geometry backend" in r.json()["detail"]
        r = c.post(f"/api/sessions/{plain}/video", files={"video": ("junk.mp4", b"\x00" * 100, "video/mp4")})
        assert r.status_code == 400
