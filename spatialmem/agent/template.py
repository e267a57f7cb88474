"""Rule-based planner for every VSI-Bench question form (no model needed).

Understands the ten VSI-Bench question types with their benchmark phrasings (docs/benchmark.md) and
small variants: "distance" / "direct distance", "(s)" plurals and plain plurals, multi-word
categories ("trash bin"), line breaks, any letter case, option lists; route questions in every
official form (:mod:`spatialmem.agent.routes`). It emits the programs of the team
contract (the query language, :mod:`spatialmem.dsl`) and raises ``PlanningError("cannot plan: ...")``
for anything else. The question type is used when given; otherwise it is inferred from the text.

Memory-aware choices (from the memory summary's category counts): names are resolved onto the
memory's categories by :func:`spatialmem.vocab.resolve` (synonyms, plurals, spelling variants,
typos; each resolution is listed in the plan's notes under ``"resolved"``; an ambiguous name
fails); an object the question names as unique ("the table") is ``the("table")``, or the largest
"table" when the memory holds several (``resolve_duplicates``); relative-distance candidates the
memory never saw are dropped from ``among``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from spatialmem.agent.base import Plan, PlannerConfig, Question, cannot_plan
from spatialmem.agent.routes import RouteProgramBuilder, parse_route_question
from spatialmem.dsl.ops.objects import largest_of, quote
from spatialmem.errors import PlanningError
from spatialmem.question_types import DIRECTION_SCHEMES, REL_DIRECTION_TASK
from spatialmem.vocab import clean_category, resolve


class CategoryCounts(dict):
    """The memory's ``{category: instance count}`` while one question is planned, plus ``log``: the
    name resolutions and landmark decisions made (they go to the plan's notes, ``"resolved"``)."""

    def __init__(self, counts: dict[str, int]) -> None:
        super().__init__(counts)
        self.log: list[str] = []


def text_list(items: Sequence[str]) -> str:
    """``["a", "b"]`` in the query language."""
    return "[" + ", ".join(quote(i) for i in items) + "]"


def normalize(text: str) -> str:
    """Collapse whitespace (line breaks included) to single spaces."""
    return " ".join(str(text).split())


class TemplatePlanner:
    """Maps VSI-Bench question forms to query-language programs (see module docstring)."""

    name = "template"

    def __init__(self, config: PlannerConfig | None = None, resolve_duplicates: bool = True) -> None:
        self.config = config or PlannerConfig()
        self.resolve_duplicates = resolve_duplicates
        self._parsers: dict[str, Callable[[str, Question, dict[str, int]], str]] = {
            "route_planning": self._route,
            REL_DIRECTION_TASK: self._direction,
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
        cats = CategoryCounts(dict((memory_summary or {}).get("categories") or {}))
        qtype = question.question_type
        order = list(self._parsers)
        if qtype:
            key = REL_DIRECTION_TASK if qtype.startswith(REL_DIRECTION_TASK) else qtype  # e.g. a custom _clock
            if key in self._parsers:
                order.remove(key)
                order.insert(0, key)
        first_error: PlanningError | None = None
        for key in order:
            cats.log.clear()
            try:
                program = self._parsers[key](text, question, cats)
            except PlanningError as exc:  # the form matched but cannot be planned: the best message
                first_error = first_error or exc
                continue
            if program:
                notes = {"form": key, **({"resolved": list(cats.log)} if cats.log else {})}
                return Plan(program=program, planner=self.name, notes=notes)
        if first_error is not None:
            raise first_error
        raise cannot_plan(f"the question matches no known question form: {text[:120]!r}")

    # ------------------------------------------------------------------ helpers
    def _the(self, category: str, cats: dict[str, int]) -> str:
        """``the("x")``; when the memory holds several "x" but the question names one (VSI-Bench asks only
        about unique objects, so the extras are usually over-segmented fragments), the largest one."""
        if self.resolve_duplicates and cats.get(category, 0) > 1:
            return largest_of(category)
        return f"the({quote(category)})"

    @staticmethod
    def _cat(raw: str, cats: dict[str, int]) -> str:
        """The memory category for a name as written (:func:`spatialmem.vocab.resolve`), logged in ``cats.log``.

        An unambiguous synonym, plural, spelling variant or typo is resolved; an ambiguous name fails
        naming the candidates; an unknown one passes through for the checker to report with hints.
        """
        r = resolve(raw, list(cats))
        if r.how == "ambiguous":
            raise cannot_plan(f"{r.note()}; the question must name one of them")
        if r.how not in ("exact", "none") and hasattr(cats, "log"):
            cats.log.append(r.note())
        return r.name

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
        cat = self._cat(m.group("cat"), cats)
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
        obj = self._the(self._cat(m.group("cat"), cats), cats)
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
        a = self._the(self._cat(m.group("a"), cats), cats)
        b = self._the(self._cat(m.group("b"), cats), cats)
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
        among = [self._cat(c, cats) for c in raw]
        if cats and any(c in cats for c in among):  # a candidate the memory never saw cannot be the answer
            among = [c for c in among if c in cats]
        ref = self._the(self._cat(m.group("ref"), cats), cats)
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
        scheme = DIRECTION_SCHEMES.get(q.question_type or "")
        if scheme is None:
            if "o'clock" in rest or "clock" in rest:
                scheme = "clock"
            elif "front-left" in rest or "quadrant" in rest or "back-left" in rest:
                scheme = "quadrant"
            elif re.search(r"\bback\b", rest):
                scheme = "left_right_back"
            else:
                scheme = "left_right"
        a, b, c = (self._the(self._cat(m.group(k), cats), cats) for k in ("a", "b", "c"))
        return (
            f"v = stand_at({a}, facing={b})\n"
            + self._choose_or_answer(q.options, f'direction(v, {c}, scheme="{scheme}")')
        )

    def _appearance(self, text: str, q: Question, cats: dict[str, int]) -> str:
        m = re.search(r"\bappearance order of the following (?:categories|objects)[^:]*:\s*(?P<list>.+?)\s*[?.]?$",
                      text, re.I)
        if not m:
            return ""
        items = [self._cat(c, cats) for c in self._split_list(m.group("list"))]
        if len(items) < 2:
            raise cannot_plan("the appearance-order question lists fewer than two categories")
        return self._choose_or_answer(q.options, f"appearance_order({text_list(items)})")

    def _route(self, text: str, q: Question, cats: dict[str, int]) -> str:
        rq = parse_route_question(text)
        if rq is None:
            return ""
        builder = RouteProgramBuilder(list(cats), lambda c: self._the(c, cats))
        program = builder.build(rq, lambda turns: self._choose_or_answer(q.options, turns))
        log = getattr(cats, "log", None)
        if log is not None:
            log.extend(builder.notes)
        return program
