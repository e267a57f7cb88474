"""The planner interface: a question (+ options, type) and a memory summary in, a program out.

Owns :class:`Question`, :class:`Plan`, :class:`PlannerConfig` and the :class:`Planner` protocol.
Every planner (template, LLM, chain) is built through the registry (kind ``"planner"``) as
``registry.build("planner", name, config)`` with a :class:`PlannerConfig`, and raises
:class:`~spatialmem.errors.PlanningError` with a message starting ``"cannot plan: "`` when it cannot
turn the question into a program.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from spatialmem.errors import PlanningError

if TYPE_CHECKING:  # pragma: no cover
    from spatialmem.agent.llm_client import LLMConfig
    from spatialmem.memory.scene import SceneMemory


@dataclass(frozen=True)
class Question:
    """One question as a benchmark or a user asks it.

    Attributes:
        text: the question in plain words (may contain line breaks).
        options: multiple-choice options as written, e.g. ``("A. left", "B. right")``; empty for
            numeric / open questions.
        question_type: VSI-Bench type (``"object_counting"`` ...) when known, else None.
        id: identifier used in transcripts and predictions.
    """

    text: str
    options: tuple[str, ...] = ()
    question_type: str | None = None
    id: str = "q"


@dataclass(frozen=True)
class Plan:
    """A planner's output: a query-language program and who wrote it.

    Attributes:
        program: source text of the program (ends with an ``answer(...)`` call).
        planner: name of the planner that produced it (``"template"``, ``"llm"``).
        notes: free-form details (inferred question type, number of LLM repair rounds ...).
        result: the :class:`~spatialmem.dsl.interpreter.RunResult` of running ``program`` on the memory
            given to ``plan`` (a planner that already ran it, e.g. the LLM planner's dry run); None = not run.
            :func:`~spatialmem.agent.answer.answer_question` reuses it instead of running the program again.
    """

    program: str
    planner: str
    notes: dict[str, Any] = field(default_factory=dict)
    result: Any = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class PlannerConfig:
    """Settings shared by all planners (each uses the fields it needs).

    Attributes:
        llm: the chat endpoint for the LLM planner; None = no LLM configured.
        max_repairs: how many times diagnostics are sent back to the LLM for repair.
        transcript_dir: folder for one JSONL transcript per question (None = no transcript).
        use_vision: send images marked with ``look(...)`` to the (vision) model for the final answer.
        question_budget_s: wall-clock seconds the LLM planner may spend on one question, all requests,
            retries and repairs together.
        prompt_budget_tokens: the first request's size limit in tokens (the server's tokenizer where it
            exposes one, else an estimate); worked examples are dropped first to fit.
        few_shot: worked examples of the question's type in the prompt (at most).
    """

    llm: LLMConfig | None = None
    max_repairs: int = 3
    transcript_dir: Path | None = None
    use_vision: bool = True
    question_budget_s: float = 900.0
    prompt_budget_tokens: int = 5000
    few_shot: int = 2


@runtime_checkable
class Planner(Protocol):
    """Turns a question into a program; ``memory`` (optional) lets a planner check its program."""

    name: str

    def plan(self, question: Question, memory_summary: dict, memory: SceneMemory | None = None) -> Plan:
        """Return a :class:`Plan` or raise :class:`PlanningError` ("cannot plan: ...")."""
        ...


def cannot_plan(reason: str) -> PlanningError:
    """A :class:`PlanningError` with the conventional ``"cannot plan: "`` prefix."""
    return PlanningError(f"cannot plan: {reason}")


def build_planner(name: str, config: PlannerConfig | None = None) -> Planner:
    """Build a registered planner (``template``, ``llm``, ``chain`` ...) from a config."""
    from spatialmem import registry

    return registry.build("planner", name, config or PlannerConfig())
