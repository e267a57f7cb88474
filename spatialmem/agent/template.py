"""Rule-based planner for every VSI-Bench question form (no model needed).

Understands the ten VSI-Bench question types with their benchmark phrasings (docs/benchmark.md) and
small variants: "distance" / "direct distance", "(s)" plurals and plain plurals, multi-word
categories ("trash bin"), line breaks, any letter case, option lists; route questions written by
people ("Go forward until the TV", "... until the trash bin is on your right"), whose steps are
matched case-insensitively against the memory's categories. It emits the programs of the team
contract (the query language, :mod:`spatialmem.dsl`) and raises ``PlanningError("cannot plan: ...")``
for anything else. The question type is used when given; otherwise it is inferred from the text.

Memory-aware choices (from the memory summary's category counts): categories are matched to the
memory's names (plurals, synonyms); an object the question names as unique ("the table") is
``the("table")``, or the largest "table" when the memory holds several (``resolve_duplicates``);
relative-distance candidates the memory never saw are dropped from ``among``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from spatialmem.agent.base import Plan, PlannerConfig, Question, cannot_plan
from spatialmem.errors import PlanningError
from spatialmem.vocab import SYNONYMS_BY_CATEGORY as _SYNONYMS
from spatialmem.vocab import clean_category, resolve_category

_DIRECTION_SCHEME = {
    "object_rel_direction_easy": "left_right",
    "object_rel_direction_medium": "left_right_back",
    "object_rel_direction_hard": "quadrant",
}
_TURN_RE = re.compile(r"^\s*turn\s+(left|right|back|around)\b", re.I)
_BLANK_RE = re.compile(r"\[\s*please\s+fill\s+in\s*\]", re.I)


def quote(text: str) -> str:
    """A query-language string literal for ``text`` (double quotes, backslash escapes)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def text_list(items: Sequence[str]) -> str:
    """``["a", "b"]`` in the query language."""
    return "[" + ", ".join(quote(i) for i in items) + "]"


def normalize(text: str) -> str:
    """Collapse whitespace (line breaks included) to single spaces."""
    return " ".join(str(text).split())


def find_category_in(text: str, categories: Sequence[str]) -> str | None:
    """The memory category named in ``text`` (longest match, then earliest), case-insensitive."""
    low = text.lower()
    best: tuple[int, int, int, str] | None = None
    for cat in categories:
        forms = [(cat.lower(), 0)] + [(a, 1) for c, alts in _SYNONYMS.items() if c == cat.lower() for a in alts]
        for form, is_synonym in forms:
            m = re.search(r"(?<![a-z])" + re.escape(form) + r"(?:e?s)?(?![a-z])", low)
            if m:  # longest, then earliest, then a category's own name before another's synonym
                key = (-len(form), m.start(), is_synonym, cat)
                if best is None or key < best:
                    best = key
    return None if best is None else best[3]


