"""Answer operations: set the program's answer, and map a computed value onto a multiple-choice option."""

from __future__ import annotations

import re
from collections.abc import Iterable

from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import ANSWERS, P, op
from spatialmem.dsl.runtime import Context, Fail
from spatialmem.dsl.values import Choice, ObjectSet, Quantity, Route, answer_text
from spatialmem.memory.scene import ObjectInstance

_OPTION = re.compile(r"^\s*\(?([A-Za-z])[\.\):]\s*(.*)$", re.S)
_NUM = re.compile(r"[-+]?(\d+\.\d*|\.\d+|\d+)")


def normalize(text: str) -> str:
    """Lower case, '-' and '_' as spaces, single spaces: "Front-Left" == "front left"."""
    return " ".join(str(text).lower().replace("-", " ").replace("_", " ").split())


def parse_options(options: Iterable[object]) -> list[tuple[str, str]]:
    """``[(letter, text)]`` from options like ``"A. chair"`` (letters by position when absent)."""
    out = []
    for i, opt in enumerate(options):
        mt = _OPTION.match(str(opt))
        out.append((mt.group(1).upper(), mt.group(2).strip()) if mt else (chr(65 + i), str(opt).strip()))
    return out


@op("answer", P("value", T.ANY), returns=T.NOTHING, section=ANSWERS,
    doc="Set the program's answer (required, exactly once; takes a value, not look(...) or answer(...)).",
    example='answer(distance(the("sofa"), the("tv")))')
def answer(ctx: Context, value: object) -> None:
    ctx.answer, ctx.answered = value, True


def _closest_number(opts: list[tuple[str, str]], value: Quantity) -> tuple[str, str] | None:
    best, pick = None, None
    for letter, text in opts:
        mt = _NUM.search(text)
        if mt is None:
            continue
        d = abs(float(mt.group(0)) - value.value)
        if best is None or d < best:
            best, pick = d, (letter, text)
    return pick


def _wanted_texts(value: object) -> list[str]:
    """The normalised option texts that name ``value``."""
    if isinstance(value, ObjectInstance):
        return [normalize(value.category)]
    if isinstance(value, (tuple, ObjectSet)):
        items = value.items if isinstance(value, ObjectSet) else value
        return [",".join(normalize(answer_text(v)) for v in items)]
    if isinstance(value, Route):
        return [",".join(normalize(t) for t in value.turns)]
    if isinstance(value, bool):
        return ["yes", "true"] if value else ["no", "false"]
    return [normalize(answer_text(value))]


@op("choose", P("options", T.TEXTS), P("value", T.ANY), returns=T.CHOICE, section=ANSWERS,
    doc="Map a computed value (number, direction, route, object, ordered list, yes/no) onto an option letter.",
    example='choose(["A. left", "B. right"], direction(v, the("lamp")))')
def choose(ctx: Context, options: tuple[str, ...], value: object) -> Choice:
    opts = parse_options(options)
    if not opts:
        raise Fail(D.NO_OPTION, "choose(...) got no options", 'pass the options as written: ["A. left", "B. right"]')
    pick = None
    if isinstance(value, Quantity):
        pick = _closest_number(opts, value)
    else:
        want = _wanted_texts(value)
        for letter, text in opts:
            parts = ",".join(normalize(p) for p in text.split(","))
            if parts in want or normalize(text) in want:
                pick = (letter, text)
                break
    if pick is None:
        listed = "; ".join(f"{a}. {b}" for a, b in opts)
        raise Fail(D.NO_OPTION, f"no option matches the computed value {answer_text(value)!r} (options: {listed})",
                   "check the options and that the computed value has the same form (e.g. a category name, "
                   "a direction label, a comma-separated order)")
    return Choice(pick[0], pick[1], answer_text(value))
