"""LLM planner: prompt a chat model for a program, check it, send diagnostics back for repair.

Loop (at most ``1 + max_repairs`` requests): ask -> extract the program from the reply -> parse and
(with a memory) statically check it and dry-run it -> on diagnostics (syntax, checker or runtime, e.g.
``the("chair")`` with three chairs), send their rendered text back and ask again.
The accepted program is returned; the caller (:func:`spatialmem.agent.answer.answer_question`)
executes it. When the executed program called ``look(...)``, :meth:`LLMPlanner.answer_with_images`
sends the images (PNG base64 data URLs) with the question to a vision-capable model for the final
answer. Every exchange is appended to ``transcript_dir/<question id>.jsonl``.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.agent.base import Plan, PlannerConfig, Question
from spatialmem.agent.llm_client import LLMClient
from spatialmem.agent.prompts import build_messages, extract_program, repair_message, vision_messages
from spatialmem.errors import InputError, LLMError, ProgramError

_SAFE_RE = re.compile(r"[^A-Za-z0-9._-]+")
_EMPTY_REPLY = "E-EMPTY 1:1: the reply contained no program\n  hint: reply with the program inside a ```sm fence"


def image_data_url(image: np.ndarray) -> str:
    """An (H, W, 3) or (H, W) uint8 image as a ``data:image/png;base64,...`` URL."""
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def render_diagnostics(diagnostics) -> str:
    """The diagnostics' rendered text, one block each (what the model reads to repair)."""
    out = []
    for d in diagnostics:
        render = getattr(d, "render", None)
        out.append(render() if callable(render) else str(d))
    return "\n".join(out)


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
    """Plans with an OpenAI-compatible chat model and a check-and-repair loop."""

    name = "llm"

    def __init__(self, config: PlannerConfig | None = None, client: LLMClient | None = None) -> None:
        self.config = config or PlannerConfig()
        if self.config.llm is None and client is None:
            raise InputError("the LLM planner needs a model: pass --llm-model NAME (and --llm-base-url URL)")
        if self.config.max_repairs < 0:
            raise InputError(f"max_repairs must be >= 0, got {self.config.max_repairs}")
        self.client = client or LLMClient(self.config.llm)
        self._reference: str | None = None

    def _reference_text(self) -> str:
        if self._reference is None:
            from spatialmem.dsl import reference_text

            self._reference = reference_text()
        return self._reference

    def _diagnose(self, program: str, memory) -> tuple[str, Any]:
        """Rendered diagnostics for ``program`` ("" when it parses and checks cleanly) and the dry run's
        RunResult (None when there is no memory or the program failed)."""
        from spatialmem.dsl import check, execute, parse

        if not program.strip():
            return _EMPTY_REPLY, None
        try:
            prog = parse(program)
        except ProgramError as exc:
            return render_diagnostics(exc.diagnostics) or str(exc), None
        if memory is None:
            return "", None
        diags = check(prog, memory)
        if diags:
            return render_diagnostics(diags), None
        try:  # a dry run: runtime failures (e.g. the("chair") with three chairs) are repairable too
            return "", execute(prog, memory)
        except ProgramError as exc:  # ProgramRuntimeError included
            return render_diagnostics(exc.diagnostics) or str(exc), None

    def plan(self, question: Question, memory_summary: dict, memory=None) -> Plan:
        """Ask the model, repair until the program checks, return it.

        Raises:
            LLMError: the endpoint failed, or no valid program after ``1 + max_repairs`` replies.
        """
        log = Transcript(self.config.transcript_dir, question.id)
        messages = build_messages(question, memory_summary, self._reference_text())
        log.log("question", id=question.id, text=question.text, options=list(question.options),
                question_type=question.question_type)
        diagnostics = ""
        program = ""
        tries = 1 + self.config.max_repairs
        for attempt in range(1, tries + 1):
            log.log("request", attempt=attempt, messages=_loggable(messages))
            try:
                reply = self.client.chat(messages)
            except LLMError as exc:
                log.log("error", attempt=attempt, message=str(exc))
                raise
            log.log("reply", attempt=attempt, text=reply.text, model=reply.model, attempts=reply.attempts,
                    elapsed_s=round(reply.elapsed_s, 4))
            program = extract_program(reply.text)
            diagnostics, result = self._diagnose(program, memory)
            if not diagnostics:
                log.log("accepted", attempt=attempt, program=program)
                return Plan(program=program, planner=self.name, notes={"llm_attempts": attempt}, result=result)
            log.log("diagnostics", attempt=attempt, program=program, text=diagnostics)
            messages = messages + [{"role": "assistant", "content": reply.text}, repair_message(program, diagnostics)]
        first = diagnostics.splitlines()[0] if diagnostics else "none"
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
        log.log("vision_reply", text=reply.text, model=reply.model)
        return reply.text.strip()
