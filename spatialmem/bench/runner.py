"""The evaluation run behind ``spatialmem eval``: questions x memories -> predictions -> report.

* Memories: ``memories_dir/<scene_name>`` loaded once per scene (``spatialmem.memory.store.load_memory``).
* Resumable: ids already in ``out/predictions.jsonl`` are skipped (``retry_failed`` redoes failed ones);
  each answered row is appended and flushed immediately.
* Failures never stop the run: a malformed row, an unknown scene / missing memory, a planning,
  checker, runtime or LLM error each become a recorded row with ``ok: false``, ``score: 0`` and
  the message.
* Parallel: ``workers`` threads answer the questions of a scene concurrently (useful for LLM planners,
  whose time is spent waiting on the network).
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spatialmem.agent.answer import AnswerRecord, answer_question
from spatialmem.agent.base import PlannerConfig, build_planner
from spatialmem.bench.data import BenchQuestion, LoadResult, RowError, load_questions
from spatialmem.bench.metrics import score_prediction
from spatialmem.bench.report import PREDICTIONS, PredictionWriter, read_predictions, write_report
from spatialmem.errors import InputError, LLMEndpointError, SpatialMemError
from spatialmem.fsutil import check_output_dir, folder_lock

MAX_TRACE_LINES = 40


@dataclass(frozen=True)
class EvalConfig:
    """One evaluation run.

    Attributes:
        questions: question file (.jsonl / .parquet / .csv).
        memories: folder with one memory per scene, ``memories/<scene_name>``.
        out: output folder (created; reused for resuming).
        planner: registered planner name (template, llm, chain).
        planner_config: settings for the planner (LLM endpoint, repairs, transcripts).
        workers: threads answering questions concurrently (>= 1); with ``executor``, worker processes
            (local) or CPUs of a local Ray instance instead, one task per scene.
        executor: None (answer in this process) or a registered executor (``local``, ``ray``).
        ray_address: an existing Ray cluster for the ``ray`` executor (None: start Ray locally).
        retry_failed: re-answer ids whose previous row failed.
        limit: answer at most this many pending questions (None = all).
        chart: write the bar chart PNG.
        max_endpoint_failures: stop the run after this many consecutive questions whose LLM endpoint
            failed (unreachable, deadline, HTTP errors); the rows answered so far are kept.
    """

    questions: Path
    memories: Path
    out: Path
    planner: str = "template"
    planner_config: PlannerConfig = field(default_factory=PlannerConfig)
    workers: int = 1
    retry_failed: bool = False
    limit: int | None = None
    chart: bool = True
    max_endpoint_failures: int = 3
    executor: str | None = None
    ray_address: str | None = None

    def __post_init__(self) -> None:
        if self.max_endpoint_failures < 1:
            raise InputError(f"--max-endpoint-failures must be >= 1, got {self.max_endpoint_failures}")
        if self.workers < 1:
            raise InputError(f"--workers must be >= 1, got {self.workers}")
        if self.limit is not None and self.limit < 0:
            raise InputError(f"--limit must be >= 0, got {self.limit}")


@dataclass(frozen=True)
class EvalResult:
    """What a run did: counts and the summary written to ``out/summary.json``.

    ``answered``: rows handled by this run (failures included); ``failed_now``: of those, the failed
    ones; ``n_rows`` / ``n_ok``: rows of the question file in the report, and how many were answered.
    """

    out: Path
    answered: int
    skipped: int
    failed_now: int
    summary: dict[str, Any]
    n_rows: int = 0
    n_ok: int = 0


def _default_loader(path: Path):
    from spatialmem.memory.store import load_memory

    return load_memory(path)


def question_row(q: BenchQuestion) -> dict[str, Any]:
    """The question part of a prediction row."""
    return {
        "id": q.id,
        "dataset": q.dataset,
        "scene_name": q.scene_name,
        "question_type": q.question_type,
        "question": q.question,
        "options": list(q.options),
        "ground_truth": q.ground_truth,
    }


def prediction_row(q: BenchQuestion, rec: AnswerRecord) -> dict[str, Any]:
    """A full prediction row: question, program, prediction, score, status, timings."""
    score = score_prediction(q.question_type or None, rec.answer, q.ground_truth, q.options) if rec.ok else 0.0
    row = question_row(q)
    row.update(
        prediction=rec.answer,
        score=score,
        ok=rec.ok,
        error=rec.error,
        error_kind=rec.error_kind,
        program=rec.program,
        planner=rec.planner,
        value_type=rec.value_type,
        trace=list(rec.trace[:MAX_TRACE_LINES]),
        timings={k: round(v, 6) for k, v in rec.timings.items()},
        notes=rec.notes,
    )
    return row


def failure_row(q: BenchQuestion | RowError, kind: str, message: str) -> dict[str, Any]:
    """A recorded failure (score 0) for a question or a malformed row."""
    if isinstance(q, BenchQuestion):
        row = question_row(q)
    else:
        row = {"id": q.id or f"row-{q.row}", "dataset": "", "scene_name": q.scene_name or "",
               "question_type": q.question_type or "", "question": "", "options": [], "ground_truth": ""}
    row.update(prediction="", score=0.0, ok=False, error=message, error_kind=kind, program="", planner="",
               value_type="", trace=[], timings={}, notes={})
    return row


def answer_row(q: BenchQuestion, memory, planner, summary: dict | None = None) -> dict[str, Any]:
    """Answer and score one question on a memory; every failure becomes a recorded row (score 0)."""
    try:
        rec = answer_question(q.to_question(), memory, planner, summary)
    except SpatialMemError as exc:  # anything a planner raises that answer_question did not map
        return failure_row(q, "other", str(exc))
    except Exception as exc:  # an internal bug: record it, keep going
        return failure_row(q, "internal", f"{type(exc).__name__}: {exc}")
    return prediction_row(q, rec)


def answer_on_memory(questions: Iterable[BenchQuestion], memory, planner) -> list[dict[str, Any]]:
    """Prediction rows for ``questions`` on one memory, in order (see :func:`answer_row`)."""
    summary = memory.summary()
    return [answer_row(q, memory, planner, summary) for q in questions]


class _MemoryCache:
    """Loads each scene's memory once; remembers load failures as messages."""

    def __init__(self, root: Path, loader: Callable[[Path], Any]) -> None:
        self.root = root
        self.loader = loader

    def load(self, scene: str) -> tuple[Any, dict | None, str | None]:
        path = self.root / scene
        if not scene or "/" in scene or "\\" in scene or scene in (".", ".."):
            return None, None, f"unknown scene name {scene!r}: expected a folder name under {self.root}"
        if not path.exists():
            return None, None, (
                f"no memory for scene {scene!r}: {path} does not exist "
                f"(build it with: spatialmem ingest SCENE_FOLDER --out {path})"
            )
        try:
            memory = self.loader(path)
        except Exception as exc:  # a broken memory must not stop the run; the message says which one
            return None, None, f"memory for scene {scene!r} at {path} could not be loaded: {exc}"
        return memory, memory.summary(), None


