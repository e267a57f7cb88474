"""``spatialmem vsibench``: the benchmark from its official layout, one executor task per scene."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from spatialmem.commands.qa import (
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
        llm_base_url: BaseUrlOpt = "http://127.0.0.1:8000/v1",
        llm_model: ModelOpt = "",
        llm_api_key_env: KeyEnvOpt = "OPENAI_API_KEY",
        llm_temperature: TempOpt = 0.0,
        llm_timeout: TimeoutOpt = 60.0,
        llm_retries: RetriesOpt = 3,
        llm_backoff: BackoffOpt = 1.0,
        max_repairs: RepairsOpt = 3,
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
