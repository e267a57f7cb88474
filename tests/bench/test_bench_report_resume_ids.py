"""Scoring over official tasks, UTF-8 safe resume of predictions, and ids shared by malformed rows."""

from __future__ import annotations

import json

import pytest

from spatialmem.bench.data import load_questions
from spatialmem.bench.report import PredictionWriter, markdown_table, read_predictions, summarize
from spatialmem.bench.runner import EvalConfig, run_eval


def _row(qid, qtype, score, ok=True, **extra):
    return {"id": qid, "question_type": qtype, "score": score, "ok": ok, "ground_truth": "1", "options": [],
            **extra}


def test_summary_overall_uses_only_official_tasks():
    rows = [
        _row("a", "object_counting", 1.0),
        _row("b", "room_size_estimation", 0.5),
        _row("c", "", 0.0, ok=False, error_kind="input"),  # malformed: no question type
        _row("d", "my_custom_type", 1.0),
    ]
    s = summarize(rows)
    assert s["method"]["overall"] == pytest.approx(0.75)
    assert set(s["method"]["per_task"]) == {"object_counting", "room_size_estimation"}
    assert s["method"]["other"] == {"my_custom_type": 1.0, "unknown": 0.0}
    table = markdown_table(s)
    assert "| **overall** | 2 | **75.0** |" in table
    assert "| other: unknown | 1 | 0.0 |" in table and "| other: my_custom_type | 1 | 100.0 |" in table


def test_predictions_are_ascii_and_resume_survives_cut_utf8(tmp_path):
    path = tmp_path / "predictions.jsonl"
    with PredictionWriter(path) as w:
        w.write(_row("a", "object_counting", 1.0, question="Wie groß ist das Sofa? ☃"))
    text = path.read_bytes()
    assert text.isascii() and read_predictions(path)["a"]["question"].endswith("☃")
    # a run killed in the middle of a (non-ASCII, older-format) line: partial UTF-8 at the end of the file
    cut = json.dumps(_row("b", "object_counting", 1.0, question="☃☃"), ensure_ascii=False).encode()
    path.write_bytes(text + cut[: cut.index("☃".encode()) + 1])
    assert set(read_predictions(path)) == {"a"}
    with PredictionWriter(path) as w:
        w.write(_row("c", "object_counting", 0.0))
    assert set(read_predictions(path)) == {"a", "c"}


def _write_questions(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_malformed_row_sharing_an_id_is_not_double_counted(bench_dir, loader):
    root, _qfile, mem = bench_dir
    good = {"id": "a1", "scene_name": "scene_a", "question_type": "object_counting",
            "question": "How many chair(s) are in this room?", "options": [], "ground_truth": "2"}
    bad = {**good, "question": ""}
    for order in ([bad, good], [good, bad]):
        qfile = root / "q.jsonl"
        _write_questions(qfile, order)
        loaded = load_questions(qfile)
        assert [q.id for q in loaded.questions] == ["a1"]
        assert len(loaded.errors) == 1 and loaded.errors[0].id != "a1" and loaded.errors[0].id.startswith("a1@row")
        out = root / f"out{order[0] is good}"
        res = run_eval(EvalConfig(qfile, mem, out), memory_loader=loader)
        rows = read_predictions(out / "predictions.jsonl")
        assert rows["a1"]["ok"] and rows["a1"]["score"] == 1.0
        assert res.summary["n_questions"] == 2 and res.summary["method"]["counts"]["object_counting"] == 2
        assert res.summary["method"]["per_task"]["object_counting"] == pytest.approx(0.5)