def llm_client_of(planner):
    """The LLM client a planner (``llm``, or ``chain`` with a model) talks to; None without one."""
    client = getattr(planner, "client", None)
    if client is None:
        client = getattr(getattr(planner, "llm", None), "client", None)
    return client if hasattr(client, "probe") else None


def eval_scene(memories: Path, scene: str, questions: tuple[BenchQuestion, ...], planner_name: str,
               planner_config: PlannerConfig) -> list[dict[str, Any]]:
    """One executor task of ``eval --executor``: load a scene's memory, answer and score its questions."""
    memory, _, why = _MemoryCache(memories, _default_loader).load(scene)
    if memory is None:
        return [failure_row(q, "memory", why or "memory unavailable") for q in questions]
    return answer_on_memory(questions, memory, build_planner(planner_name, planner_config))


def _run_on_executor(config: EvalConfig, pconf: PlannerConfig, by_scene: dict[str, list[BenchQuestion]],
                     record: Callable[[dict], None]) -> None:
    """Answer every scene as one task of ``config.executor``; a task that failed records its questions."""
    from spatialmem import registry
    from spatialmem.scale.executors import Task

    executor = registry.build("executor", config.executor or "local", workers=config.workers,
                              address=config.ray_address)
    tasks = [Task(scene or "(no scene)", eval_scene, (config.memories, scene, tuple(qs), config.planner, pconf),
                  weight=len(qs)) for scene, qs in by_scene.items()]
    questions = {t.key: t.args[2] for t in tasks}

    def on_done(outcome) -> None:
        rows = outcome.value if outcome.ok else [
            failure_row(q, "internal", f"scene task failed: {outcome.error}") for q in questions[outcome.key]]
        for row in rows:
            record(row)

    executor.run(tasks, on_done)


