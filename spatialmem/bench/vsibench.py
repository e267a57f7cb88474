"""``spatialmem vsibench``: VSI-Bench from its official layout, one task per scene, with a memory cache.

Layout (the benchmark's own)::

    VIDEOS/arkitscenes/<scene>.mp4     VIDEOS/scannet/<scene>.mp4     VIDEOS/scannetpp/<scene>.mp4
    VIDEOS/<dataset>/<scene>/          (instead of a video: any folder ``spatialmem ingest`` reads)
    test.parquet                       (or .jsonl / .csv) the questions, next to the dataset folders

Each scene the selected questions need becomes one executor task (:mod:`spatialmem.scale.executors`):
hash the input, take its memory from the cache (:mod:`spatialmem.scale.cache`) or ingest it with the
perception preset, answer the scene's pending questions with the planner and score them. The task
returns its rows; the calling process writes them to ``OUT/scenes/<dataset>__<scene>.jsonl``
(atomically, per scene), so a rerun after a crash redoes only the scenes and questions still missing.
At the end ``OUT/predictions.jsonl`` is assembled in question order without timings (so two runs
with different executors give byte-identical files), per-question timings go to
``OUT/timings.jsonl``, and the usual report (``summary.json``, ``results.md``, ``scores.png``) gains a
per-scene table: cache hit or miss, ingest and answer seconds, attempts, and any failure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatialmem.agent.base import PlannerConfig
from spatialmem.bench.data import BenchQuestion, load_questions
from spatialmem.bench.report import PREDICTIONS, atomic_write_text, read_predictions, write_report
from spatialmem.errors import InputError
from spatialmem.perception.presets import PerceptionPreset, get_preset
from spatialmem.scale.cache import MemoryCache
from spatialmem.scale.executors import DEFAULT_RETRIES, Resources, Task, TaskOutcome

DATASETS: tuple[str, ...] = ("arkitscenes", "scannet", "scannetpp")
VIDEO_SUFFIXES: tuple[str, ...] = (".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v")
SCENES_DIR = "scenes"
TIMINGS = "timings.jsonl"
TIMING_FIELDS: tuple[str, ...] = ("timings",)


@dataclass(frozen=True)
class VsiBenchConfig:
    """One ``vsibench`` run.

    Attributes:
        questions: question file (.parquet / .jsonl / .csv, VSI-Bench schema with ``dataset``).
        out: results folder (reused: a rerun redoes only what is missing).
        videos: the folder holding ``<dataset>/<scene>.mp4`` or ``<dataset>/<scene>/``; default: the
            question file's folder.
        perception: a preset name (:data:`spatialmem.perception.presets.PRESETS`).
        planner, planner_config: how questions become programs.
        executor: registry name (``local`` or ``ray``); workers: processes (local) or CPUs (local Ray).
        ray_address: an existing Ray cluster; None starts Ray locally.
        retries: extra attempts for a failed scene task.
        cache_dir: the memory cache root (None: :func:`spatialmem.scale.cache.default_cache_dir`).
        limit: at most this many questions (after the filters, in file order).
        question_types, scenes: keep only these (empty: all).
        chart: write ``scores.png``.
    """

    questions: Path
    out: Path
    videos: Path | None = None
    perception: str = "given"
    planner: str = "chain"
    planner_config: PlannerConfig = field(default_factory=PlannerConfig)
    executor: str = "local"
    workers: int = 1
    ray_address: str | None = None
    retries: int = DEFAULT_RETRIES
    cache_dir: Path | None = None
    limit: int | None = None
    question_types: tuple[str, ...] = ()
    scenes: tuple[str, ...] = ()
    chart: bool = True

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 0:
            raise InputError(f"--limit must be >= 0, got {self.limit}")
        if self.workers < 1:
            raise InputError(f"--workers must be >= 1, got {self.workers}")
        if self.retries < 0:
            raise InputError(f"--retries must be >= 0, got {self.retries}")


@dataclass(frozen=True)
class SceneJob:
    """Everything one scene task needs (picklable: it crosses into a worker process)."""

    dataset: str
    scene: str
    input_path: str
    questions: tuple[BenchQuestion, ...]
    preset: PerceptionPreset
    cache_dir: str
    planner: str
    planner_config: PlannerConfig

    @property
    def key(self) -> str:
        return scene_key(self.dataset, self.scene)


@dataclass(frozen=True)
class SceneResult:
    """What a scene task returns: scored rows (timings included) and how the memory was obtained."""

    key: str
    rows: tuple[dict, ...]
    cache_hit: bool
    memory_path: str
    hash_s: float
    ingest_s: float
    answer_s: float
    n_frames: int


def scene_key(dataset: str, scene: str) -> str:
    """The file-safe name of a scene in ``OUT/scenes/``: ``<dataset>__<scene>``."""
    return f"{dataset or 'unknown'}__{scene}"


def find_input(videos: Path, dataset: str, scene: str) -> Path | None:
    """The video or folder of ``scene`` under ``videos/<dataset>/`` (None when there is neither)."""
    if not scene or "/" in scene or "\\" in scene or scene in (".", ".."):
        return None
    base = videos / dataset if dataset else videos
    for suffix in VIDEO_SUFFIXES:
        if (base / f"{scene}{suffix}").is_file():
            return base / f"{scene}{suffix}"
    if (base / scene).is_dir():
        return base / scene
    return None


def select_questions(questions: Sequence[BenchQuestion], cfg: VsiBenchConfig) -> list[BenchQuestion]:
    """The questions this run asks: type and scene filters, then ``limit`` in file order."""
    types, scenes = set(cfg.question_types), set(cfg.scenes)
    out = [q for q in questions if (not types or q.question_type in types) and (not scenes or q.scene_name in scenes)]
    return out if cfg.limit is None else out[: cfg.limit]


def ingest_input(input_path: Path, preset: PerceptionPreset):
    """Build the memory of one video or scene folder with a perception preset (no progress output)."""
    from spatialmem.memory.builder import BuilderConfig, build_memory
    from spatialmem.perception.auto import rgb_only_source, with_intrinsics_mode
    from spatialmem.sources import open_source
    from spatialmem.sources.prepare import prepare_source

    raw = open_source(input_path, **rgb_only_source(preset.geometry.name, input_path))
    source = prepare_source(raw)
    config = BuilderConfig(geometry=with_intrinsics_mode(preset.geometry, raw), instances=preset.instances)
    memory = build_memory(source, config, prefetch_frames=0)
    memory.metadata["perception_preset"] = preset.name
    return memory


def run_scene(job: SceneJob) -> SceneResult:
    """One scene task (runs in a worker): cached or fresh memory, then answer and score its questions."""
    from spatialmem.agent.base import build_planner
    from spatialmem.bench.runner import answer_on_memory
    from spatialmem.memory.store import load_memory, save_memory

    t0 = time.perf_counter()
    entry = MemoryCache(Path(job.cache_dir)).entry(job.key, Path(job.input_path), job.preset.fingerprint())
    t1 = time.perf_counter()
    if entry.hit:
        memory = load_memory(entry.path)
    else:
        memory = ingest_input(Path(job.input_path), job.preset)
        memory.metadata["content_sha256"] = entry.content
        save_memory(memory, entry.path, overwrite=True)
    t2 = time.perf_counter()
    planner = build_planner(job.planner, job.planner_config)
    rows = answer_on_memory(job.questions, memory, planner)
    t3 = time.perf_counter()
    n_frames = int(memory.metadata.get("n_frames", len(memory.cameras)))
    return SceneResult(job.key, tuple(rows), entry.hit, str(entry.path), t1 - t0, t2 - t1, t3 - t2, n_frames)


def _write_jsonl(path: Path, rows: Iterable[dict]) -> None:
    """``rows`` as ASCII JSON lines, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=True, default=str) + "\n" for r in rows))


