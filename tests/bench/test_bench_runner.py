"""The evaluation runner: scoring, failure recording, resumability, workers, report files."""

from __future__ import annotations

import json

import pytest

from spatialmem.agent.template import TemplatePlanner
from spatialmem.bench.report import read_predictions
from spatialmem.bench.runner import EvalConfig, run_eval
from spatialmem.errors import InputError
from spatialmem.memory import store


class CountingPlanner(TemplatePlanner):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def plan(self, question, memory_summary=None, memory=None):
        self.calls += 1
        return super().plan(question, memory_summary, memory)


def test_run_records_failures_and_scores(bench_dir, loader):
    root, qfile, mem = bench_dir
    out = root / "results"
    res = run_eval(EvalConfig(qfile, mem, out), memory_loader=loader)
    rows = read_predictions(out / "predictions.jsonl")
    assert set(rows) == {"a1", "a2", "a3", "a4", "b1", "c1"}
    assert rows["a1"]["ok"] and rows["a1"]["prediction"] == "2" and rows["a1"]["score"] == 1.0
    assert rows["a1"]["program"] == 'answer(count(objects("chair")))'
    assert rows["a2"]["prediction"] == "25" and rows["a2"]["score"] == pytest.approx(0.6)  # rel 0.25
    assert rows["a3"]["prediction"] == "B" and rows["a3"]["score"] == 1.0  # lamp at x=3.5 is right of the view
    assert rows["a4"]["error_kind"] == "planning" and rows["a4"]["score"] == 0.0
    assert rows["b1"]["error_kind"] == "memory" and "no memory for scene 'scene_b'" in rows["b1"]["error"]
    assert rows["c1"]["error_kind"] == "input" and "field 'question'" in rows["c1"]["error"]
    assert res.answered == 6 and res.failed_now == 3 and res.skipped == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_questions"] == 6 and summary["failures"] == {"planning": 1, "memory": 1, "input": 1}
    # counting: a1 1.0, a4 0, b1 0, c1 0 -> 0.25; room 0.6; rel direction easy 1.0
    assert summary["method"]["per_task"]["object_counting"] == pytest.approx(0.25)
    assert summary["method"]["overall"] == pytest.approx((0.25 + 0.6 + 1.0) / 3)
    table = (out / "results.md").read_text()
    assert "| object_counting | 4 | 25.0 |" in table and "**overall**" in table
    assert (out / "scores.png").stat().st_size > 1000


def test_resume_skips_done_ids_and_retry_failed(bench_dir, loader):
    root, qfile, mem = bench_dir
    out = root / "results"
    first = CountingPlanner()
    run_eval(EvalConfig(qfile, mem, out), memory_loader=loader, planner=first)
    assert first.calls == 4  # b1 (no memory) and row-6 (malformed) never reach the planner
    lines_before = (out / "predictions.jsonl").read_text().splitlines()
    second = CountingPlanner()
    res = run_eval(EvalConfig(qfile, mem, out), memory_loader=loader, planner=second)
    assert second.calls == 0 and res.answered == 0 and res.skipped == 6
    assert (out / "predictions.jsonl").read_text().splitlines() == lines_before
    (mem / "scene_b").mkdir()
    third = CountingPlanner()
    res = run_eval(EvalConfig(qfile, mem, out, retry_failed=True), memory_loader=loader, planner=third)
    assert third.calls == 2  # a4 and b1 again; c1 stays malformed
    assert read_predictions(out / "predictions.jsonl")["b1"]["score"] == 1.0


def test_resume_after_interrupted_write(bench_dir, loader):
    root, qfile, mem = bench_dir
    out = root / "results"
    out.mkdir()
    (out / "predictions.jsonl").write_text(
        json.dumps({"id": "a1", "ok": True, "score": 1.0, "question_type": "object_counting"}) + "\n"
        + '{"id": "a2", "ok'
    )
    planner = CountingPlanner()
    run_eval(EvalConfig(qfile, mem, out, limit=10), memory_loader=loader, planner=planner)
    assert planner.calls == 3  # a1 was done; a2 (cut short), a3, a4 are answered
    rows = read_predictions(out / "predictions.jsonl")
    assert rows["a2"]["prediction"] == "25"


def test_workers_give_the_same_predictions(bench_dir, loader):
    root, qfile, mem = bench_dir
    run_eval(EvalConfig(qfile, mem, root / "one"), memory_loader=loader)
    run_eval(EvalConfig(qfile, mem, root / "two", workers=3), memory_loader=loader)
    one = {k: v["prediction"] for k, v in read_predictions(root / "one" / "predictions.jsonl").items()}
    two = {k: v["prediction"] for k, v in read_predictions(root / "two" / "predictions.jsonl").items()}
    assert one == two


def test_default_loader_reads_the_store(bench_dir, make_memory):
    root, qfile, mem = bench_dir
    store.save_memory(make_memory("scene_a"), mem / "scene_a")
    run_eval(EvalConfig(qfile, mem, root / "results"))
    assert read_predictions(root / "results" / "predictions.jsonl")["a1"]["prediction"] == "2"


def test_bad_settings(bench_dir, loader):
    root, qfile, mem = bench_dir
    with pytest.raises(InputError, match="--workers"):
        EvalConfig(qfile, mem, root / "r", workers=0)
    with pytest.raises(InputError, match="is not a folder"):
        run_eval(EvalConfig(qfile, root / "nope", root / "r"))
