"""Route questions in every official VSI-Bench form: parsing, landmark phrases, and the walking program.

A route question names a start ("beginning at the X facing the Y", "... and facing the Y", "... with
your back to the Y"), a destination and numbered steps, in one line or several: ``[please fill in]``
(a turn to choose), written turns ("Turn left"), "Go forward until the X" (optionally "... is on your
left/right") and distances ("Go forward about one foot"). :func:`parse_route_question` turns the text
into a :class:`RouteQuestion`; :class:`RouteProgramBuilder` writes the query-language program that
walks it step by step with ``stand_at`` / ``turn`` / ``move`` / ``face`` / ``turn_to`` / ``walk_to``.
The semantics (where the robot stands after each step, turn thresholds) are in docs/benchmark.md.

Landmark phrases resolve by head noun with modifiers: "the closest sofa" is the sofa nearest the
robot's current position (``nearest_from``), "the stool by the radiator" the stool nearest the
radiator (``nearest``), "the foot of the bed" a point on the bed (``at="foot"``), "the vase of
flowers" the vase. Each decision is written to the plan's notes; a phrase that names nothing in the
memory fails with a :class:`~spatialmem.errors.PlanningError` that quotes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from spatialmem.agent.base import cannot_plan
from spatialmem.vocab import clean_category, resolve

BLANK_RE = re.compile(r"\[\s*please\s+fill\s+in\s*\]", re.I)
_GIVEN_TURN_RE = re.compile(r"^\s*turn\s+(left|right|back|around)\b", re.I)
TURN_DEG: dict[str, float] = {"left": 90.0, "right": -90.0, "back": 180.0, "around": 180.0}
# metres per unit of a spoken distance ("about one foot", "2 meters", "three steps")
UNIT_M: dict[str, float] = {
    "foot": 0.3048, "feet": 0.3048, "ft": 0.3048, "inch": 0.0254, "inches": 0.0254, "yard": 0.9144, "yards": 0.9144,
    "meter": 1.0, "meters": 1.0, "metre": 1.0, "metres": 1.0, "m": 1.0, "centimeter": 0.01, "centimeters": 0.01,
    "centimetre": 0.01, "centimetres": 0.01, "cm": 0.01, "step": 0.75, "steps": 0.75, "pace": 0.75, "paces": 0.75,
}
_WORD_NUMBERS = {"a": 1.0, "an": 1.0, "one": 1.0, "two": 2.0, "three": 3.0, "four": 4.0, "five": 5.0, "six": 6.0,
                 "half a": 0.5, "a half": 0.5, "ten": 10.0}
_DISTANCE_RE = re.compile(
    r"^\s*(?:go|walk|move|head)\s+(?:forward|straight|ahead|on)?\s*(?:for\s+)?(?:about|around|roughly|approximately|"
    r"nearly|some|maybe)?\s*(?P<n>\d+(?:\.\d+)?|half a|a half|an|a|one|two|three|four|five|six|ten)\s+"
    r"(?P<unit>" + "|".join(sorted(UNIT_M, key=len, reverse=True)) + r")\b", re.I)
_FORWARD_RE = re.compile(
    r"\b(?:until|till|to|towards|toward|reach|reaching|past|passing)\s+"
    r"(?:you\s+(?:reach|see|pass|get to|arrive at)\s+)?"
    r"(?P<x>.+?)\s*(?:\b(?:is|are)\s+(?:on|to|at)\s+(?:your|the)\s+(?P<side>left|right)\b.*|"
    r"\bon\s+your\s+(?P<side2>left|right)\b.*|\bis\s+in\s+front\s+of\s+you\b.*|[.,;]\s*$|$)", re.I)
_START_RE = re.compile(
    r"\b(?:beginning|starting|standing|start)\s+(?:at|by|next to|near|beside|in front of)\s+(?P<a>.+?),?\s+"
    r"(?:(?:and\s+|while\s+)?facing\s+(?P<b>.+?)|with\s+(?:your|its|my)\s+back\s+(?:to|towards|toward)\s+(?P<back>.+?))"
    r"\.\s*you\s+want\s+to\s+(?:navigate|go|get|walk)\s+to\s+(?P<c>.+?)\.", re.I)
_PARTS = {"foot": "foot", "end": "foot", "bottom": "foot", "head": "head", "top": "head", "middle": "centre",
          "centre": "centre", "center": "centre", "side": "centre", "front": "centre"}
_NEAR_WORDS = r"by|near|next to|beside|close to|closest to|nearest to|nearest|in front of|under|below|above|behind|at"


@dataclass(frozen=True)
class RouteStep:
    """One step: ``kind`` is "blank" ([please fill in]), "turn" (written), "forward" (to a landmark) or "distance"."""

    kind: str
    text: str
    turn_deg: float = 0.0  # "turn": +90 left, -90 right, 180 back
    landmark: str = ""  # "forward": the landmark phrase as written
    side: str = ""  # "forward": "left" / "right" from an "is on your left/right" ending
    metres: float = 0.0  # "distance"


@dataclass(frozen=True)
class RouteQuestion:
    """A parsed route question: start phrase, facing phrase (or the one at the robot's back), destination, steps."""

    start: str
    facing: str
    back_to: bool
    destination: str
    steps: tuple[RouteStep, ...]


def split_steps(body: str) -> list[str]:
    """The step texts of a route: numbered ("1. ... 2. ...", one line or several), else sentences."""
    marks = list(re.finditer(r"(?:^|\s)\d+\s*[.)]\s+", " " + body))
    if marks:
        return [(" " + body)[mk.end(): marks[i + 1].start() if i + 1 < len(marks) else None].strip(" .;")
                for i, mk in enumerate(marks)]
    parts = re.split(r"(?<=[.;])\s+|\n+", body)
    return [p.strip(" .;") for p in parts if p.strip(" .;")]


def parse_step(text: str) -> RouteStep:
    """Classify one step (see :class:`RouteStep`); raises PlanningError for a step that is none of them."""
    if BLANK_RE.search(text):
        return RouteStep("blank", text)
    mt = _GIVEN_TURN_RE.match(text)
    if mt:
        return RouteStep("turn", text, turn_deg=TURN_DEG[mt.group(1).lower()])
    md = _DISTANCE_RE.match(text)
    if md:
        n = md.group("n").lower()
        value = _WORD_NUMBERS[n] if n in _WORD_NUMBERS else float(n)
        return RouteStep("distance", text, metres=value * UNIT_M[md.group("unit").lower()])
    mf = _FORWARD_RE.search(text)
    if mf and mf.group("x").strip():
        return RouteStep("forward", text, landmark=mf.group("x").strip(),
                         side=(mf.group("side") or mf.group("side2") or "").lower())
    raise cannot_plan(f"route step {text!r} is neither a turn, '[please fill in]', 'Go forward until the ...' "
                      "nor 'Go forward about <distance>'")


def parse_route_question(text: str) -> RouteQuestion | None:
    """The route question in ``text`` (whitespace already collapsed), or None when it is not one."""
    m = _START_RE.search(text)
    if not m:
        return None
    body = text[m.end():]
    colon = body.find("):")
    body = body[colon + 2:] if colon >= 0 else body
    body = re.split(r"you have reached", body, flags=re.I)[0]
    steps = tuple(parse_step(s) for s in split_steps(body) if s)
    return RouteQuestion(start=m.group("a"), facing=m.group("b") or m.group("back"),
                         back_to=m.group("back") is not None, destination=m.group("c"), steps=steps)


def strip_landmark(phrase: str) -> str:
    """A landmark phrase without article, trailing punctuation or "is on your left/right"."""
    p = re.sub(r"\s+(?:is|are)\s+(?:on|to)\s+your\s+(?:left|right)\b.*$", "", phrase.strip(), flags=re.I)
    return clean_category(p)


@dataclass
class RouteProgramBuilder:
    """Writes the walking program of a :class:`RouteQuestion` (see module docstring).

    Args:
        categories: the memory's category names (empty = unknown: names pass through unresolved).
        the: memory category -> expression of the one object the question means (``the("x")``).
    """

    categories: Sequence[str]
    the: Callable[[str], str]
    lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    _n_obj: int = 0
    _objects: dict[int, tuple[str, str]] = field(default_factory=dict)

    # ---------------------------------------------------------------- landmarks
    def _category(self, phrase: str, head_ok: bool = False) -> str | None:
        """The memory category a phrase names (None if none); by head noun only when ``head_ok``."""
        if not self.categories:
            return clean_category(phrase)
        r = resolve(phrase, self.categories)
        if r.how == "ambiguous":
            raise cannot_plan(f"route landmark {r.note()}; name one of them")
        if r.how == "none" or (r.how == "head noun" and not head_ok):
            return None
        if r.how != "exact":
            self.notes.append(r.note())
        return r.name

    def landmark(self, phrase: str, view: str | None) -> tuple[str, str]:
        """(object expression, point on it) for a landmark phrase seen from ``view`` (None at the start)."""
        p = strip_landmark(phrase)
        mp = re.match(r"^(?P<part>" + "|".join(_PARTS) + r")\s+of\s+(?:the\s+|a\s+|an\s+)?(?P<obj>.+)$", p)
        if mp and self._category(p) is None:
            expr, _ = self.landmark(mp.group("obj"), view)
            at = _PARTS[mp.group("part")]
            self.notes.append(f'landmark "{p}": the {at} of {expr}' if at != "centre" else
                              f'landmark "{p}": the centre of {expr}')
            return expr, at
        cat = self._category(p)
        if cat is not None:
            if cat != p:
                self.notes.append(f'landmark "{p}": memory category "{cat}"')
            return self.the(cat), "centre"
        mn = re.match(r"^(?P<x>.+?)\s+(?:that is\s+|which is\s+)?(?:" + _NEAR_WORDS
                      + r")\s+(?:the\s+|a\s+)?(?P<y>.+)$", p)
        if mn and self._category(mn.group("x")) is not None:
            x = self._category(mn.group("x"))
            ref, _ = self.landmark(mn.group("y"), view)
            self.notes.append(f'landmark "{p}": the "{x}" nearest {ref}')
            return f"nearest({ref}, among=[\"{x}\"])", "centre"
        ms = re.match(r"^(?P<sup>closest|nearest|first)\s+(?P<x>.+)$", p)
        if ms and self._category(ms.group("x")) is not None:
            x = self._category(ms.group("x"))
            if view is None:
                self.notes.append(f'landmark "{p}": "{x}" (no current position yet: "{ms.group("sup")}" ignored)')
                return self.the(x), "centre"
            self.notes.append(f'landmark "{p}": the "{x}" nearest the robot\'s current position')
            return f'nearest_from({view}, "{x}")', "centre"
        mo = re.match(r"^(?P<x>.+?)\s+(?:of|with)\s+(?:the\s+)?(?P<y>.+)$", p)
        for part in (mo.group("x"), mo.group("y")) if mo else (p,):
            cat = self._category(part, head_ok=True)
            if cat is not None:
                self.notes.append(f'landmark "{p}": head noun "{cat}"')
                return self.the(cat), "centre"
        raise cannot_plan(f'the route landmark "{p}" names no object in the memory')

    def _step_object(self, index: int, step: RouteStep, view: str) -> tuple[str, str]:
        """The landmark of step ``index`` seen from ``view``, resolved once and named (``o1 = ...``) unless simple."""
        if index not in self._objects:
            expr, at = self.landmark(step.landmark, view)
            if not re.fullmatch(r'the\("[^"]*"\)', expr):
                self._n_obj += 1
                self.lines.append(f"o{self._n_obj} = {expr}")
                expr = f"o{self._n_obj}"
            self._objects[index] = (expr, at)
        return self._objects[index]

    @staticmethod
    def _at(at: str) -> str:
        return "" if at == "centre" else f', at="{at}"'

    # ---------------------------------------------------------------- program
    def build(self, rq: RouteQuestion, options_expr: Callable[[str], str]) -> str:
        """The program; ``options_expr`` maps the list of filled-in turns to the answer statement."""
        start, start_at = self.landmark(rq.start, None)
        facing, facing_at = self.landmark(rq.facing, None)
        self.lines.append(f"v0 = stand_at({start}, facing={facing})")
        view = "v0"
        if start_at != "centre":
            self.lines.append(f"v0 = face(walk_to(v0, {start}{self._at(start_at)}), {facing}{self._at(facing_at)})")
        elif facing_at != "centre":
            self.lines.append(f"v0 = face(v0, {facing}{self._at(facing_at)})")
        if rq.back_to:
            self.lines.append("v0 = turn(v0, 180)")
            self.notes.append(f'start: back to "{strip_landmark(rq.facing)}" = facing away from it')
        turns: list[str] = []
        given, blanks = 0.0, 0  # the current group of turns made at one place
        steps = list(rq.steps)
        n_view = 0
        for i, step in enumerate(steps):
            if step.kind == "blank":
                blanks += 1
                continue
            if step.kind == "turn":
                given += step.turn_deg
                continue
            if blanks > 1:
                raise cannot_plan(f"{blanks} '[please fill in]' in a row before {step.text!r}: how the turn splits "
                                  "between them is ambiguous")
            if step.kind == "distance":
                target = next((j for j in range(i + 1, len(steps)) if steps[j].kind == "forward"), None)
                if blanks and target is None:
                    raise cannot_plan(f"the turn before {step.text!r} is to fill in but no later landmark says "
                                      "which way the robot walks")
            if given:
                n_view += 1
                self.lines.append(f"v{n_view} = turn({view}, {given:g})")
                view = f"v{n_view}"
            if step.kind == "distance":
                if blanks:
                    obj, at = self._step_object(target, steps[target], view)
                    turns.append(f"t{len(turns) + 1}")
                    self.lines.append(f"{turns[-1]} = turn_to({view}, {obj}{self._at(at)})")
                    n_view += 1
                    self.lines.append(f"v{n_view} = face({view}, {obj}{self._at(at)})")
                    view = f"v{n_view}"
                n_view += 1
                self.lines.append(f"v{n_view} = move({view}, {step.metres:.4g})")
                view = f"v{n_view}"
            else:
                obj, at = self._step_object(i, step, view)
                if blanks:
                    turns.append(f"t{len(turns) + 1}")
                    self.lines.append(f"{turns[-1]} = turn_to({view}, {obj}{self._at(at)})")
                n_view += 1
                self.lines.append(f"v{n_view} = walk_to({view}, {obj}{self._at(at)})")
                view = f"v{n_view}"
            given, blanks = 0.0, 0
        if blanks:
            raise cannot_plan("the route ends with a turn to fill in after its last 'Go forward' step")
        if not turns:
            raise cannot_plan("the route question has no '[please fill in]' turn to answer")
        if not any(s.kind == "forward" for s in steps):
            raise cannot_plan("the route question has no 'Go forward until the ...' steps")
        self.lines.append(options_expr("[" + ", ".join(turns) + "]"))
        return "\n".join(self.lines)
