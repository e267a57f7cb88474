"""Prompts for the LLM planner, diagnostics as the model reads them, and program extraction from replies.

The first request is built from: the query-language reference generated from the operation table
(:func:`spatialmem.dsl.reference_text`), the memory's summary and its category names, worked
examples of the question's own type (:mod:`spatialmem.agent.fewshot`) and the question. Repair turns
carry only the extracted program (as the assistant turn) and plain-text diagnostics (code, position,
message, offending token, hint; no caret art, which small models copy into their next program).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from spatialmem.agent.base import Question

SYSTEM_PROMPT = (
    "You answer questions about a 3D scene by writing a short program in a small spatial query "
    "language. The program runs on the scene's memory and must end with answer(...). "
    "For a multiple-choice question the answer must be answer(choose(OPTIONS, value)), with the options "
    "list copied exactly as given: never answer with an option's text or letter alone. "
    "Use only the operations listed and only the scene's category names. Never write Python."
)
FORMAT_RULES = {
    "off": "Reply with the program only, inside a ```sm code fence.",
    "gbnf": "Reply with the program only (no code fence, no explanation).",
    "lark": "Reply with the program only (no code fence, no explanation).",
    "json": 'Reply with a JSON object {"program": "<the program>"} only.',
}

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)


def summary_text(summary: dict[str, Any]) -> str:
    """The memory summary as a few readable lines (categories with counts first)."""
    cats = summary.get("categories") or {}
    lines = [f"scene: {summary.get('scene_id', '?')}"]
    if cats:
        lines.append("object categories (count): " + ", ".join(f"{c} ({n})" for c, n in cats.items()))
    else:
        lines.append("object categories: none")
    if summary.get("room_area_m2") is not None:
        lines.append(f"room floor area: {summary['room_area_m2']} m^2")
    if summary.get("duration_s") is not None:
        lines.append(f"video duration: {summary['duration_s']} s, {summary.get('n_cameras', 0)} camera poses")
    extra = {k: v for k, v in summary.items()
             if k not in ("scene_id", "categories", "room_area_m2", "duration_s", "n_cameras")}
    if extra:
        lines.append("other facts: " + json.dumps(extra, sort_keys=True, default=str))
    return "\n".join(lines)


def question_text(question: Question) -> str:
    """The question with its options, as shown to the model."""
    text = question.text.strip()
    if question.options:
        text += "\nOptions:\n" + "\n".join(question.options)
    return text


def fence(program: str, grammar: str = "off") -> str:
    """A program as the assistant wrote it: fenced for free decoding, bare under a grammar, JSON for json."""
    if grammar == "json":
        return json.dumps({"program": program})
    return program if grammar in ("gbnf", "lark") else f"```sm\n{program}\n```"


def compact_reference(reference: str) -> str:
    """The reference without the per-operation examples (``e.g. ...``): for tight token budgets."""
    return "\n".join(re.sub(r"\s+e\.g\. .*$", "", line) for line in reference.splitlines())


def build_messages(question: Question, summary: dict[str, Any], reference: str, examples: Sequence = (),
                   grammar: str = "off") -> list[dict[str, Any]]:
    """The first request of a planning conversation (system + user message).

    Args:
        question: the question.
        summary: the memory summary (its categories are listed and must be used).
        reference: the query-language reference text.
        examples: :class:`~spatialmem.agent.fewshot.Example` items of the question's type.
        grammar: the decoding mode (``off`` asks for a fenced program).
    """
    cats = list((summary.get("categories") or {}).keys())
    parts = [f"# Query language reference\n{reference.strip()}", f"# Scene memory\n{summary_text(summary)}"]
    if examples:
        shown = "\n\n".join(f"Question: {question_text(e.question)}\n{fence(e.program, grammar)}" for e in examples)
        parts.append(f"# Worked examples (this scene, same kind of question)\n{shown}")
    rules = ["Write the program that answers this question."]
    if question.options:
        listed = ", ".join(json.dumps(o) for o in question.options)
        rules.append(f"It is multiple choice: end with answer(choose([{listed}], VALUE)).")
    rules.append("Use only these category names: " + (", ".join(json.dumps(c) for c in cats) or "(none)") + ".")
    rules.append(FORMAT_RULES.get(grammar, FORMAT_RULES["off"]))
    parts.append("# Task\n" + " ".join(rules) + f"\n\nQuestion: {question_text(question)}")
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "\n\n".join(parts)}]


def fit_messages(question: Question, summary: dict[str, Any], reference: str, examples: Sequence, grammar: str,
                 budget_tokens: int, count: Callable[[str], int]) -> tuple[list[dict[str, Any]], int, int]:
    """The richest first request that fits ``budget_tokens``: examples are dropped from the last, then the
    reference loses its per-operation examples. Returns ``(messages, tokens, examples kept)``; the last try
    is returned even when it is still over the budget."""
    examples = list(examples)
    for ref in (reference, compact_reference(reference)):
        for keep in range(len(examples), -1, -1):
            messages = build_messages(question, summary, ref, examples[:keep], grammar)
            tokens = count("\n".join(m["content"] for m in messages))
            if tokens <= budget_tokens:
                return messages, tokens, keep
    return messages, tokens, 0


def plain_diagnostic(d) -> str:
    """One diagnostic as plain text: code, line:column, message, offending token, hint (no caret art)."""
    where = f" at line {d.line}, column {d.column}" if getattr(d, "line", 0) else ""
    text = f"{d.code}{where}: {d.message}"
    line = getattr(d, "source_line", "") or ""
    if line and d.column:
        end = d.end_column if d.end_column > d.column else d.column + 1
        token = line[d.column - 1:end - 1].strip()
        if token:
            text += f" (offending text: {token[:60]!r})"
    if d.hint:
        text += f". Hint: {d.hint}"
    return text


def repair_message(diagnostics: Sequence, fixes: Sequence[str] = ()) -> dict[str, Any]:
    """The user turn that sends the diagnostics back for a repair (plain text, one per line)."""
    applied = ("Fixes already applied to your program: " + "; ".join(fixes) + ".\n") if fixes else ""
    body = "\n".join(f"- {plain_diagnostic(d)}" for d in diagnostics)
    return {
        "role": "user",
        "content": (f"{applied}The program was rejected:\n{body}\n\n"
                    "Fix these problems and reply with the complete corrected program only."),
    }


def vision_messages(question: Question, program: str, answer_text: str, image_urls: list[str]) -> list[dict]:
    """A request to a vision model: the question, what the program found, and the looked-at images."""
    content: list[dict[str, Any]] = [
        {
            "type": "text",
            "text": (
                f"{question_text(question)}\n\nA program over the scene's 3D memory computed: "
                f"{answer_text or '(no answer)'}\nProgram:\n{program}\n\nThe images below are views rendered "
                "from the memory. Answer the question. "
                + ("Reply with the option letter only." if question.options else "Reply with a number only.")
            ),
        }
    ]
    content += [{"type": "image_url", "image_url": {"url": url}} for url in image_urls]
    return [{"role": "user", "content": content}]


def extract_program(reply: str) -> str:
    """The program in a model reply: the first ```sm fence, else the first ``` fence, else the raw text.

    An unterminated fence (a stop sequence cut the closing one) counts; leading "Program:" labels and
    surrounding blank lines are removed. Returns "" for an empty reply.
    """
    text = (reply or "").strip()
    fences = _FENCE_RE.findall(text + ("\n" if not text.endswith("\n") else ""))
    if fences:
        preferred = [body for lang, body in fences if lang.lower() in ("sm", "spatialmem", "dsl")]
        body = (preferred or [body for _, body in fences])[0]
        return body.strip()
    opened = re.search(r"```[ \t]*[A-Za-z0-9_+-]*[ \t]*\n", text)
    if opened:  # an unterminated fence: everything after it
        text = text[opened.end():]
    text = re.sub(r"^(?:program|answer)\s*:\s*", "", text, flags=re.I)
    return text.strip().strip("`").strip()