class TemplatePlanner:
    """Maps VSI-Bench question forms to query-language programs (see module docstring)."""

    name = "template"

    def __init__(self, config: PlannerConfig | None = None, resolve_duplicates: bool = True) -> None:
        self.config = config or PlannerConfig()
        self.resolve_duplicates = resolve_duplicates
        self._parsers: dict[str, Callable[[str, Question, dict[str, int]], str]] = {
            "route_planning": self._route,
            "object_rel_direction": self._direction,
            "object_rel_distance": self._rel_distance,
            "obj_appearance_order": self._appearance,
            "object_abs_distance": self._abs_distance,
            "object_size_estimation": self._size,
            "room_size_estimation": self._room,
            "object_counting": self._counting,
        }

    # ------------------------------------------------------------------ public
    def plan(self, question: Question, memory_summary: dict | None = None, memory=None) -> Plan:
        """Return the program for ``question`` or raise ``PlanningError("cannot plan: ...")``."""
        text = normalize(question.text)
        if not text:
            raise cannot_plan("the question is empty")
        cats = dict((memory_summary or {}).get("categories") or {})
        qtype = question.question_type
        order = list(self._parsers)
        if qtype:
            key = "object_rel_direction" if qtype.startswith("object_rel_direction") else qtype
            if key in self._parsers:
                order.remove(key)
                order.insert(0, key)
        first_error: PlanningError | None = None
        for key in order:
            try:
                program = self._parsers[key](text, question, cats)
            except PlanningError as exc:  # the form matched but cannot be planned: the best message
                first_error = first_error or exc
                continue
            if program:
                return Plan(program=program, planner=self.name, notes={"form": key})
        if first_error is not None:
            raise first_error
        raise cannot_plan(f"the question matches no known question form: {text[:120]!r}")

    # ------------------------------------------------------------------ helpers
    def _the(self, category: str, cats: dict[str, int]) -> str:
        """``the("x")``; when the memory holds several "x" but the question names one (VSI-Bench asks only
        about unique objects, so the extras are usually over-segmented fragments), the largest one."""
        if self.resolve_duplicates and cats.get(category, 0) > 1:
            return f"first(sort_by(objects({quote(category)}), key=\"volume\", descending=true))"
        return f"the({quote(category)})"

    @staticmethod
    def _choose_or_answer(options: Sequence[str], value: str) -> str:
        if options:
            return f"answer(choose({text_list(options)}, {value}))"
        return f"answer({value})"

    @staticmethod
    def _split_list(text: str) -> list[str]:
        parts = re.split(r",|\bor\b|\band\b", text)
        return [p for p in (clean_category(x) for x in parts) if p]

    @staticmethod
    def _option_texts(options: Sequence[str]) -> list[str]:
        return [re.sub(r"^\s*[A-Za-z][.)]\s*", "", o).strip() for o in options]

    # ------------------------------------------------------------------ question forms
    def _counting(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(r"\bhow many (?P<cat>.+?) (?:are|is) (?:there )?(?:in|inside|within) (?:this|the)\b", text, re.I)
        if not m:
            m = re.search(r"\b(?:count|number of) (?:the )?(?P<cat>.+?)(?: in (?:this|the) \w+)?\s*[?.]?$", text, re.I)
        if not m:
            return ""
        cat = resolve_category(m.group("cat"), cats)
        return f"answer(count(objects({quote(cat)})))"

    def _size(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(
            r"\b(?:longest|largest|biggest) (?:dimension|side|edge)\b.*?\bof (?:the|this) (?P<cat>.+?)"
            r"(?:,? measured in|,? in| \(in)\s*(?P<unit>centimeters|centimetres|cm|meters|metres|m)\b",
            text,
            re.I,
        )
        if not m:
            return ""
        obj = self._the(resolve_category(m.group("cat"), cats), cats)
        if not m.group("unit").lower().startswith("c"):
            return f"answer({obj}.longest_side)"
        return f"answer(to_cm({obj}.longest_side))"

    def _abs_distance(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(
            r"\bdistance between (?:the )?(?P<a>.+?) and (?:the )?(?P<b>.+?)"
            r"(?:\s*\(in (?P<u1>meters|metres|m|centimeters|centimetres|cm)\)|,? in (?P<u2>meters|metres|centimeters"
            r"|centimetres)|\?|\.|$)",
            text,
            re.I,
        )
        if not m or "which of" in text.lower():
            return ""
        a = self._the(resolve_category(m.group("a"), cats), cats)
        b = self._the(resolve_category(m.group("b"), cats), cats)
        value = f"distance({a}, {b})"
        unit = (m.group("u1") or m.group("u2") or "m").lower()
        if unit.startswith("c"):
            value = f"to_cm({value})"
        return f"answer({value})"

    def _room(self, text: str, q: Question, cats: dict[str, int]) -> str:
        if re.search(r"\b(?:size|area|floor area) of (?:this|the) (?:room|space|apartment)\b", text, re.I):
            return "answer(room_area())"
        return ""

    def _rel_distance(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(
            r"\bwhich of (?:these|the following) (?:objects|categories)\s*(?:\((?P<list>[^)]*)\))?,? is (?:the )?"
            r"(?P<rel>closest|nearest|farthest|furthest) (?:to|from) (?:the )?(?P<ref>.+?)\s*[?.]?$",
            text,
            re.I,
        )
        if not m:
            return ""
        raw = self._split_list(m.group("list") or "") or [
            clean_category(t) for t in self._option_texts(q.options)
        ]
        if not raw:
            raise cannot_plan("the relative-distance question lists no candidate objects")
        among = [resolve_category(c, cats) for c in raw]
        if cats and any(c in cats for c in among):  # a candidate the memory never saw cannot be the answer
            among = [c for c in among if c in cats]
        ref = self._the(resolve_category(m.group("ref"), cats), cats)
        op = "nearest" if m.group("rel").lower() in ("closest", "nearest") else "farthest"
        value = f"{op}({ref}, among={text_list(among)})"
        if not q.options:
            value = f"{value}.category"
        return self._choose_or_answer(q.options, value)

    def _direction(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(
            r"\bstanding (?:by|at|next to|beside) (?:the )?(?P<a>.+?),? (?:and )?facing (?:the )?(?P<b>.+?), "
            r"(?:is|would) (?:the )?(?P<c>.+?) (?:be )?(?:to|on|at) (?:the|my) (?P<rest>.*)$",
            text,
            re.I,
        )
        if not m:
            return ""
        rest = m.group("rest").lower()
        scheme = _DIRECTION_SCHEME.get(q.question_type or "")
        if scheme is None:
            if "o'clock" in rest or "clock" in rest:
                scheme = "clock"
            elif "front-left" in rest or "quadrant" in rest or "back-left" in rest:
                scheme = "quadrant"
            elif re.search(r"\bback\b", rest):
                scheme = "left_right_back"
            else:
                scheme = "left_right"
        a, b, c = (self._the(resolve_category(m.group(k), cats), cats) for k in ("a", "b", "c"))
        return (
            f"v = stand_at({a}, facing={b})\n"
            + self._choose_or_answer(q.options, f'direction(v, {c}, scheme="{scheme}")')
        )

    def _appearance(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(r"\bappearance order of the following (?:categories|objects)[^:]*:\s*(?P<list>.+?)\s*[?.]?$",
                      text, re.I)
        if not m:
            return ""
        items = [resolve_category(c, cats) for c in self._split_list(m.group("list"))]
        if len(items) < 2:
            raise cannot_plan("the appearance-order question lists fewer than two categories")
        return self._choose_or_answer(q.options, f"appearance_order({text_list(items)})")

    def _route(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(
            r"\b(?:beginning|starting|standing) (?:at|by|next to) (?:the )?(?P<a>.+?),? (?:and )?facing (?:the )?"
            r"(?P<b>.+?)\.\s*you want to (?:navigate|go|get) to (?:the )?(?P<c>.+?)\.",
            text,
            re.I,
        )
        if not m:
            return ""
        body = text[m.end():]
        colon = body.find("):")
        body = body[colon + 2:] if colon >= 0 else body
        body = re.split(r"you have reached", body, flags=re.I)[0]
        marks = list(re.finditer(r"(?:^|\s)\d+\s*[.)]\s+", " " + body))
        steps = [
            (" " + body)[mk.end(): marks[i + 1].start() if i + 1 < len(marks) else None].strip()
            for i, mk in enumerate(marks)
        ]
        waypoints: list[str] = []
        blanks: list[int] = []  # index in the route's turn list of each [please fill in]
        given_turn = False
        for step in steps:
            if _BLANK_RE.search(step):
                if not waypoints:
                    raise cannot_plan("a route question's first step is a turn to fill in; it must be 'Go forward'")
                blanks.append(len(waypoints) - 1)
                continue
            if _TURN_RE.match(step):
                if not waypoints:
                    raise cannot_plan("a route question's first step is a turn; it must be 'Go forward'")
                given_turn = True
                continue
            cat = find_category_in(step, cats) if cats else None
            if cat is None:
                w = re.search(
                    r"\b(?:until|to|towards|reach|past|passing)\s+(?:you (?:reach|see|pass)\s+)?(?:the |a |an )?"
                    r"(?P<x>.+?)(?:\s+is\b.*|\s+on your\b.*|[.,;]|$)",
                    step,
                    re.I,
                )
                if not w:
                    raise cannot_plan(f"route step {step!r} names no object")
                cat = resolve_category(w.group("x"), cats)
            waypoints.append(cat)
        if not waypoints:
            raise cannot_plan("the route question has no 'Go forward until the ...' steps")
        a, b = (self._the(resolve_category(m.group(k), cats), cats) for k in ("a", "b"))
        points = "[" + ", ".join(self._the(w, cats) for w in waypoints) + "]"
        head = f"v = stand_at({a}, facing={b})\n"
        if not given_turn:
            return head + self._choose_or_answer(q.options, f"route(v, {points})")
        # some turns are written out: the options list only the blanks, so pick those turns
        picked = "[" + ", ".join(f"t[{i}]" for i in blanks) + "]"
        return head + f"t = route(v, {points}).turns\n" + self._choose_or_answer(q.options, picked)

