"""``spatialmem ask`` (one question on one memory) and ``spatialmem eval`` (a benchmark run).

LLM settings are shared by both commands and turned into an :class:`LLMConfig` by
:func:`llm_config_from_options`; ``--llm-model`` is what switches an LLM on.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markdown import Markdown
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from spatialmem.agent.base import PlannerConfig
from spatialmem.agent.llm_client import GRAMMAR_MODES, LLMConfig
from spatialmem.errors import NothingAnsweredError

#: The LLM and planner defaults, declared once on the config dataclasses; every command's options show them.
LLM_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(LLMConfig)}
PLANNER_DEFAULTS: dict[str, Any] = {f.name: f.default for f in dataclasses.fields(PlannerConfig)}

PlannerOpt = Annotated[str, typer.Option("--planner", help="template | llm | chain (template first, then LLM).")]
BaseUrlOpt = Annotated[
    str, typer.Option("--llm-base-url", help="OpenAI-compatible API root (vLLM :8000/v1, Ollama :11434/v1 ...).")
]
ModelOpt = Annotated[str, typer.Option("--llm-model", help="Model name as the server knows it; enables the LLM.")]
KeyEnvOpt = Annotated[str, typer.Option("--llm-api-key-env", help="Environment variable holding the API key.")]
TempOpt = Annotated[float, typer.Option("--llm-temperature", help="Sampling temperature.")]
TimeoutOpt = Annotated[float, typer.Option("--llm-timeout", help="Wall-clock seconds for one whole request.")]
RetriesOpt = Annotated[int, typer.Option("--llm-retries", help="Retries on connection errors, 429 and 5xx.")]
BackoffOpt = Annotated[float, typer.Option("--llm-backoff", help="First retry delay (s), doubled each retry.")]
VisionOpt = Annotated[str, typer.Option("--llm-vision-model", help="Model for look(...) images.")]
RepairsOpt = Annotated[int, typer.Option("--max-repairs", help="Times checker diagnostics are sent back to the LLM.")]
GrammarOpt = Annotated[str, typer.Option("--llm-grammar", help="Constrained decoding: " + " | ".join(GRAMMAR_MODES)
                                         + " (auto probes the server once).")]
MaxTokensOpt = Annotated[int, typer.Option("--llm-max-tokens", help="Reply length cap in tokens.")]
BudgetOpt = Annotated[float, typer.Option("--llm-question-budget", help="Wall-clock seconds per question.")]
PromptTokensOpt = Annotated[int, typer.Option("--llm-prompt-tokens", help="First prompt's token budget.")]


def llm_config_from_options(base_url: str, model: str, api_key_env: str = LLM_DEFAULTS["api_key_env"],
                            temperature: float = LLM_DEFAULTS["temperature"],
                            timeout_s: float = LLM_DEFAULTS["timeout_s"], retries: int = LLM_DEFAULTS["max_retries"],
                            backoff: float = LLM_DEFAULTS["backoff"], vision_model: str = "",
                            grammar: str = LLM_DEFAULTS["grammar"],
                            max_tokens: int = LLM_DEFAULTS["max_tokens"]) -> LLMConfig | None:
    """An :class:`~spatialmem.agent.llm_client.LLMConfig`, or None when no model is given (an empty
    ``base_url`` means api.openai.com); the defaults are :class:`LLMConfig`'s."""
    if not model:
        return None
    return LLMConfig(base_url=base_url or None, model=model, api_key_env=api_key_env, temperature=temperature,
                     timeout_s=timeout_s, max_retries=retries, backoff=backoff, vision_model=vision_model or None,
                     grammar=grammar, max_tokens=max_tokens)


