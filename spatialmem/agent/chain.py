"""Chain planner: the template planner first; the LLM planner when the template's program fails in any way.

"Fails" covers every stage: the template cannot plan the question, its program fails the checker
(e.g. ``E240`` for "How many objects are in the room in total?" -> ``objects("objects")``), or it fails
while running (a dry run on the memory; e.g. ``R400`` when a named object is not unique). Without a
configured model the template's own error is raised, as before.
"""

from __future__ import annotations

from spatialmem.agent.base import Plan, PlannerConfig, Question
from spatialmem.agent.template import TemplatePlanner
from spatialmem.errors import PlanningError, ProgramError


class ChainPlanner:
    """Template first; on any planning, checker or run-time failure, the LLM planner."""

    name = "chain"

    def __init__(self, config: PlannerConfig | None = None, llm=None) -> None:
        self.config = config or PlannerConfig()
        self.template = TemplatePlanner(self.config)
        self._llm = llm
        if self._llm is None and self.config.llm is not None:
            from spatialmem.agent.llm_planner import LLMPlanner

            self._llm = LLMPlanner(self.config)

    @property
    def llm(self):
        """The LLM planner, or None when no model is configured."""
        return self._llm

    def _template_plan(self, question: Question, memory_summary: dict, memory) -> Plan:
        """The template's plan, dry-run on ``memory`` (when given) so checker and run-time errors show here."""
        plan = self.template.plan(question, memory_summary, memory)
        if memory is None or self._llm is None:
            return plan
        from spatialmem.agent.answer import force_choice
        from spatialmem.dsl import run_program

        result, _ = force_choice(run_program(plan.program, memory), question)
        return Plan(plan.program, plan.planner, plan.notes, result)

    def plan(self, question: Question, memory_summary: dict, memory=None) -> Plan:
        """The template's plan; else the LLM's (if configured); else the template's error."""
        try:
            return self._template_plan(question, memory_summary, memory)
        except (PlanningError, ProgramError) as exc:
            if self._llm is None:
                raise
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            plan = self._llm.plan(question, memory_summary, memory)
            return Plan(plan.program, plan.planner, {**plan.notes, "template_error": reason}, plan.result)

    def answer_with_images(self, question: Question, result, program: str) -> str | None:
        """Delegate image questions to the LLM planner when there is one."""
        if self._llm is None:
            return None
        return self._llm.answer_with_images(question, result, program)
