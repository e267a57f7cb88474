"""``spatialmem vsibench`` (the benchmark from its official layout, one executor task per scene) and the
many-sources path of ``spatialmem ingest`` (one memory per source, on the same executors)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from spatialmem.commands.qa import (
    LLM_DEFAULTS,
    PLANNER_DEFAULTS,
    BackoffOpt,
    BaseUrlOpt,
    KeyEnvOpt,
    ModelOpt,
    PlannerOpt,
    RepairsOpt,
    RetriesOpt,
    TempOpt,
    TimeoutOpt,
    llm_config_from_options,
)
from spatialmem.errors import InputError, NothingAnsweredError
from spatialmem.perception.presets import PRESETS

ExecutorOpt = Annotated[str, typer.Option("--executor", help="local (process pool) | ray (one task per scene).")]
WorkersOpt = Annotated[int, typer.Option("--workers", help="Worker processes (local) or CPUs of a local Ray.")]
RayAddressOpt = Annotated[str, typer.Option("--ray-address", help="Existing Ray cluster (e.g. auto, ray://host:10001); "
                                                                  "default: start Ray locally.")]
TaskRetriesOpt = Annotated[int, typer.Option("--retries", help="Extra attempts for a scene task that failed.")]
QuestionsOpt = Annotated[Path, typer.Option("--questions", help="test.parquet (or .jsonl/.csv) of the benchmark.")]
OutOpt = Annotated[Path, typer.Option("--out", help="Results folder (reused: a rerun redoes only what is missing).")]
VideosOpt = Annotated[Path | None, typer.Option(
    "--videos", help="Folder with arkitscenes/, scannet/, scannetpp/ (default: the question file's folder).")]
PerceptionOpt = Annotated[str, typer.Option("--perception", help="Perception preset: " + " | ".join(PRESETS) + ".")]
CacheDirOpt = Annotated[Path | None, typer.Option(
    "--cache-dir", help="Memory cache (default $SPATIALMEM_CACHE or ~/.cache/spatialmem/memories).")]
LimitOpt = Annotated[int | None, typer.Option("--limit", help="At most N questions (after the filters).")]
TypesOpt = Annotated[list[str], typer.Option("--question-types", help="Only these types (repeat or comma-separate).")]
ScenesOpt = Annotated[list[str], typer.Option("--scenes", help="Only these scenes (repeat or comma-separate).")]


def _split(values: list[str]) -> tuple[str, ...]:
    return tuple(v.strip() for item in values for v in item.split(",") if v.strip())


def register(app: typer.Typer) -> None:
    """Add ``vsibench`` to the CLI."""

    @app.command("vsibench")
    def vsibench(
        questions: QuestionsOpt,
        out: OutOpt,
        videos: VideosOpt = None,
        perception: PerceptionOpt = "given",
        planner: PlannerOpt = "chain",
        executor: ExecutorOpt = "local",
        workers: WorkersOpt = 1,
        ray_address: RayAddressOpt = "",
        retries: TaskRetriesOpt = 2,
        cache_dir: CacheDirOpt = None,
        limit: LimitOpt = None,
        question_types: TypesOpt = [],  # noqa: B006
        scenes: ScenesOpt = [],  # noqa: B006
        chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Write scores.png.")] = True,
        llm_base_url: BaseUrlOpt = LLM_DEFAULTS["base_url"],
        llm_model: ModelOpt = "",
        llm_api_key_env: KeyEnvOpt = LLM_DEFAULTS["api_key_env"],
        llm_temperature: TempOpt = LLM_DEFAULTS["temperature"],
        llm_timeout: TimeoutOpt = LLM_DEFAULTS["timeout_s"],
        llm_retries: RetriesOpt = LLM_DEFAULTS["max_retries"],
        llm_backoff: BackoffOpt = LLM_DEFAULTS["backoff"],
        max_repairs: RepairsOpt = PLANNER_DEFAULTS["max_repairs"],
    ) -> None:
        """Ingest every scene the questions need (memory cache), answer and score them: VSI-Bench end to end."""
        from spatialmem.agent.base import PlannerConfig
        from spatialmem.bench.vsibench import VsiBenchConfig, run_vsibench

        llm = llm_config_from_options(llm_base_url, llm_model, llm_api_key_env, llm_temperature, llm_timeout,
                                      llm_retries, llm_backoff)
        cfg = VsiBenchConfig(questions=questions, out=out, videos=videos, perception=perception, planner=planner,
                             planner_config=PlannerConfig(llm=llm, max_repairs=max_repairs), executor=executor,
                             workers=workers, ray_address=ray_address or None, retries=retries, cache_dir=cache_dir,
                             limit=limit, question_types=_split(question_types), scenes=_split(scenes), chart=chart)
        if not questions.is_file():
            raise InputError(f"--questions {questions} is not a file")
        err = Console(stderr=True)
        with Progress(TextColumn("[bold]vsibench[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}"), console=err, transient=False) as bar:
            task = bar.add_task("", total=None)

            def tick(done: int, total: int, status: str) -> None:
                bar.update(task, completed=done, total=total, description=status)

            result = run_vsibench(cfg, progress=tick)
        con = Console()
        con.print(Markdown((out / "results.md").read_text(encoding="utf-8")))
        s = result.summary
        con.print(f"answered {result.answered}, skipped {result.skipped} already done; results in {out}",
                  highlight=False)
        n_rows = s["n_questions"]
        if n_rows and s["n_failed"] >= n_rows:
            raise NothingAnsweredError(f"every one of the {n_rows} question(s) failed; see 'error' in "
                                  f"{out / 'predictions.jsonl'} and the scene table in {out / 'results.md'}")


def _ingest_task(params: dict, log: str) -> dict:
    """Worker side of ``ingest A B C``: one ``ingest`` with its output in a log file.

    A problem with the input (any :class:`SpatialMemError`) is returned, not raised, so it is not retried;
    anything else (a crash, a dead worker) is retried by the executor.
    """
    import contextlib
    import time

    from spatialmem.commands.memory import ingest
    from spatialmem.errors import SpatialMemError

    t0 = time.perf_counter()
    with open(log, "w", encoding="utf-8") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        try:
            ingest(None, **params)
        except SpatialMemError as exc:
            print(f"error: {exc}")
            return {"ok": False, "error": str(exc), "seconds": time.perf_counter() - t0}
    tail = [ln for ln in open(log, encoding="utf-8").read().splitlines() if ln.startswith("wrote ")]
    return {"ok": True, "error": None, "seconds": time.perf_counter() - t0, "summary": tail[-1] if tail else ""}


def ingest_many(srcs: list[Path], out: Path, executor: str, workers: int, ray_address: str, params: dict) -> None:
    """``spatialmem ingest A B C --out DIR``: one memory per source, ``DIR/<name>``, on an executor.

    Each source's output goes to ``DIR/<name>.log``; a table lists every source with its status, and a
    failed source (listed with its error) makes the command exit non-zero after all the others are done.
    """
    from spatialmem import registry
    from spatialmem.errors import SpatialMemError
    from spatialmem.memory.store import is_memory_dir
    from spatialmem.scale.executors import Task

    names = [s.stem if s.is_file() else s.name for s in srcs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise InputError(f"several sources would write the same memory name ({', '.join(dupes)}); "
                         "ingest them in separate runs with different --out folders")
    if is_memory_dir(out) or out.is_file():
        raise InputError(f"--out {out} must be a folder for the memories of several sources, not a memory or a file")
    out.mkdir(parents=True, exist_ok=True)
    tasks = []
    for src, name in zip(srcs, names):
        one = {**params, "src": [src], "out": out / name, "executor": "", "workers": 1, "ray_address": ""}
        tasks.append(Task(name, _ingest_task, (one, str(out / f"{name}.log"))))
    runner = registry.build("executor", executor, workers=workers, address=ray_address or None)
    err = Console(stderr=True)
    results: dict[str, dict] = {}
    with Progress(TextColumn("[bold]ingest[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.description}"), console=err, transient=False) as bar:
        task = bar.add_task(f"{len(tasks)} sources on {executor} x{workers}", total=len(tasks))

        def on_done(outcome) -> None:
            res = outcome.value if outcome.ok else {"ok": False, "error": outcome.error, "seconds": outcome.seconds}
            results[outcome.key] = {**res, "attempts": outcome.attempts}
            failed = sum(not r["ok"] for r in results.values())
            bar.update(task, advance=1, description=f"{outcome.key}: {'ok' if res['ok'] else 'FAILED'} "
                                                    f"({failed} failed so far)")

        runner.run(tasks, on_done)
    con = Console()
    for name in names:
        r = results[name]
        line = r.get("summary") if r["ok"] else f"FAILED: {r['error']}"
        con.print(f"{name}: {line}  [{r['seconds']:.1f} s, log {out / (name + '.log')}]", highlight=False,
                  markup=False, soft_wrap=True)
    failed = [n for n in names if not results[n]["ok"]]
    if failed:
        raise SpatialMemError(f"{len(failed)} of {len(names)} source(s) failed: {', '.join(failed)} "
                              f"(each error is above and in its log under {out})")