def register(app: typer.Typer) -> None:
    """Add ``ask`` and ``eval`` to the CLI."""

    @app.command("ask")
    def ask(
        memory: Annotated[Path, typer.Argument(help="Memory folder (spatialmem ingest --out ...).")],
        question: Annotated[str, typer.Argument(help="The question in plain words.")],
        options: Annotated[list[str], typer.Option("--options", "-o", help='An option, e.g. "A. left"; repeat.')] = [],  # noqa: B006
        question_type: Annotated[str, typer.Option("--question-type", help="VSI-Bench type, if known.")] = "",
        planner: PlannerOpt = "chain",
        as_json: Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")] = False,
        llm_base_url: BaseUrlOpt = LLM_DEFAULTS["base_url"],
        llm_model: ModelOpt = "",
        llm_api_key_env: KeyEnvOpt = LLM_DEFAULTS["api_key_env"],
        llm_temperature: TempOpt = LLM_DEFAULTS["temperature"],
        llm_timeout: TimeoutOpt = LLM_DEFAULTS["timeout_s"],
        llm_retries: RetriesOpt = LLM_DEFAULTS["max_retries"],
        llm_backoff: BackoffOpt = LLM_DEFAULTS["backoff"],
        llm_vision_model: VisionOpt = "",
        llm_grammar: GrammarOpt = LLM_DEFAULTS["grammar"],
        llm_max_tokens: MaxTokensOpt = LLM_DEFAULTS["max_tokens"],
        llm_question_budget: BudgetOpt = PLANNER_DEFAULTS["question_budget_s"],
        llm_prompt_tokens: PromptTokensOpt = PLANNER_DEFAULTS["prompt_budget_tokens"],
        max_repairs: RepairsOpt = PLANNER_DEFAULTS["max_repairs"],
        transcript_dir: Annotated[Path | None, typer.Option("--transcripts", help="LLM transcript folder.")] = None,
    ) -> None:
        """Answer one question on a memory; prints the answer, the program and its trace."""
        from spatialmem.agent.answer import answer_question
        from spatialmem.agent.base import Question, build_planner
        from spatialmem.memory.store import load_memory

        llm = llm_config_from_options(llm_base_url, llm_model, llm_api_key_env, llm_temperature, llm_timeout,
                                      llm_retries, llm_backoff, llm_vision_model, llm_grammar, llm_max_tokens)
        pconf = PlannerConfig(llm=llm, max_repairs=max_repairs, transcript_dir=transcript_dir,
                              question_budget_s=llm_question_budget, prompt_budget_tokens=llm_prompt_tokens)
        plan_obj = build_planner(planner, pconf)
        mem = load_memory(memory)
        q = Question(text=question, options=tuple(options), question_type=question_type or None, id="ask")
        rec = answer_question(q, mem, plan_obj)
        out = Console()
        if as_json:
            print(json.dumps(rec.to_dict(), indent=2, default=str))
        else:
            if rec.program:
                out.print("[bold]program[/bold]")
                out.print(rec.program, markup=False, highlight=False, soft_wrap=True)
            if rec.trace:
                out.print("[bold]trace[/bold]")
                for line in rec.trace:
                    out.print(f"  {line}", markup=False, highlight=False, soft_wrap=True)
            if rec.ok:
                out.print(f"[bold]answer[/bold] {rec.answer}", highlight=False)
        if rec.failure is not None:
            if as_json:  # the record (with its error) is already printed
                raise typer.Exit(rec.failure.exit_code)
            raise rec.failure

    @app.command("eval")
    def evaluate(
        questions: Annotated[Path, typer.Argument(help="Questions (.jsonl, .parquet or .csv, VSI-Bench schema).")],
        memories: Annotated[Path, typer.Option("--memories", help="One memory per scene: DIR/<scene_name>.")],
        out: Annotated[Path, typer.Option("--out", help="Results folder (reused to resume).")],
        planner: PlannerOpt = "chain",
        workers: Annotated[int, typer.Option("--workers", help="Threads answering questions in parallel; with "
                                                              "--executor, processes (one task per scene).")] = 1,
        executor: Annotated[str, typer.Option("--executor", help="local | ray: one task per scene in worker "
                                                                 "processes (default: this process).")] = "",
        ray_address: Annotated[str, typer.Option("--ray-address", help="Existing Ray cluster for --executor ray "
                                                                       "(default: start Ray locally).")] = "",
        retry_failed: Annotated[bool, typer.Option("--retry-failed", help="Re-answer previously failed ids.")] = False,
        limit: Annotated[int | None, typer.Option("--limit", help="Answer at most N pending questions.")] = None,
        chart: Annotated[bool, typer.Option("--chart/--no-chart", help="Write scores.png.")] = True,
        max_endpoint_failures: Annotated[int, typer.Option(
            "--max-endpoint-failures", help="Stop (exit 9) after this many consecutive LLM endpoint failures.")] = 3,
        llm_base_url: BaseUrlOpt = LLM_DEFAULTS["base_url"],
        llm_model: ModelOpt = "",
        llm_api_key_env: KeyEnvOpt = LLM_DEFAULTS["api_key_env"],
        llm_temperature: TempOpt = LLM_DEFAULTS["temperature"],
        llm_timeout: TimeoutOpt = LLM_DEFAULTS["timeout_s"],
        llm_retries: RetriesOpt = LLM_DEFAULTS["max_retries"],
        llm_backoff: BackoffOpt = LLM_DEFAULTS["backoff"],
        llm_vision_model: VisionOpt = "",
        llm_grammar: GrammarOpt = LLM_DEFAULTS["grammar"],
        llm_max_tokens: MaxTokensOpt = LLM_DEFAULTS["max_tokens"],
        llm_question_budget: BudgetOpt = PLANNER_DEFAULTS["question_budget_s"],
        llm_prompt_tokens: PromptTokensOpt = PLANNER_DEFAULTS["prompt_budget_tokens"],
        max_repairs: RepairsOpt = PLANNER_DEFAULTS["max_repairs"],
    ) -> None:
        """Answer a benchmark's questions on stored memories and score them with the VSI-Bench rules."""
        from spatialmem.bench.runner import EvalConfig, run_eval

        llm = llm_config_from_options(llm_base_url, llm_model, llm_api_key_env, llm_temperature, llm_timeout,
                                      llm_retries, llm_backoff, llm_vision_model, llm_grammar, llm_max_tokens)
        pconf = PlannerConfig(llm=llm, max_repairs=max_repairs, question_budget_s=llm_question_budget,
                              prompt_budget_tokens=llm_prompt_tokens)
        cfg = EvalConfig(questions=questions, memories=memories, out=out, planner=planner, planner_config=pconf,
                         workers=workers, retry_failed=retry_failed, limit=limit, chart=chart,
                         max_endpoint_failures=max_endpoint_failures, executor=executor or None,
                         ray_address=ray_address or None)
        err = Console(stderr=True)
        with Progress(TextColumn("[bold]eval[/bold]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TimeRemainingColumn(), console=err, transient=False) as bar:
            task = bar.add_task("eval", total=None)

            def tick(done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            result = run_eval(cfg, progress=tick)
        s = result.summary
        con = Console()
        con.print(Markdown((out / "results.md").read_text(encoding="utf-8")))
        con.print(
            f"answered {result.answered} (failed {result.failed_now}), skipped {result.skipped} already done; "
            f"results in {out}",
            highlight=False,
        )
        if s["n_failed"]:
            con.print(f"[yellow]{s['n_failed']} failed question(s) scored 0: {s['failures']} "
                      f"(see 'error' in {out / 'predictions.jsonl'})[/yellow]")
        if result.n_rows and not result.n_ok:
            raise NothingAnsweredError(f"not one of the {result.n_rows} question(s) was answered: {s['failures']}; "
                                       f"see 'error' in {out / 'predictions.jsonl'}")