@dataclass
class VsiBenchResult:
    """What a run did."""

    out: Path
    summary: dict[str, Any]
    scenes: list[dict[str, Any]]
    answered: int
    skipped: int


Progress = Callable[[int, int, str], None]


def run_vsibench(cfg: VsiBenchConfig, progress: Progress | None = None,
                 task_fn: Callable[[SceneJob], SceneResult] = run_scene) -> VsiBenchResult:
    """Run the benchmark (see the module docstring).

    Args:
        cfg: the run.
        progress: ``progress(done_questions, total_questions, status_line)`` after each scene.
        task_fn: the scene task (a module-level function; tests wrap :func:`run_scene` to inject faults).

    Raises:
        InputError: a missing question file or videos folder, an unknown preset / executor / planner.
    """
    from spatialmem import registry
    from spatialmem.agent.base import build_planner
    from spatialmem.bench.runner import failure_row

    preset = get_preset(cfg.perception)
    preset.check_available()
    build_planner(cfg.planner, cfg.planner_config)  # a misconfigured planner fails before any work
    videos = cfg.videos if cfg.videos is not None else cfg.questions.parent
    if not videos.is_dir():
        raise InputError(f"--videos {videos} is not a folder (expected {'/, '.join(DATASETS)}/ inside)")
    loaded = load_questions(cfg.questions)
    chosen = select_questions(loaded.questions, cfg)
    cache_dir = cfg.cache_dir if cfg.cache_dir is not None else MemoryCache().root
    executor = registry.build("executor", cfg.executor, workers=cfg.workers, retries=cfg.retries,
                              address=cfg.ray_address)
    out = cfg.out
    out.mkdir(parents=True, exist_ok=True)
    scenes_dir = out / SCENES_DIR

    by_scene: dict[tuple[str, str], list[BenchQuestion]] = {}
    for q in chosen:
        by_scene.setdefault((q.dataset, q.scene_name), []).append(q)
    done_rows: dict[str, dict[str, dict]] = {}
    scene_info: dict[str, dict[str, Any]] = {}
    tasks: list[Task] = []
    skipped = 0
    for (dataset, scene), qs in by_scene.items():
        key = scene_key(dataset, scene)
        previous = read_predictions(scenes_dir / f"{key}.jsonl")
        done_rows[key] = previous
        pending = tuple(q for q in qs if not previous.get(q.id, {}).get("ok"))
        skipped += len(qs) - len(pending)
        info = {"scene": scene, "dataset": dataset, "questions": len(qs), "status": "done", "cache": "-",
                "attempts": 0, "ingest_s": 0.0, "answer_s": 0.0, "error": None}
        scene_info[key] = info
        if not pending:
            continue
        src = find_input(videos, dataset, scene)
        if src is None:
            why = (f"no video or folder for scene {scene!r}: expected {videos / dataset / scene}.mp4 "
                   f"or the folder {videos / dataset / scene}/")
            rows = {q.id: failure_row(q, "memory", why) for q in pending}
            done_rows[key].update(rows)
            _write_jsonl(scenes_dir / f"{key}.jsonl", done_rows[key].values())
            info.update(status="failed", error=why)
            continue
        job = SceneJob(dataset, scene, str(src), pending, preset, str(cache_dir), cfg.planner, cfg.planner_config)
        tasks.append(Task(key, task_fn, (job,), Resources(preset.num_cpus, preset.num_gpus), weight=len(pending)))

    total = sum(t.weight for t in tasks)
    done = 0
    counts = {"hit": 0, "miss": 0, "failed": 0}
    jobs = {t.key: t.args[0] for t in tasks}

    def on_done(outcome: TaskOutcome) -> None:
        nonlocal done
        info = scene_info[outcome.key]
        info["attempts"] = outcome.attempts
        job = jobs[outcome.key]
        if outcome.ok:
            res: SceneResult = outcome.value
            rows = {r["id"]: r for r in res.rows}
            info.update(status="ok", cache="hit" if res.cache_hit else "miss", ingest_s=round(res.ingest_s, 3),
                        answer_s=round(res.answer_s, 3), hash_s=round(res.hash_s, 3), frames=res.n_frames)
            counts["hit" if res.cache_hit else "miss"] += 1
        else:
            why = f"scene task failed: {outcome.error}"
            rows = {q.id: failure_row(q, "memory", why) for q in job.questions}
            info.update(status="failed", error=outcome.error)
            counts["failed"] += 1
        done_rows[outcome.key].update(rows)
        _write_jsonl(scenes_dir / f"{outcome.key}.jsonl", done_rows[outcome.key].values())
        done += len(job.questions)
        if progress is not None:
            progress(done, total, f"{outcome.key}: {info['status']} (cache {info['cache']}) | "
                                  f"cache hit {counts['hit']} miss {counts['miss']} failed {counts['failed']}")

    if progress is not None:
        progress(0, total, f"{len(tasks)} scene(s) to run, {len(scene_info) - len(tasks)} already done")
    executor.run(tasks, on_done)

    return _finish(cfg, chosen, done_rows, scene_info, skipped, total, preset, cache_dir)


