"""Local repairs of LLM programs: the fixes that have exactly one right answer are applied, not asked for.

* balanced brackets: a statement whose ``(`` / ``[`` are left open at the end of its line gets them
  closed there; surplus closers at the end of a line are removed (only when the result then parses);
* an unknown category with exactly one plausible memory category (``pill`` -> ``pillow``, ``chairs``
  -> ``chair``, ``couch`` -> ``sofa``);
* an unknown operation with exactly one plausible operation (``dist`` -> ``distance``);
* after the dry run, ``the("chair")`` failing because the memory holds several chairs (R400) becomes
  the largest chair: the question names one object, and the extras are read as fragments of it, as the
  template planner reads them (:func:`spatialmem.dsl.ops.objects.largest_of`).

Also recognises a reply that is an answer (an option letter, a number, prose) rather than a program,
so the model is told exactly that instead of "'B' is used before it is assigned".
"""

from __future__ import annotations

import difflib
import re

from spatialmem.agent.base import Question
from spatialmem.errors import ProgramError
from spatialmem.vocab import OP_ALIASES, resolve_category, suggest_category

_NEW_STATEMENT = re.compile(r"^\s*(?:[A-Za-z_]\w*\s*=(?!=)|answer\s*\()")
_PAIRS = {"(": ")", "[": "]"}


def _open_stack(line: str, stack: list[str]) -> tuple[list[str], int]:
    """Brackets still open after ``line`` (strings and comments skipped) and surplus closers at its end."""
    stack = list(stack)
    surplus = 0
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#":
            break
        elif c in _PAIRS:
            stack.append(_PAIRS[c])
            surplus = 0
        elif c in ")]":
            if stack and stack[-1] == c:
                stack.pop()
            else:
                surplus += 1
        elif not c.isspace():
            surplus = 0
        i += 1
    return stack, surplus


def balance_brackets(program: str) -> tuple[str, str | None]:
    """``program`` with brackets closed / surplus closers removed at line ends, and the fix's description."""
    lines = program.split("\n")
    out, stack, closed, removed = [], [], 0, 0
    for n, line in enumerate(lines):
        stack, surplus = _open_stack(line, stack)
        if surplus and not stack:
            stripped = line.rstrip()
            cut = 0
            while cut < surplus and stripped and stripped[-1] in ")]":
                stripped = stripped[:-1].rstrip()
                cut += 1
            line, removed = stripped, removed + cut
        nxt = lines[n + 1] if n + 1 < len(lines) else None
        if stack and (nxt is None or _NEW_STATEMENT.match(nxt)):
            line = line.rstrip() + "".join(reversed(stack))
            closed += len(stack)
            stack = []
        out.append(line)
    if not closed and not removed:
        return program, None
    what = ([f"closed {closed} bracket(s)"] if closed else []) + ([f"removed {removed} extra closing bracket(s)"]
                                                                   if removed else [])
    return "\n".join(out), " and ".join(what)


def _replace_at(program: str, line: int, column: int, old: str, new: str) -> str | None:
    lines = program.split("\n")
    if not 0 < line <= len(lines):
        return None
    text = lines[line - 1]
    at = text.find(old, max(0, column - 1))
    if at < 0:
        return None
    lines[line - 1] = text[:at] + new + text[at + len(old):]
    return "\n".join(lines)


def _unique_category(name: str, categories: list[str]) -> str | None:
    resolved = resolve_category(name, categories)
    if resolved in categories:
        return resolved
    sugg = suggest_category(name, categories)
    return sugg[0] if len(sugg) == 1 else None


def _unique_op(name: str, ops) -> str | None:
    if name in OP_ALIASES:
        return OP_ALIASES[name]
    close = difflib.get_close_matches(name, list(ops), n=2, cutoff=0.75)
    return close[0] if len(close) == 1 else None


