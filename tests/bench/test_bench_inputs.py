"""Question files and output folders that used to crash eval: each now gets a clear error or a row error."""

from __future__ import annotations

import json
import multiprocessing
import os
import time

import pytest
import typer
from typer.testing import CliRunner

from spatialmem.bench.data import load_questions
from spatialmem.bench.report import read_predictions
from spatialmem.bench.runner import EvalConfig, run_eval
from spatialmem.commands import qa
from spatialmem.errors import InputError, NothingAnsweredError
from spatialmem.fsutil import folder_lock

GOOD = {"id": "g1", "scene_name": "scene_a", "question_type": "object_counting",
        "question": "How many chair(s) are in this room?", "options": [], "ground_truth": "2"}


def _line(**kw) -> bytes:
    return (json.dumps({**GOOD, **kw}) + "\n").encode("utf-8")


def test_jsonl_non_utf8_row_is_a_row_error_and_bom_is_accepted(tmp_path):
    q = tmp_path / "q.jsonl"
    bad = b'{"id": "b1", "scene_name": "scene_a", "question": "caf\xe9?", "ground_truth": "1"}\n'
    deep = b"[" * 100_000 + b"]" * 100_000 + b"\n"
    q.write_bytes(b"\xef\xbb\xbf" + _line() + bad + deep + _line(id="g2"))
    res = load_questions(q)
    assert [x.id for x in res.questions] == ["g1", "g2"]  # the BOM did not spoil row 1
    assert [(e.row, e.field) for e in res.errors] == [(2, "<encoding>"), (3, "<json>")]
    assert "not UTF-8 text (byte 0xe9" in res.errors[0].message and str(q) in res.errors[0].message
    assert "nested too deeply" in res.errors[1].message


def test_csv_non_utf8_row_is_a_row_error(tmp_path):
    q = tmp_path / "q.csv"
    q.write_bytes(b"\xef\xbb\xbfid,scene_name,question_type,question,options,ground_truth\n"
                  b"c1,scene_a,object_counting,How many chair(s) are in this room?,,2\n"
                  b"c2,scene_a,object_counting,How many caf\xe9 chairs?,,2\n")
    res = load_questions(q)
    assert [x.id for x in res.questions] == ["c1"]
    (err,) = res.errors
    assert err.row == 3 and "'question'" in err.message and "not UTF-8" in err.message


def test_directory_as_question_file_is_named_as_a_directory(tmp_path):
    with pytest.raises(InputError, match="is a directory, not a file"):
        load_questions(tmp_path)


def test_eval_out_that_is_a_file_is_refused(bench_dir, loader):
    root, qfile, mem = bench_dir
    out = root / "results"
    out.write_text("not a folder")
    with pytest.raises(InputError, match="exists and is a file"):
        run_eval(EvalConfig(qfile, mem, out), memory_loader=loader)


def _hold_lock(folder: str, ready, release) -> None:
    from pathlib import Path

    with folder_lock(Path(folder)):
        ready.set()
        release.wait(30)


def test_second_eval_on_one_out_folder_is_refused_while_the_first_runs(bench_dir, loader):
    root, qfile, mem = bench_dir
    out = root / "results"
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(out), ready, release))
    holder.start()
    try:
        assert ready.wait(60)
        with pytest.raises(InputError, match=rf"in use by another spatialmem eval \(process {holder.pid}\)"):
            run_eval(EvalConfig(qfile, mem, out), memory_loader=loader)
        assert not (out / "predictions.jsonl").exists()
    finally:
        release.set()
        holder.join(30)
    run_eval(EvalConfig(qfile, mem, out), memory_loader=loader)  # the lock went with its process
    assert len(read_predictions(out / "predictions.jsonl")) == 6


def test_folder_lock_is_released_by_a_killed_process(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    ready, release = ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_lock, args=(str(tmp_path), ready, release))
    holder.start()
    assert ready.wait(60)
    os.kill(holder.pid, 9)
    holder.join(30)
    t0 = time.perf_counter()
    with folder_lock(tmp_path):
        assert time.perf_counter() - t0 < 1.0


@pytest.fixture
def invoke():
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """test root"""

    qa.register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, [str(a) for a in args])


def test_eval_with_nothing_answered_exits_10(tmp_path, invoke):
    q = tmp_path / "q.jsonl"
    q.write_bytes(_line(id="x1") + _line(id="x2"))
    (tmp_path / "memories").mkdir()  # no memory for scene_a: every question fails
    res = invoke("eval", q, "--memories", tmp_path / "memories", "--out", tmp_path / "out", "--no-chart")
    assert isinstance(res.exception, NothingAnsweredError) and NothingAnsweredError.exit_code == 10
    assert "not one of the 2 question(s) was answered" in str(res.exception)
    assert len(read_predictions(tmp_path / "out" / "predictions.jsonl")) == 2  # the failures are still recorded
