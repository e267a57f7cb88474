"""``spatialmem ask`` and ``spatialmem eval`` commands (typer test runner on the qa commands)."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from spatialmem.commands import qa
from spatialmem.errors import InputError, PlanningError
from spatialmem.memory import store


@pytest.fixture
def invoke():
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    qa.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_ask_prints_answer_program_and_json(tmp_path, make_memory, invoke):
    mem = tmp_path / "mem"
    store.save_memory(make_memory("scene_a"), mem)
    res = invoke("ask", mem, "How many chair(s) are in this room?")
    assert res.exit_code == 0, res.output
    assert 'answer(count(objects("chair")))' in res.output and "answer 2" in res.output
    res = invoke("ask", mem, "If I am standing by the sofa and facing the tv, is the lamp to the left or the right "
                 "of the tv?", "-o", "A. left", "-o", "B. right", "--json")
    rec = json.loads(res.output)
    assert rec["answer"] == "B" and rec["ok"] and rec["planner"] == "template"
    res = invoke("ask", mem, "What colour is the sofa?")
    assert isinstance(res.exception, PlanningError) and "cannot plan" in str(res.exception)
    res = invoke("ask", mem, "What colour is the sofa?", "--json")
    assert res.exit_code == PlanningError.exit_code and json.loads(res.output)["error_kind"] == "planning"


def test_eval_command_writes_results_and_resumes(bench_dir, make_memory, invoke):
    root, qfile, mem = bench_dir
    store.save_memory(make_memory("scene_a"), mem / "scene_a")
    out = root / "results"
    res = invoke("eval", qfile, "--memories", mem, "--out", out, "--workers", 2)
    assert res.exit_code == 0, res.output
    assert "overall" in res.output and "answered 6 (failed 3)" in res.output
    assert {p.name for p in out.iterdir()} >= {"predictions.jsonl", "summary.json", "results.md", "scores.png"}
    res = invoke("eval", qfile, "--memories", mem, "--out", out)
    assert res.exit_code == 0 and "skipped 6 already done" in res.output
    res = invoke("eval", qfile, "--memories", mem, "--out", out, "--planner", "llm")
    assert isinstance(res.exception, InputError) and "--llm-model" in str(res.exception)


def test_eval_defaults_to_chain_which_is_template_without_llm(bench_dir, make_memory, invoke):
    root, qfile, mem = bench_dir
    store.save_memory(make_memory("scene_a"), mem / "scene_a")
    out = root / "results"
    res = invoke("eval", qfile, "--memories", mem, "--out", out, "--no-chart")
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["meta"]["planner"] == "chain"
    assert not (out / "transcripts").exists()
    rows = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    assert {r["planner"] for r in rows if r["ok"]} == {"template"}


def test_ask_other_failure_exits_1(tmp_path, make_memory, invoke, monkeypatch):
    from spatialmem.agent import base
    from spatialmem.errors import SpatialMemError

    class EmptyAnswer:
        name = "empty"

        def plan(self, question, memory_summary, memory=None):
            return base.Plan('answer("")', "empty")

    monkeypatch.setattr(base, "build_planner", lambda name, config=None: EmptyAnswer())
    mem = tmp_path / "mem"
    store.save_memory(make_memory("scene_a"), mem)
    res = invoke("ask", mem, "anything", "--json")
    assert json.loads(res.output)["error_kind"] == "other" and res.exit_code == 1
    res = invoke("ask", mem, "anything")
    assert type(res.exception) is SpatialMemError and res.exception.exit_code == 1
