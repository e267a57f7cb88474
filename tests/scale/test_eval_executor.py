"""``eval --executor``: one task per scene on a process pool or Ray gives the rows of the in-process run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatialmem.bench.runner import EvalConfig, run_eval


def rows(out: Path) -> dict[str, dict]:
    got = {}
    for line in (out / "predictions.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        row.pop("timings")
        assert row["id"] not in got, f"{row['id']} written twice"
        got[row["id"]] = row
    return got


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_eval_on_an_executor_matches_the_in_process_run(bench_layout, memories, tmp_path, executor):
    questions = bench_layout / "test.parquet"
    run_eval(EvalConfig(questions, memories, tmp_path / "here", planner="template", chart=False))
    res = run_eval(EvalConfig(questions, memories, tmp_path / "pool", planner="template", chart=False,
                              executor=executor, workers=2))
    here, pool = rows(tmp_path / "here"), rows(tmp_path / "pool")
    assert len(here) == res.answered > 30
    diffs = {(i, f): (here[i][f], pool[i].get(f)) for i in here for f in here[i] if here[i][f] != pool[i].get(f)}
    assert not diffs and pool.keys() == here.keys(), diffs
