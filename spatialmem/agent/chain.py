"""Chain planner: the template planner first, the LLM planner when configured and the template cannot plan."""

from __future__ import annotations

from spatialmem.agent.base import Plan, PlannerConfig, Question
from spatialmem.agent.template import TemplatePlanner
from spatialmem.errors import PlanningError


class ChainPlanner:
    """Template first; on ``PlanningError`` falls back to :class:`~spatialmem.agent.llm_planner.LLMPlanner`."""

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

    def plan(self, question: Question, memory_summary: dict, memory=None) -> Plan:
        """The template's plan; else the LLM's (if configured); else the template's PlanningError."""
        try:
            return self.template.plan(question, memory_summary, memory)
        except PlanningError as exc:
            if self._llm is None:
                raise
            plan = self._llm.plan(question, memory_summary, memory)
            return Plan(plan.program, plan.planner, {**plan.notes, "template_error": str(exc)}, plan.result)

    def answer_with_images(self, question: Question, result, program: str) -> str | None:
        """Delegate image questions to the LLM planner when there is one."""
        if self._llm is None:
            return None
        return self._llm.answer_with_images(question, result, program)
