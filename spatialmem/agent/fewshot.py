"""Few-shot examples for the LLM planner, picked by question type and written for the current memory.

For a question of type T, sibling questions of type T are phrased with the benchmark's own templates
(:mod:`spatialmem.synth.templates`) over the memory's own categories (not the ones the question names,
so that nothing is copied into the answer), and the template planner writes their programs. A small
model thus sees the hard forms (medium / hard direction, route, appearance order, room size) exactly
when it needs them, and never a category the scene does not have.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from spatialmem.agent.base import Question
from spatialmem.errors import PlanningError
from spatialmem.geometry.directions import SCHEMES
from spatialmem.question_types import DIRECTION_SCHEMES
from spatialmem.synth import templates as T

# the question type from the benchmark's phrasing, most specific first (when the type is not given)
_TYPE_CUES: tuple[tuple[str, str], ...] = (
    ("route_planning", r"navigate to|robot beginning"),
    ("obj_appearance_order", r"appearance order"),
    ("object_rel_direction_hard", r"front-left|quadrant"),
    ("object_rel_direction_medium", r"left, right, or back"),
    ("object_rel_direction_easy", r"to the left or the right"),
    ("object_rel_distance", r"closest to|farthest from|nearest to"),
    ("room_size_estimation", r"size of (?:this|the) room|square met"),
    ("object_abs_distance", r"distance between"),
    ("object_size_estimation", r"longest dimension|how (?:tall|long|wide|big)"),
    ("object_counting", r"how many"),
)


@dataclass(frozen=True)
class Example:
    """One worked example: the question (with options) and the template planner's program for it."""

    question: Question
    program: str


def infer_type(text: str) -> str | None:
    """The VSI-Bench question type a text is phrased as, or None."""
    low = " ".join(text.lower().split())
    for qtype, cue in _TYPE_CUES:
        if re.search(cue, low):
            return qtype
    return None


def _named_in(text: str, category: str) -> bool:
    return re.search(r"(?<![a-z])" + re.escape(category.lower()) + r"(?:e?s)?(?![a-z])", text.lower()) is not None


def _picks(categories: dict[str, int], avoid_text: str, k: int, unique: bool) -> list[list[str]]:
    """Up to two disjoint-ish groups of ``k`` memory categories, avoiding those the question names."""
    cats = [c for c, n in categories.items() if not unique or n == 1] or list(categories)
    fresh = [c for c in cats if not _named_in(avoid_text, c)]
    pool = fresh if len(fresh) >= k else (fresh + [c for c in cats if c not in fresh])
    if len(pool) < k:
        return []
    groups = [pool[:k]]
    rest = pool[k:] + pool[:k]
    second = rest[:k]
    if len(set(second)) == k and second != groups[0]:
        groups.append(second)
    return groups


def sibling_questions(qtype: str, categories: dict[str, int], avoid_text: str = "",
                      options: tuple[str, ...] = ()) -> list[Question]:
    """Questions of ``qtype`` in the benchmark's phrasing, over the memory's ``categories`` (``avoid_text``
    and ``options``: the asked question's, whose categories are avoided and whose route shape is kept)."""
    many = [c for c, n in categories.items() if n > 1 and not _named_in(avoid_text, c)]
    if qtype == "object_counting":
        fresh = [c for c in categories if not _named_in(avoid_text, c)] or list(categories)
        return [Question(T.COUNTING.format(category=c), (), qtype) for c in (many or fresh)[:2]]
    if qtype == "object_size_estimation":
        return [Question(T.SIZE.format(category=g[0]), (), qtype) for g in _picks(categories, avoid_text, 1, True)]
    if qtype == "object_abs_distance":
        return [Question(tpl.format(a=g[0], b=g[1]), (), qtype)
                for g, tpl in zip(_picks(categories, avoid_text, 2, True), (T.ABS_DISTANCE, T.ABS_DISTANCE_DIRECT))]
    if qtype == "room_size_estimation":
        return [Question(T.ROOM_SIZE, (), qtype)]
    if qtype == "object_rel_distance":
        return [Question(T.REL_DISTANCE.format(category=g[0], c1=g[1], c2=g[2], c3=g[3], c4=g[4]),
                         tuple(T.format_options(g[1:])), qtype) for g in _picks(categories, avoid_text, 5, False)]
    if qtype in DIRECTION_SCHEMES:
        scheme, tpl = DIRECTION_SCHEMES[qtype], T.DIRECTION_TEMPLATES[qtype]
        return [Question(tpl.format(a=g[0], b=g[1], c=g[2]), tuple(T.format_options(SCHEMES[scheme])), qtype)
                for g in _picks(categories, avoid_text, 3, True)]
    if qtype == "obj_appearance_order":
        out = []
        for g in _picks(categories, avoid_text, 4, False):
            perms = [list(p) for p in itertools.islice(itertools.permutations(g), 0, 24, 7)][:4]
            out.append(Question(T.APPEARANCE_ORDER.format(a=g[0], b=g[1], c=g[2], d=g[3]),
                                tuple(T.format_options([", ".join(p) for p in perms])), qtype))
        return out
    if qtype == "route_planning":
        return _route_siblings(categories, avoid_text, options)
    return []


def _recast(text: str, categories: dict[str, int]) -> str | None:
    """``text`` with every memory category it names replaced by a different, unnamed unique category (so the
    example keeps the question's exact form: its blanks, written turns, distances and landmark phrases), or
    None when the memory has too few categories to spare."""
    named = sorted((c for c in categories if _named_in(text, c)), key=len, reverse=True)
    spare = [c for c, n in categories.items() if n == 1 and c not in named]
    if not named or len(spare) < len(named):
        return None
    swap = dict(zip(named, spare))
    pattern = re.compile(r"(?<![a-z])(" + "|".join(re.escape(c) for c in named) + r")(?![a-z])", re.I)
    return pattern.sub(lambda m: swap[m.group(1).lower()], text)


def _route_siblings(categories: dict[str, int], avoid_text: str, options: tuple[str, ...]) -> list[Question]:
    """The question recast over other categories (its own shape: several blanks, written turns, "Go forward
    about one foot", "the X by the Y"; its turn-sequence options, which name no category), then the
    simplest one-blank route."""
    out = []
    recast = _recast(avoid_text, categories)
    if recast is not None and recast != avoid_text and options:
        out.append(Question(recast, options, "route_planning"))
    options = tuple(T.format_options([T.turn_sequence_text([t]) for t in ("turn left", "turn right", "turn back")]))
    for g in _picks(categories, avoid_text, 4, True):
        out.append(Question(T.ROUTE.format(a=g[0], b=g[1], c=g[3], steps=T.route_steps([g[2]], g[3])), options,
                            "route_planning"))
    return out


def examples_for(question: Question, summary: dict, limit: int = 2) -> list[Example]:
    """Up to ``limit`` worked examples of the question's type (given, else inferred from its text).

    Each is a sibling question over the memory's own categories with the template planner's program;
    questions the template planner cannot plan are skipped.
    """
    from spatialmem.agent.template import TemplatePlanner

    qtype = question.question_type or infer_type(question.text)
    categories = dict(summary.get("categories") or {})
    if qtype is None or not categories:
        return []
    planner = TemplatePlanner()
    out: list[Example] = []
    for sibling in sibling_questions(qtype, categories, question.text, tuple(question.options)):
        try:
            plan = planner.plan(sibling, summary)
        except PlanningError:
            continue
        out.append(Example(sibling, plan.program))
        if len(out) >= limit:
            break
    return out