def local_fixes(program: str, memory=None) -> tuple[str, list[str]]:
    """Apply the unambiguous fixes (module docstring); returns the program and what was changed."""
    from spatialmem.dsl import check, parse
    from spatialmem.dsl import diagnostics as D
    from spatialmem.dsl.ops import OPS

    fixes: list[str] = []
    try:
        parse(program)
    except ProgramError:
        fixed, what = balance_brackets(program)
        if what:
            try:
                parse(fixed)
            except ProgramError:
                pass
            else:
                program = fixed
                fixes.append(what)
    for _ in range(8):  # each round fixes the first unambiguous name; programs are short
        try:
            diags = check(parse(program), memory)
        except ProgramError:
            break
        changed = False
        for d in diags:
            token = d.source_line[d.column - 1:d.end_column - 1] if d.column and d.end_column > d.column else ""
            if d.code == D.UNKNOWN_CATEGORY and memory is not None:
                m = re.match(r"""^(["'])(.*)\1$""", token)
                target = _unique_category(m.group(2), list(memory.categories())) if m else None
                if target is not None:
                    new = _replace_at(program, d.line, d.column, token, f'"{target}"')
                    if new is not None:
                        program, changed = new, True
                        fixes.append(f"category {m.group(2)!r} -> {target!r}")
                        break
            if d.code == D.UNKNOWN_OP:
                name = re.match(r"[A-Za-z_]\w*", token)
                target = _unique_op(name.group(0), OPS) if name else None
                if target is not None and target != name.group(0):
                    new = _replace_at(program, d.line, d.column, name.group(0), target)
                    if new is not None:
                        program, changed = new, True
                        fixes.append(f"operation {name.group(0)!r} -> {target!r}")
                        break
        if not changed:
            break
    return program, fixes


def largest_for_fragments(program: str, diagnostics, memory) -> tuple[str, str | None]:
    """``program`` with ``the("x")`` replaced by the largest ``x`` when the first diagnostic is R400 for x.

    Returns the program unchanged and None when the first diagnostic is not that one.
    """
    from spatialmem.dsl import diagnostics as D
    from spatialmem.dsl.ops.objects import largest_of

    d = diagnostics[0] if diagnostics else None
    if d is None or d.code != D.AMBIGUOUS or memory is None:
        return program, None
    m = re.match(r"""the\(\s*(["'])(.+?)\1\s*\)""", d.source_line[max(0, d.column - 1):])
    if m is None:
        return program, None
    category = m.group(2)
    count = memory.categories().get(category, 0)
    call = re.compile(r"""\bthe\(\s*(["'])""" + re.escape(category) + r"""\1\s*\)""")
    fixed = call.sub(lambda _: largest_of(category), program)
    if count < 2 or fixed == program:
        return program, None
    return fixed, f"the({category!r}) -> the largest {category} (the memory holds {count}; the question names one)"


_LETTER = re.compile(r"^\(?([A-Za-z])\)?[.):]?(?:\s+.*)?$", re.S)


def not_a_program(program: str, question: Question):
    """A diagnostic when ``program`` is an answer (letter, option text, number, prose), else None."""
    from spatialmem.dsl import diagnostics as D

    text = program.strip()
    if not text or "answer(" in text.replace(" ", "") or "(" in text or re.search(r"(?<![=!<>])=(?!=)", text):
        return None
    m = _LETTER.match(text)
    if question.options and m:
        what = f"the option letter {m.group(1).upper()!r}"
    elif re.fullmatch(r"[-+]?\d+(?:\.\d+)?\s*\w*\.?", text):
        what = f"the number {text!r}"
    else:
        what = f"the text {text[:60]!r}"
    example = ("answer(choose([" + ", ".join(f'"{o}"' for o in question.options) + "], VALUE))"
               if question.options else "answer(distance(the(\"sofa\"), the(\"tv\")))")
    return D.Diagnostic(D.NOT_A_PROGRAM, f"this is an answer, not a program: you replied with {what}",
                        hint=f"write the program that computes it and ends with answer(...), e.g. {example}")
