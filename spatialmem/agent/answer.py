"""Answer one question on one memory: plan, run the program, format the answer as a model would.

:func:`answer_question` never raises for a question-level problem (cannot plan, checker or runtime
error, LLM failure): it returns an :class:`AnswerRecord` with ``ok=False`` and the error, so that a
benchmark run records the failure and continues.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from typing import Any

from spatialmem.agent.base import Planner, Question
from spatialmem.errors import (
    LLMEndpointError,
    LLMError,
    PlanningError,
    ProgramError,
    ProgramRuntimeError,
    SpatialMemError,
)

_LETTER_RE = re.compile(r"^\s*\(?([A-Za-z])[.):]?(?:\s|$)")


@dataclass(frozen=True)
class AnswerRecord:
    """The outcome of one question.

    Attributes:
        id: question id.
        answer: the answer text a model would output (option letter or number string); "" on failure.
        ok: whether a program ran and produced an answer.
        program: the program that ran (or was last tried); "" when none was planned.
        planner: the planner that produced the program.
        value_type: the query-language type of the answer value.
        trace: the interpreter's trace lines.
        error: one-line message on failure, else None.
        error_kind: ``planning`` | ``check`` | ``runtime`` | ``llm`` (no valid program) | ``endpoint`` (the LLM
            endpoint failed) | ``other`` on failure (for records).
        timings: seconds per phase (``plan_s``, ``run_s``, ``total_s``).
        notes: planner notes (inferred form, LLM repair rounds, vision answer ...).
        failure: the exception itself on failure (not serialised): the command line re-raises it, so
            its class gives the exit code.
    """

    id: str
    answer: str
    ok: bool
    program: str = ""
    planner: str = ""
    value_type: str = ""
    trace: tuple[str, ...] = ()
    error: str | None = None
    error_kind: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    failure: SpatialMemError | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "answer": self.answer,
            "ok": self.ok,
            "program": self.program,
            "planner": self.planner,
            "value_type": self.value_type,
            "trace": list(self.trace),
            "error": self.error,
            "error_kind": self.error_kind,
            "timings": dict(self.timings),
            "notes": dict(self.notes),
        }


# the record's error_kind for each failure class (most specific first: a runtime error is a ProgramError)
ERROR_KINDS: tuple[tuple[type[SpatialMemError], str], ...] = (
    (LLMEndpointError, "endpoint"), (LLMError, "llm"), (PlanningError, "planning"),
    (ProgramRuntimeError, "runtime"), (ProgramError, "check"),
)


def error_kind(exc: SpatialMemError) -> str:
    """``endpoint`` | ``llm`` | ``planning`` | ``runtime`` | ``check`` | ``other``: how a failure is recorded."""
    return next((kind for cls, kind in ERROR_KINDS if isinstance(exc, cls)), "other")


def option_letters(options) -> set[str]:
    """The letters of a question's options ("A. left" -> "A"; letters by position when absent, as choose() does)."""
    from spatialmem.dsl.ops.answers import parse_options

    return {letter for letter, _ in parse_options(options)}


def format_answer(answer_text: str, question: Question) -> str:
    """The model-style answer: the option letter for MC questions, else the value's text.

    A leading letter ("B", "b.", "(B) right") counts only when it is one of the question's option letters;
    any other text is returned as it is.
    """
    text = str(answer_text or "").strip()
    if question.options:
        m = _LETTER_RE.match(text)
        if m and m.group(1).upper() in option_letters(question.options):
            return m.group(1).upper()
    return text


def _option_key(text: str) -> str:
    """An option or value text for comparison: lower case, '-'/'_' as spaces, no blanks around commas."""
    flat = " ".join(str(text).lower().replace("-", " ").replace("_", " ").split())
    return ",".join(p.strip() for p in flat.split(","))


