"""``vsibench`` end to end on a VSI-Bench-shaped layout of synthetic scenes: cache, resume, report, Ray."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from spatialmem.bench.vsibench import VsiBenchConfig, find_input, run_vsibench
from spatialmem.cli import main
from spatialmem.errors import InputError
from spatialmem.perception.presets import get_preset
from spatialmem.scale.cache import MemoryCache, content_hash

sys.path.insert(0, str(Path(__file__).parent))
import scale_faults  # noqa: E402


def lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_layout_inputs_are_found(bench_layout):
    assert find_input(bench_layout, "scannet", "scene_00001") == bench_layout / "scannet" / "scene_00001"
    assert find_input(bench_layout, "arkitscenes", "scene_00001") is None
    assert find_input(bench_layout, "scannet", "../scannet") is None


def test_second_run_hits_the_cache_and_a_planner_change_does_not_reingest(bench_layout, reference_run, tmp_path):
    cache = reference_run / "cache"
    first = json.loads((reference_run / "out" / "summary.json").read_text(encoding="utf-8"))
    assert [s["cache"] for s in first["meta"]["scenes"]] == ["miss"] * 3
    assert first["n_questions"] > 30
    memories = sorted(p for p in cache.iterdir() if p.is_dir() and p.name != "hashes")
    assert len(memories) == 3
    stamps = [(p / "memory.sqlite").stat().st_mtime_ns for p in memories]

    second = run_vsibench(VsiBenchConfig(bench_layout / "test.parquet", tmp_path / "r2", cache_dir=cache,
                                         planner="chain", chart=False))
    assert [s["cache"] for s in second.scenes] == ["hit"] * 3
    assert [(p / "memory.sqlite").stat().st_mtime_ns for p in memories] == stamps
    reference = (reference_run / "out" / "predictions.jsonl").read_bytes()
    assert (tmp_path / "r2" / "predictions.jsonl").read_bytes() == reference
    table = (tmp_path / "r2" / "results.md").read_text(encoding="utf-8")
    assert "| scene_00001 | scannet |" in table and "| hit |" in table and "No scene failed." in table


def test_cache_key_follows_content_and_perception(bench_layout, tmp_path):
    cache = MemoryCache(tmp_path / "c")
    scene = bench_layout / "scannet" / "scene_00002"
    given = get_preset("given").fingerprint()
    a = cache.entry("s", scene, given)
    assert a.key == cache.entry("s", scene, dict(reversed(list(given.items())))).key
    assert a.key != cache.entry("s", scene, {**given, "instances_options": {"min_score": 0.5}}).key
    assert a.key != cache.entry("s", bench_layout / "scannet" / "scene_00003", given).key
    assert a.content == content_hash(scene)
    assert (tmp_path / "c" / "hashes").is_dir()  # memoised: an unchanged input is not read again


def test_filters_limit_and_missing_scenes_are_reported(bench_layout, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = pq.read_table(bench_layout / "test.parquet").to_pylist()
    rows.append({**rows[0], "id": "ghost-1", "scene_name": "scene_99999"})
    qfile = bench_layout / "with_ghost.parquet"
    pq.write_table(pa.Table.from_pylist(rows), qfile)
    res = run_vsibench(VsiBenchConfig(qfile, tmp_path / "r", cache_dir=tmp_path / "c", planner="template",
                                      scenes=("scene_00001", "scene_99999"), question_types=("room_size_estimation",),
                                      chart=False))
    preds = lines(tmp_path / "r" / "predictions.jsonl")
    assert {p["scene_name"] for p in preds} == {"scene_00001", "scene_99999"}
    assert {p["question_type"] for p in preds} == {"room_size_estimation"}
    ghost = [s for s in res.scenes if s["scene"] == "scene_99999"]
    assert ghost and ghost[0]["status"] == "failed" and "no video or folder" in ghost[0]["error"]
    assert "1 scene(s) failed." in (tmp_path / "r" / "results.md").read_text(encoding="utf-8")
    limited = run_vsibench(VsiBenchConfig(qfile, tmp_path / "l", cache_dir=tmp_path / "c", planner="template",
                                          limit=5, chart=False))
    assert limited.summary["n_questions"] == 5


def test_a_rerun_redoes_only_what_is_missing(bench_layout, tmp_path):
    cfg = VsiBenchConfig(bench_layout / "test.parquet", tmp_path / "r", cache_dir=tmp_path / "c", planner="template",
                         chart=False)
    run_vsibench(cfg)
    before = (tmp_path / "r" / "predictions.jsonl").read_bytes()
    (tmp_path / "r" / "scenes" / "scannet__scene_00002.jsonl").unlink()  # as if the run died before this scene
    rerun = run_vsibench(cfg, task_fn=scale_faults.crash_once_then_run)
    calls = tmp_path / "calls"
    assert sorted(p.name for p in calls.iterdir()) == ["scannet__scene_00002"]
    assert [s["status"] for s in rerun.scenes] == ["done", "ok", "done"]
    assert (tmp_path / "r" / "predictions.jsonl").read_bytes() == before


@pytest.mark.parametrize("executor", ["local", "ray"])
def test_a_killed_worker_is_retried_and_every_row_is_written_once(bench_layout, reference_run, tmp_path, executor):
    """Ray with a local 2-CPU cluster and the local pool give byte-identical predictions, despite a crash."""
    if executor == "ray":
        import ray.cloudpickle

        ray.cloudpickle.register_pickle_by_value(scale_faults)
    (tmp_path / "crash-once").mkdir()
    (tmp_path / "crash-once" / "scannet__scene_00002").touch()
    res = run_vsibench(VsiBenchConfig(bench_layout / "test.parquet", tmp_path / "r", cache_dir=tmp_path / "c",
                                      planner="template", executor=executor, workers=2, retries=1, chart=False),
                       task_fn=scale_faults.crash_once_then_run)
    assert [s["status"] for s in res.scenes] == ["ok", "ok", "ok"]
    assert len((tmp_path / "calls" / "scannet__scene_00002").read_text().split()) == 2  # crashed, then ran
    preds = lines(tmp_path / "r" / "predictions.jsonl")
    ids = [p["id"] for p in preds]
    assert len(ids) == len(set(ids)) == res.summary["n_questions"]
    for scene in ("scene_00001", "scene_00002", "scene_00003"):
        rows = lines(tmp_path / "r" / "scenes" / f"scannet__{scene}.jsonl")
        assert len(rows) == len({r["id"] for r in rows}) > 0
    reference = (reference_run / "out" / "predictions.jsonl").read_bytes()
    assert (tmp_path / "r" / "predictions.jsonl").read_bytes() == reference


def test_cli_errors_are_clear(bench_layout, tmp_path, capsys):
    assert main(["vsibench", "--questions", str(tmp_path / "nope.parquet"), "--out", str(tmp_path / "o")]) == 2
    assert main(["vsibench", "--questions", str(bench_layout / "test.parquet"), "--out", str(tmp_path / "o"),
                 "--perception", "magic"]) == 2
    assert "unknown perception preset 'magic'" in capsys.readouterr().err
    with pytest.raises(InputError, match="--workers"):
        VsiBenchConfig(bench_layout / "test.parquet", tmp_path / "o", workers=0)


def test_cli_runs_end_to_end_and_exits_nonzero_when_nothing_was_answered(bench_layout, tmp_path, capsys):
    args = ["vsibench", "--questions", str(bench_layout / "test.parquet"), "--cache-dir", str(tmp_path / "c"),
            "--planner", "template", "--no-chart", "--limit", "6"]
    assert main(args + ["--out", str(tmp_path / "ok")]) == 0
    assert "results in" in capsys.readouterr().out
    assert main(args + ["--out", str(tmp_path / "none"), "--videos", str(tmp_path)]) == 10
    assert "every one of the 6 question(s) failed" in capsys.readouterr().err


def test_a_noisy_preset_is_cached_apart_from_given(bench_layout, reference_run, tmp_path):
    def cfg(out: str) -> VsiBenchConfig:
        return VsiBenchConfig(bench_layout / "test.parquet", tmp_path / out, cache_dir=reference_run / "cache",
                              perception="noisy-medium", planner="template", scenes=("scene_00001",), chart=False)

    res = run_vsibench(cfg("n"))
    assert [s["cache"] for s in res.scenes] == ["miss"]
    assert res.summary["meta"]["perception_fingerprint"]["instances_options"] == {"level": "medium"}
    assert [s["cache"] for s in run_vsibench(cfg("n2")).scenes] == ["hit"]
