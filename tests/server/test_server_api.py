"""The HTTP API over a served memory: every memory route, problem details, limits, names and tokens."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from spatialmem import cli
from spatialmem.errors import InputError
from spatialmem.memory.store import load_memory
from spatialmem.server.config import ServerLimits

from .conftest import make_app


@pytest.fixture(scope="module")
def client(served):
    with TestClient(make_app(served)) as c:
        yield c


@pytest.fixture(scope="module")
def memory(served):
    return load_memory(served / "tiny")


def _cli_json(capsys, args) -> tuple[int, dict]:
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    return code, json.loads(capsys.readouterr().out)


def _png(r) -> np.ndarray:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(r.content)))


def _problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_list_and_summary_match_inspect(client, served, capsys):
    assert client.get("/api/memories").json() == [{"name": "tiny", "root": 0}]
    got = client.get("/api/memories/tiny").json()
    code, want = _cli_json(capsys, ["inspect", served / "tiny", "--json"])
    assert code == 0
    for key in ("scene_id", "n_frames", "n_keyframes", "n_points", "categories"):
        assert got[key] == want[key]
    assert [i["id"] for i in got["instances"]] == [i["id"] for i in want["instances"]]
    assert got["summary"]["n_instances"] == len(want["instances"]) > 0


def test_objects_filtered_by_category(client, memory):
    everything = client.get("/api/memories/tiny/objects").json()
    assert len(everything) == len(memory.instances)
    category = everything[0]["category"]
    some = client.get("/api/memories/tiny/objects", params={"category": category}).json()
    assert {o["category"] for o in some} == {category}
    assert [o["id"] for o in some] == [i.id for i in memory.by_category(category)]
    assert all(len(o["corners"]) == 8 for o in some)
    assert client.get("/api/memories/tiny/objects", params={"category": "spaceship"}).json() == []


def test_run_equals_cli(client, served, memory, capsys):
    category = memory.instances[0].category
    program = f'answer(count(objects("{category}")))'
    got = client.post("/api/memories/tiny/run", json={"program": program}).json()
    code, want = _cli_json(capsys, ["run", served / "tiny", "-e", program, "--json"])
    assert code == 0
    assert got["ok"] and got["answer_text"] == want["answer_text"] == str(len(memory.by_category(category)))
    assert got["value_type"] == want["value_type"] and got["trace"] == want["trace"]


def test_checker_failure_has_codes_spans_hints(client, served, capsys):
    program = 'n = count(objects("lamb"))\nanswer(n)'
    body = _problem(client.post("/api/memories/tiny/run", json={"program": program}), 422)
    assert body["stage"] == "check"
    code, want = _cli_json(capsys, ["run", served / "tiny", "-e", program, "--json"])
    assert code == 6
    d = body["diagnostics"][0]
    assert {k: d[k] for k in want["diagnostics"][0]} == want["diagnostics"][0]  # same codes/spans/hints as the CLI
    assert d["code"] == "E240" and (d["line"], d["column"]) == (1, 19) and d["end_column"] == 25
    assert "lamp" in d["hint"]
    assert d["rendered"].splitlines()[2] == "  " + " " * 18 + "^" * 6  # the caret under "lamb"
    syntax = _problem(client.post("/api/memories/tiny/run", json={"program": "answer(("}), 422)
    assert syntax["diagnostics"][0]["code"] == "E100"
    checked = client.post("/api/memories/tiny/check", json={"program": program}).json()
    assert checked["ok"] is False and checked["diagnostics"][0]["code"] == "E240"
    assert client.post("/api/memories/tiny/check", json={"program": "answer(1)"}).json() == {"ok": True,
                                                                                           "diagnostics": []}


def test_runtime_error_and_timeout(client, served, memory):
    cats = memory.categories()
    plural = next((c for c, n in cats.items() if n > 1), None)
    if plural is not None:
        body = _problem(client.post("/api/memories/tiny/run", json={"program": f'answer(the("{plural}"))'}), 422)
        assert body["stage"] == "runtime" and body["diagnostics"][0]["code"] == "R400"
    with TestClient(make_app(served, limits=ServerLimits(run_timeout_s=0.0))) as slow:
        body = _problem(slow.post("/api/memories/tiny/run", json={"program": "answer(count(all_objects()))"}), 408)
        assert body["diagnostics"][0]["code"] == "R411"


def test_bad_requests(client):
    r = client.post("/api/memories/tiny/run", content=b'{"program": ', headers={"content-type": "application/json"})
    assert _problem(r, 400)["title"] == "Malformed JSON"
    assert _problem(client.post("/api/memories/tiny/run", json={"program": 3}), 422)["errors"][0]["loc"] == [
        "body", "program"]
    _problem(client.post("/api/memories/tiny/run", json={"program": "answer(1)", "evil": 1}), 422)
    _problem(client.post("/api/memories/tiny/run", json={"program": "x" * 20_001}), 413)
    _problem(client.get("/api/memories/tiny/objects/99999/keyframe.png"), 404)
    _problem(client.get("/api/memories/tiny/keyframes/99999.png"), 404)
    _problem(client.get("/api/memories/tiny/view.png", params={"x": 1, "y": 1, "facing_x": 0, "facing_y": 0}), 400)
    _problem(client.get("/api/memories/tiny/topdown.png", params={"width": 100000}), 422)
    _problem(client.get("/api/nothing-here"), 404)


def test_ask_with_planners(client, served, memory, capsys):
    category = memory.instances[0].category
    q = f"How many {category}(s) are in this room?"
    got = client.post("/api/memories/tiny/ask", json={"question": q, "planner": "template"}).json()
    code, want = _cli_json(capsys, ["ask", served / "tiny", q, "--planner", "template", "--json"])
    assert code == 0 and got["ok"] and got["answer"] == want["answer"] == str(len(memory.by_category(category)))
    assert got["program"] == want["program"]
    _problem(client.post("/api/memories/tiny/ask", json={"question": q, "planner": "oracle"}), 400)
    bad = client.post("/api/memories/tiny/ask", json={"question": "Why?", "planner": "template"}).json()
    assert bad["ok"] is False and bad["error_kind"] == "planning"


def test_renders(client, memory):
    top = _png(client.get("/api/memories/tiny/topdown.png", params={"width": 300}))
    assert top.shape[1] == 300 and top.shape[2] == 3
    box = memory.instances[0].box
    view = _png(client.get("/api/memories/tiny/view.png", params={
        "x": float(box.center[0]) - 1.5, "y": float(box.center[1]), "facing_x": 1, "facing_y": 0,
        "width": 160, "height": 120}))
    assert view.shape == (120, 160, 3) and view.std() > 0  # something drawn over the background
    shown = next(i for i in memory.instances if i.keyframe_indices)
    kf = _png(client.get(f"/api/memories/tiny/objects/{shown.id}/keyframe.png"))
    stored = {k.frame_index: k.rgb for k in memory.keyframes}
    assert np.array_equal(kf, stored[shown.keyframe_indices[0]])
    k0 = memory.keyframes[0]
    thumb = _png(client.get(f"/api/memories/tiny/keyframes/{k0.frame_index}.png", params={"width": 32}))
    assert thumb.shape[1] == 32
    with TestClient(make_app(client.app.state.config.roots[0], limits=ServerLimits(max_frame_pixels=10_000))) as c:
        _problem(c.get("/api/memories/tiny/view.png", params={"x": 0, "y": 0, "facing_x": 1, "facing_y": 0}), 413)


def test_scene_json(client, memory):
    s = client.get("/api/memories/tiny/scene", params={"max_points": 500}).json()
    assert [o["id"] for o in s["objects"]] == [i.id for i in memory.instances]
    assert len(s["points"]["positions"]) == 3 * min(500, len(memory.points_world)) == len(s["points"]["colors"])
    assert s["points"]["total"] == len(memory.points_world)
    assert len(s["cameras"]) == len(memory.cameras) and len(s["keyframes"]) == len(memory.keyframes)
    c = np.array(s["objects"][0]["corners"])
    np.testing.assert_allclose(c.mean(axis=0), memory.instances[0].box.center, atol=1e-3)


def test_names_cannot_leave_the_roots(client, served, tmp_path):
    for name in ("%2E%2E", ".hidden", "a%20b"):
        assert _problem(client.get(f"/api/memories/{name}"), 400)["title"] == "Invalid name"
    for path in ("/api/memories/..%2F..%2Fetc", "/api/memories/not-a-memory", "/api/memories/missing"):
        assert client.get(path).status_code == 404
    outside = tmp_path / "outside"
    (outside / "mem").mkdir(parents=True)
    (outside / "mem" / "memory.sqlite").write_bytes((served / "tiny" / "memory.sqlite").read_bytes())
    link = served / "escape"
    os.symlink(outside / "mem", link)
    try:
        assert client.get("/api/memories/escape").status_code == 404
        assert "escape" not in [m["name"] for m in client.get("/api/memories").json()]
    finally:
        link.unlink()


def test_upload_size_limit(served):
    with TestClient(make_app(served, limits=ServerLimits(max_upload_bytes=1000))) as c:
        body = json.dumps({"program": "answer(1)" + " " * 2000}).encode()
        r = c.post("/api/memories/tiny/run", content=body, headers={"content-type": "application/json"})
        assert _problem(r, 413)["title"] == "Payload too large"

        def chunks():  # no content-length: the limit is enforced while the body streams in
            yield b'{"program": "answer(1)'
            for _ in range(20):
                yield b" " * 100
            yield b'"}'

        r = c.post("/api/memories/tiny/run", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413, r.text
        ok = c.post("/api/memories/tiny/run", json={"program": "answer(1)"})
        assert ok.status_code == 200


def test_token(served):
    with pytest.raises(InputError, match="--token"):
        make_app(served, host="0.0.0.0")
    with TestClient(make_app(served, host="0.0.0.0", token="s3cret-token")) as c:
        r = c.get("/api/memories")
        assert _problem(r, 401)["title"] == "Unauthorized" and r.headers["www-authenticate"] == "Bearer"
        _problem(c.get("/api/memories", headers={"Authorization": "Bearer wrong-token"}), 401)
        _problem(c.get("/"), 401)
        assert c.get("/api/memories", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200
        assert c.get("/", params={"access_token": "s3cret-token"}).status_code == 200
        with pytest.raises(Exception):  # noqa: B017 - the WebSocket handshake is refused
            with c.websocket_connect("/api/sessions/x/events"):
                pass


def test_openapi_docs(client):
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    for p in ("/api/memories", "/api/memories/{name}/run", "/api/memories/{name}/ask", "/api/sessions",
              "/api/sessions/{sid}/frames", "/api/sessions/{sid}/video", "/api/sessions/{sid}/memory/run"):
        assert p in paths
    assert client.get("/docs").status_code == 200
    html = client.get("/").text
    assert "/static/vendor/three.module.min.js" in html and "http" not in html.split("importmap")[1][:80]