def force_choice(result, question: Question):
    """The forced-choice rule of every planner: a multiple-choice question is answered by an option letter.

    A program whose answer is a ``Choice`` (``choose(...)``) passes unchanged. A value whose text equals
    exactly one option's text is mapped onto that option's letter, and the mapping is added to the trace.
    Anything else is rejected.

    Args:
        result: the program's :class:`~spatialmem.dsl.interpreter.RunResult`.
        question: the question (its ``options``).

    Returns:
        ``(result, note)``: the (possibly remapped) result and the mapping note (None when unchanged).

    Raises:
        ProgramError: an ``E232`` diagnostic whose hint says to wrap the value in ``choose(...)``.
    """
    from spatialmem.dsl import diagnostics as D
    from spatialmem.dsl.ops.answers import parse_options

    if not question.options or result.value_type == "Choice":
        return result, None
    opts = parse_options(question.options)
    value = _option_key(result.answer_text)
    hits = [(letter, text) for letter, text in opts if _option_key(text) == value]
    if len(hits) == 1:
        letter, text = hits[0]
        note = f"forced choice: the answer {result.answer_text!r} equals option {letter} ({text!r}); answered {letter}"
        return dataclasses.replace(result, answer_text=letter, value_type="Choice", trace=(*result.trace, note)), note
    listed = ", ".join(f'"{o}"' for o in question.options)
    diag = D.Diagnostic(D.NOT_A_CHOICE, f"this is a multiple-choice question, but the program answered a "
                        f"{result.value_type} value ({result.answer_text!r}), not an option",
                        hint=f"wrap the value in choose(): answer(choose([{listed}], VALUE))")
    raise ProgramError(diag.render(), (diag,))


def _diag_text(exc: ProgramError) -> str:
    """The rendered diagnostics of a rejected / failed program (the exception's text when it has them)."""
    return str(exc).strip() or "\n".join(d.render() for d in exc.diagnostics[:3]) or type(exc).__name__


def answer_question(question: Question, memory, planner: Planner, summary: dict | None = None) -> AnswerRecord:
    """Plan ``question`` with ``planner``, run the program on ``memory``, format the answer.

    Args:
        question: the question.
        memory: a :class:`~spatialmem.memory.scene.SceneMemory`.
        planner: any :class:`~spatialmem.agent.base.Planner`.
        summary: ``memory.summary()`` if already computed (saves time on many questions).

    Returns:
        An :class:`AnswerRecord`; failures are recorded, never raised (except programming bugs).
    """
    from spatialmem.dsl import run_program

    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    summary = summary if summary is not None else memory.summary()
    program, planner_name, notes = "", getattr(planner, "name", type(planner).__name__), {}

    def fail(exc: SpatialMemError, message: str | None = None) -> AnswerRecord:
        timings["total_s"] = time.perf_counter() - t0
        return AnswerRecord(question.id, "", False, program, planner_name, error=message or str(exc),
                            error_kind=error_kind(exc), timings=timings, notes=notes, failure=exc)

    try:
        plan = planner.plan(question, summary, memory)
    except (LLMError, PlanningError) as exc:
        timings["plan_s"] = time.perf_counter() - t0
        return fail(exc)
    timings["plan_s"] = time.perf_counter() - t0
    program, planner_name, notes = plan.program, plan.planner, dict(plan.notes)
    t1 = time.perf_counter()
    try:
        # a planner that already ran the program on this memory (the LLM planner's dry run) hands its result over
        result = plan.result if plan.result is not None else run_program(program, memory)
        result, forced = force_choice(result, question)
    except ProgramError as exc:  # rejected by the checker, or failed while running
        timings["run_s"] = time.perf_counter() - t1
        return fail(exc, _diag_text(exc))
    timings["run_s"] = time.perf_counter() - t1
    if forced:
        notes["forced_choice"] = forced
    answer = format_answer(result.answer_text, question)
    images = result.images
    if images and hasattr(planner, "answer_with_images"):
        t2 = time.perf_counter()
        try:
            seen = planner.answer_with_images(question, result, program)
        except (LLMError, SpatialMemError) as exc:
            notes["vision_error"] = str(exc)
            seen = None
        timings["vision_s"] = time.perf_counter() - t2
        if seen:
            notes["program_answer"] = answer
            answer = format_answer(seen, question)
    timings["total_s"] = time.perf_counter() - t0
    empty = None if answer else SpatialMemError("the program produced an empty answer")
    return AnswerRecord(
        id=question.id,
        answer=answer,
        ok=bool(answer),
        program=program,
        planner=planner_name,
        value_type=result.value_type,
        trace=result.trace,
        error=None if empty is None else str(empty),
        error_kind=None if empty is None else error_kind(empty),
        timings=timings,
        notes=notes,
        failure=empty,
    )
