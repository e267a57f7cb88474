"""LLM planner: prompt a chat model for a program, check it, repair it adaptively.

Loop (at most ``1 + max_repairs`` requests, all within the question's time budget):

1. ask (grammar-constrained where the server supports it; see :mod:`spatialmem.agent.llm_client`);
2. extract the program; a reply that is an answer, not a program, is told exactly that;
3. apply the unambiguous local fixes (:mod:`spatialmem.agent.repair`) and record them;
4. a program identical to one already rejected ends the loop early (:class:`RepairStalledError`);
5. parse, check and dry-run it; a multiple-choice question must be answered by ``choose(...)``
   (:func:`spatialmem.agent.answer.force_choice`);
6. on diagnostics, keep only the extracted program as the assistant turn and send the diagnostics as
   plain text.

The prompt lists the memory's categories and worked examples of the question's own type
(:mod:`spatialmem.agent.fewshot`), within a token budget. When the executed program called
``look(...)``, :meth:`LLMPlanner.answer_with_images` sends the images to a vision-capable model.
Every request, every HTTP attempt (and why it failed), every fix and diagnostic is appended to
``transcript_dir/<question id>.jsonl``.
"""

from __future__ import annotations

import base64
import io
import json
import math
import re
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.agent.answer import force_choice
from spatialmem.agent.base import Plan, PlannerConfig, Question
from spatialmem.agent.fewshot import examples_for
from spatialmem.agent.llm_client import LLMClient
from spatialmem.agent.prompts import extract_program, fence, fit_messages, repair_message, vision_messages
from spatialmem.agent.repair import largest_for_fragments, local_fixes, not_a_program
from spatialmem.errors import InputError, LLMEndpointError, LLMError, ProgramError, RepairStalledError

_SAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_LOGGED_REPLY_CHARS = 4000


