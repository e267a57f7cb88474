"""A 300-frame synthetic scene streamed into a live session; questions at frames 100, 200 and 300 must get
exactly the answers the CLI gives on a memory ingested from the same prefix of frames."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from spatialmem import cli
from spatialmem.synth.writer import SynthConfig, write_scene

from .conftest import frame_parts, make_app, scene_rows, session_body

pytestmark = pytest.mark.slow

PROGRAMS = ("answer(count(all_objects()))", "answer(room_area())", "answer(categories())",
            'answer(count(objects("plant")))')


def _cli(capsys, args) -> tuple[int, dict]:
    capsys.readouterr()
    code = cli.main([str(a) for a in args])
    return code, json.loads(capsys.readouterr().out)


def test_live_session_matches_cli_prefixes(tmp_path, capsys):
    # 128x96 keeps it quick; the memory still grows between the checkpoints (objects keep appearing)
    scene = write_scene(tmp_path / "scenes", 3, SynthConfig(num_frames=300, fps=10.0, width=128, height=96))
    rows = scene_rows(scene)
    questions = [json.loads(x) for x in (scene / "questions.jsonl").read_text().splitlines() if x.strip()]
    wanted = ("object_counting", "room_size_estimation", "object_abs_distance", "object_rel_direction_easy")
    asked = [next(q for q in questions if q["question_type"] == t) for t in wanted
             if any(q["question_type"] == t for q in questions)]
    assert len(asked) >= 3
    seen_counts = []
    with TestClient(make_app(tmp_path, save_root=tmp_path / "saved")) as c:
        sid = c.post("/api/sessions", json=session_body(scene)).json()["session"]
        for k, row in enumerate(rows, start=1):
            files, data = frame_parts(scene, row)
            assert c.post(f"/api/sessions/{sid}/frames", files=files, data=data).status_code == 200
            if k not in (100, 200, 300):
                continue
            mem = tmp_path / f"prefix{k}"
            assert cli.main(["ingest", str(scene), "--out", str(mem), "--max-frames", str(k)]) == 0
            for program in PROGRAMS:
                got = c.post(f"/api/sessions/{sid}/memory/run", json={"program": program}).json()
                code, want = _cli(capsys, ["run", mem, "-e", program, "--json"])
                assert code == 0 and got["answer_text"] == want["answer_text"], (k, program)
            for q in asked:
                got = c.post(f"/api/sessions/{sid}/memory/ask", json={
                    "question": q["question"], "options": q["options"], "question_type": q["question_type"],
                    "planner": "template"}).json()
                args = ["ask", mem, q["question"], "--planner", "template", "--question-type", q["question_type"],
                        "--json"] + [x for o in q["options"] for x in ("--options", o)]
                _, want = _cli(capsys, args)
                assert (got["ok"], got["answer"], got["program"]) == (want["ok"], want["answer"], want["program"]), \
                    (k, q["question"])
            seen_counts.append(c.post(f"/api/sessions/{sid}/memory/run",
                                      json={"program": PROGRAMS[0]}).json()["answer_text"])
    assert len(set(seen_counts)) > 1  # the answers changed as the stream went on
