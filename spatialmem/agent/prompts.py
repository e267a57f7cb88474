"""Prompts for the LLM planner, and program extraction from model replies.

The prompt is built from: the query-language reference generated from the operation table
(:func:`spatialmem.dsl.reference_text`), the memory's summary (categories with counts, room facts),
a few worked examples (the template planner's programs for typical questions) and the question.
"""

from __future__ import annotations

import json
import re
from typing import Any

from spatialmem.agent.base import Question

SYSTEM_PROMPT = (
    "You answer questions about a 3D scene by writing a short program in a small spatial query "
    "language. The program runs on the scene's memory; it must end with answer(...). Reply with the "
    "program only, inside a ```sm code fence. Never write Python; use only the operations listed."
)

WORKED_EXAMPLES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("How many chair(s) are in this room?", (), 'answer(count(objects("chair")))'),
    (
        "Measuring from the closest point of each object, what is the distance between the sofa and the tv "
        "(in meters)?",
        (),
        'answer(distance(the("sofa"), the("tv")))',
    ),
    (
        "What is the length of the longest dimension (length, width, or height) of the bed, measured in "
        "centimeters?",
        (),
        'answer(to_cm(the("bed").longest_side))',
    ),
    (
        "If I am standing by the sofa and facing the tv, is the lamp to the left or the right of the tv?",
        ("A. left", "B. right"),
        'v = stand_at(the("sofa"), facing=the("tv"))\n'
        'answer(choose(["A. left", "B. right"], direction(v, the("lamp"), scheme="left_right")))',
    ),
    (
        "Which of these objects (chair, lamp, tv) is the closest to the bed?",
        ("A. chair", "B. lamp", "C. tv"),
        'answer(choose(["A. chair", "B. lamp", "C. tv"], nearest(the("bed"), among=["chair", "lamp", "tv"])))',
    ),
)

_FENCE_RE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[ \t]*\n(.*?)```", re.S)


def summary_text(summary: dict[str, Any]) -> str:
    """The memory summary as a few readable lines."""
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


def build_messages(question: Question, summary: dict[str, Any], reference: str) -> list[dict[str, Any]]:
    """The first request of a planning conversation (system + user message)."""
    examples = "\n\n".join(
        f"Question: {question_text(Question(q, opts))}\n```sm\n{prog}\n```" for q, opts, prog in WORKED_EXAMPLES
    )
    user = (
        f"# Query language reference\n{reference.strip()}\n\n"
        f"# Scene memory\n{summary_text(summary)}\n\n"
        f"# Worked examples\n{examples}\n\n"
        "# Task\nWrite the program that answers this question. For multiple choice, pass the options list "
        "exactly as given to choose(...). Use only the categories listed for this scene.\n\n"
        f"Question: {question_text(question)}"
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def repair_message(program: str, diagnostics_text: str) -> dict[str, Any]:
    """The user turn that sends the checker's diagnostics back for a repair."""
    return {
        "role": "user",
        "content": (
            "The program was rejected by the checker:\n"
            f"{diagnostics_text.strip()}\n\n"
            "Fix it and reply with the complete corrected program only, inside a ```sm code fence."
        ),
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

    Leading "Program:" labels and surrounding blank lines are removed. Returns "" for an empty reply.
    """
    text = (reply or "").strip()
    fences = _FENCE_RE.findall(text + ("\n" if not text.endswith("\n") else ""))
    if fences:
        preferred = [body for lang, body in fences if lang.lower() in ("sm", "spatialmem", "dsl")]
        body = (preferred or [body for _, body in fences])[0]
        return body.strip()
    if text.startswith("```"):  # an unterminated fence
        text = text.split("\n", 1)[1] if "\n" in text else ""
    text = re.sub(r"^(?:program|answer)\s*:\s*", "", text, flags=re.I)
    return text.strip().strip("`").strip()