def run_eval(config: EvalConfig, progress: Callable[[int, int], None] | None = None,
             memory_loader: Callable[[Path], Any] | None = None, planner=None) -> EvalResult:
    """Answer, score and report every question of ``config.questions`` (see module docstring).

    Args:
        config: the run.
        progress: ``progress(done, total)`` callback after each question (the CLI draws a bar).
        memory_loader: ``path -> SceneMemory``; defaults to ``spatialmem.memory.store.load_memory``.
        planner: a ready planner object; built from ``config.planner`` through the registry when None.

    Raises:
        InputError: missing question file / memories folder, bad settings, an output path that is a
            file, or another run writing to the same output folder.
    """
    if not config.memories.is_dir():
        raise InputError(f"--memories {config.memories} is not a folder (expected one memory per scene inside)")
    out = check_output_dir(config.out, "--out")
    loaded = load_questions(config.questions)
    pconf = config.planner_config
    if pconf.transcript_dir is None and config.planner != "template" and pconf.llm is not None:
        pconf = dataclasses.replace(pconf, transcript_dir=out / "transcripts")
    if planner is None:  # before anything is written: a misconfigured planner fails fast
        planner = build_planner(config.planner, pconf)
    client = llm_client_of(planner)
    if client is not None:  # a dead endpoint stops the run before the first question (LLMEndpointError, exit 9)
        client.probe()
    with folder_lock(out, "another spatialmem eval"):  # two runs on one folder would duplicate rows
        return _run_locked(config, pconf, loaded, planner, out, progress, memory_loader)


def _run_locked(config: EvalConfig, pconf: PlannerConfig, loaded: LoadResult, planner: Any, out: Path,
                progress: Callable[[int, int], None] | None, memory_loader: Callable[[Path], Any] | None) -> EvalResult:
    pred_path = out / PREDICTIONS
    previous = read_predictions(pred_path)

    def is_done(qid: str) -> bool:
        row = previous.get(qid)
        return row is not None and (row.get("ok") or not config.retry_failed)

    cache = _MemoryCache(config.memories, memory_loader or _default_loader)

    pending = [q for q in loaded.questions if not is_done(q.id)]
    bad_rows = [e for e in loaded.errors if not is_done(e.id or f"row-{e.row}")]
    skipped = len(loaded.questions) + len(loaded.errors) - len(pending) - len(bad_rows)
    if config.limit is not None:
        pending = pending[: config.limit]
    total = len(pending) + len(bad_rows)
    done = 0
    failed_now = 0
    endpoint_streak: list[str] = []  # messages of the current run of consecutive endpoint failures
    by_scene: dict[str, list[BenchQuestion]] = defaultdict(list)
    for q in pending:
        by_scene[q.scene_name].append(q)

    with PredictionWriter(pred_path) as writer:

        def record(row: dict | None) -> None:
            nonlocal done, failed_now
            if row is None:  # not attempted: the run is stopping
                return
            if row.get("error_kind") == "endpoint":
                endpoint_streak.append(row.get("error") or "")
            elif row.get("ok") or row.get("error_kind") not in ("input", "memory"):
                endpoint_streak.clear()
            writer.write(row)
            done += 1
            failed_now += 0 if row["ok"] else 1
            if progress is not None:
                progress(done, total)

        for err in bad_rows:
            record(failure_row(err, "input", err.message))
        if config.executor:
            _run_on_executor(config, pconf, by_scene, record)
            by_scene = {}
        with ThreadPoolExecutor(max_workers=config.workers) as pool:
            for scene, questions in by_scene.items():
                memory, summary, why = cache.load(scene)
                if len(endpoint_streak) >= config.max_endpoint_failures:
                    break
                if memory is None:
                    for q in questions:
                        record(failure_row(q, "memory", why or "memory unavailable"))
                    continue

                def one(q: BenchQuestion, memory=memory, summary=summary) -> dict | None:
                    if len(endpoint_streak) >= config.max_endpoint_failures:
                        return None
                    return answer_row(q, memory, planner, summary)

                if config.workers == 1:
                    for q in questions:
                        record(one(q))
                else:
                    for row in pool.map(one, questions):
                        record(row)
                del memory

    t0 = time.perf_counter()
    current = read_predictions(pred_path)
    wanted = dict.fromkeys([q.id for q in loaded.questions] + [e.id or f"row-{e.row}" for e in loaded.errors])
    rows = [current[i] for i in wanted if i in current]
    meta = {
        "planner": config.planner,
        "questions": str(config.questions),
        "memories": str(config.memories),
        "workers": config.workers,
        "report_s": None,
    }
    summary = write_report(out, rows, meta, chart=config.chart)
    summary["meta"]["report_s"] = round(time.perf_counter() - t0, 3)
    if len(endpoint_streak) >= config.max_endpoint_failures:
        raise LLMEndpointError(
            f"stopped after {len(endpoint_streak)} consecutive questions whose LLM endpoint failed; last: "
            f"{endpoint_streak[-1]}. The rows written so far are in {pred_path}; fix the endpoint and run the "
            "same command with --retry-failed to answer the rest")
    return EvalResult(out=out, answered=total, skipped=skipped, failed_now=failed_now, summary=summary,
                      n_rows=len(rows), n_ok=sum(1 for r in rows if r.get("ok")))