def image_data_url(image: np.ndarray) -> str:
    """An (H, W, 3) or (H, W) uint8 image as a ``data:image/png;base64,...`` URL."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


class Transcript:
    """Appends JSON events for one question to ``folder/<id>.jsonl`` (no-op without a folder)."""

    _lock = threading.Lock()

    def __init__(self, folder: Path | None, question_id: str) -> None:
        self.path = None if folder is None else Path(folder) / f"{_SAFE_RE.sub('_', question_id) or 'q'}.jsonl"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)

    def log(self, event: str, **fields: Any) -> None:
        if self.path is None:
            return
        row = {"time": round(time.time(), 3), "event": event, **fields}
        line = json.dumps(row, default=str, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8", errors="backslashreplace") as fh:  # lone surrogates
            fh.write(line + "\n")
            fh.flush()


def _loggable(messages: list[dict]) -> list[dict]:
    """Messages with image data URLs replaced by a short placeholder."""
    out = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):
            content = [
                {"type": "image_url", "image_url": {"url": "<png data url omitted>"}}
                if isinstance(p, dict) and p.get("type") == "image_url" else p
                for p in content
            ]
        out.append({**m, "content": content})
    return out


class LLMPlanner:
    """Plans with an OpenAI-compatible chat model and an adaptive check-and-repair loop."""

    name = "llm"

    def __init__(self, config: PlannerConfig | None = None, client: LLMClient | None = None) -> None:
        self.config = config or PlannerConfig()
        if self.config.llm is None and client is None:
            raise InputError("the LLM planner needs a model: pass --llm-model NAME (and --llm-base-url URL)")
        if self.config.max_repairs < 0:
            raise InputError(f"max_repairs must be >= 0, got {self.config.max_repairs}")
        budget = self.config.question_budget_s
        if not isinstance(budget, (int, float)) or not math.isfinite(budget) or budget <= 0:
            raise InputError(f"--llm-question-budget must be a finite number of seconds > 0, got {budget!r}")
        if self.config.prompt_budget_tokens < 256:
            raise InputError(f"--llm-prompt-tokens must be >= 256, got {self.config.prompt_budget_tokens}")
        self.client = client or LLMClient(self.config.llm)
        self._reference: str | None = None

    def _reference_text(self) -> str:
        if self._reference is None:
            from spatialmem.dsl import reference_text

            self._reference = reference_text()
        return self._reference

    def _diagnose(self, program: str, memory, question: Question) -> tuple[list, Any, str | None]:
        """``(diagnostics, dry-run result, forced-choice note)``; no diagnostics = accepted."""
        from spatialmem.dsl import check, execute, parse
        from spatialmem.dsl import diagnostics as D

        if not program.strip():
            return [D.Diagnostic(D.NOT_A_PROGRAM, "the reply contained no program",
                                 hint="reply with the program only; it must end with answer(...)")], None, None
        answer_like = not_a_program(program, question)
        if answer_like is not None:
            return [answer_like], None, None
        try:
            prog = parse(program)
        except ProgramError as exc:
            return list(exc.diagnostics), None, None
        if memory is None:
            return [], None, None
        diags = check(prog, memory)
        if diags:
            return diags, None, None
        try:  # a dry run: runtime failures (e.g. the("chair") with three chairs) are repairable too
            result, note = force_choice(execute(prog, memory), question)
        except ProgramError as exc:  # ProgramRuntimeError and the forced-choice rejection included
            return list(exc.diagnostics), None, None
        return [], result, note

    def _first_messages(self, question: Question, summary: dict, log: Transcript) -> list[dict]:
        grammar = self.client.grammar_mode
        examples = examples_for(question, summary, self.config.few_shot) if self.config.few_shot else []
        messages, tokens, kept = fit_messages(question, summary, self._reference_text(), examples, grammar,
                                              self.config.prompt_budget_tokens, self.client.count_tokens)
        log.log("prompt", grammar=grammar, tokens=tokens, budget_tokens=self.config.prompt_budget_tokens,
                examples=[e.question.question_type for e in examples[:kept]], over_budget=tokens >
                self.config.prompt_budget_tokens)
        return messages

    def plan(self, question: Question, memory_summary: dict, memory=None) -> Plan:
        """Ask the model, repair until the program checks (and dry-runs), return it.

        Raises:
            LLMEndpointError: the endpoint failed (unreachable, deadline, HTTP error, budget spent).
            RepairStalledError: the model sent a rejected program again.
            LLMError: no valid program after ``1 + max_repairs`` replies.
        """
        deadline = time.monotonic() + self.config.question_budget_s
        log = Transcript(self.config.transcript_dir, question.id)
        log.log("question", id=question.id, text=question.text, options=list(question.options),
                question_type=question.question_type)
        messages = self._first_messages(question, memory_summary, log)
        grammar = self.client.grammar_mode
        rejected: dict[str, int] = {}
        diags: list = []
        all_fixes: list[str] = []
        tries = 1 + self.config.max_repairs
        for attempt in range(1, tries + 1):
            log.log("request", attempt=attempt, messages=_loggable(messages))
            try:
                reply = self.client.chat(messages, deadline=deadline, constrained=True)
            except LLMEndpointError as exc:
                log.log("error", attempt=attempt, message=str(exc), http_attempts=[asdict(a) for a in exc.attempts])
                raise
            log.log("reply", attempt=attempt, text=reply.text[:MAX_LOGGED_REPLY_CHARS],
                    truncated=len(reply.text) > MAX_LOGGED_REPLY_CHARS, model=reply.model, grammar=reply.grammar,
                    finish_reason=reply.finish_reason, elapsed_s=round(reply.elapsed_s, 4),
                    http_attempts=[asdict(a) for a in reply.attempts])
            raw = extract_program(reply.text)
            if raw in rejected:
                message = (f"the LLM sent the same rejected program again (attempt {attempt} repeats attempt "
                           f"{rejected[raw]}); stopped repairing. Last diagnostic: "
                           f"{diags[0].code if diags else 'none'}: {diags[0].message if diags else ''}")
                log.log("stalled", attempt=attempt, program=raw, message=message)
                raise RepairStalledError(message)
            rejected[raw] = attempt
            program, fixes = local_fixes(raw, memory) if raw.strip() else (raw, [])
            if fixes:
                all_fixes += fixes
                log.log("local_fix", attempt=attempt, before=raw, after=program, fixes=fixes)
            diags, result, forced = self._diagnose(program, memory, question)
            for _ in range(4):  # a question names one object; the memory may hold fragments of it
                resolved, what = largest_for_fragments(program, diags, memory)
                if what is None:
                    break
                log.log("local_fix", attempt=attempt, before=program, after=resolved, fixes=[what])
                program, fixes, all_fixes = resolved, fixes + [what], all_fixes + [what]
                diags, result, forced = self._diagnose(program, memory, question)
            if not diags:
                notes: dict[str, Any] = {"llm_attempts": attempt, "grammar": reply.grammar}
                if all_fixes:
                    notes["local_fixes"] = all_fixes
                if forced:
                    notes["forced_choice"] = forced
                log.log("accepted", attempt=attempt, program=program, forced_choice=forced)
                return Plan(program=program, planner=self.name, notes=notes, result=result)
            log.log("diagnostics", attempt=attempt, program=program, diagnostics=[d.to_dict() for d in diags])
            messages = messages + [{"role": "assistant", "content": fence(program, grammar)},
                                   repair_message(diags, fixes)]
        first = f"{diags[0].code}: {diags[0].message}" if diags else "none"
        message = f"the LLM gave no valid program after {tries} attempt(s); last diagnostic: {first}"
        log.log("error", message=message)
        raise LLMError(message)

    def answer_with_images(self, question: Question, result, program: str) -> str | None:
        """Final answer from a vision model given the images the program marked with ``look``."""
        images = list(getattr(result, "images", ()) or ())
        if not images or not self.config.use_vision:
            return None
        log = Transcript(self.config.transcript_dir, question.id)
        messages = vision_messages(question, program, getattr(result, "answer_text", ""),
                                   [image_data_url(i) for i in images])
        model = self.client.config.vision_model or self.client.config.model
        log.log("vision_request", model=model, n_images=len(images), messages=_loggable(messages))
        reply = self.client.chat(messages, model=model)
        log.log("vision_reply", text=reply.text[:MAX_LOGGED_REPLY_CHARS], model=reply.model,
                http_attempts=[asdict(a) for a in reply.attempts])
        return reply.text.strip()