def _finish(cfg: VsiBenchConfig, chosen: list[BenchQuestion], done_rows: dict[str, dict[str, dict]],
            scene_info: dict[str, dict[str, Any]], skipped: int, answered: int, preset: PerceptionPreset,
            cache_dir: Path) -> VsiBenchResult:
    out = cfg.out
    rows: list[dict] = []
    timings: list[dict] = []
    for q in chosen:
        row = done_rows[scene_key(q.dataset, q.scene_name)].get(q.id)
        if row is None:
            continue
        timings.append({"id": q.id, "timings": row.get("timings", {})})
        rows.append({k: v for k, v in row.items() if k not in TIMING_FIELDS})
    _write_jsonl(out / PREDICTIONS, rows)
    _write_jsonl(out / TIMINGS, timings)
    scenes = [scene_info[k] for k in sorted(scene_info)]
    meta = {"planner": cfg.planner, "questions": str(cfg.questions), "perception": preset.name,
            "perception_fingerprint": preset.fingerprint(), "executor": cfg.executor, "workers": cfg.workers,
            "cache_dir": str(cache_dir), "scenes": scenes}
    summary = write_report(out, rows, meta, chart=cfg.chart)
    with (out / "results.md").open("a", encoding="utf-8") as fh:
        fh.write("\n" + scenes_table(scenes))
    return VsiBenchResult(out=out, summary=summary, scenes=scenes, answered=answered, skipped=skipped)


def scenes_table(scenes: Sequence[dict[str, Any]]) -> str:
    """Markdown: one row per scene (cache, seconds, attempts, status); failures are listed, never hidden."""
    lines = ["## Scenes", "",
             "| scene | dataset | questions | memory cache | ingest s | answer s | attempts | status |",
             "|---|---|---|---|---|---|---|---|"]
    for s in scenes:
        status = s["status"] if not s.get("error") else f"{s['status']}: {str(s['error'])[:200]}"
        lines.append(f"| {s['scene']} | {s['dataset']} | {s['questions']} | {s['cache']} | {s['ingest_s']} | "
                     f"{s['answer_s']} | {s['attempts']} | {status.replace('|', '/')} |")
    failed = [s for s in scenes if s["status"] == "failed"]
    lines += ["", f"{len(failed)} scene(s) failed." if failed else "No scene failed.", ""]
    return "\n".join(lines)


__all__ = ["VsiBenchConfig", "VsiBenchResult", "SceneJob", "SceneResult", "run_vsibench", "run_scene",
           "find_input", "select_questions", "scene_key"]
