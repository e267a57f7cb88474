"""Structured diagnostics of the query language: one shape for syntax, check and runtime problems.

Codes are stable (tests, planners and LLM repair prompts rely on them):

* ``E100`` syntax error, ``E101`` unsupported construct (loops, imports, defs, lambdas ...)
* ``E200`` unknown operation, ``E201`` wrong number of arguments, ``E202`` bad keyword argument,
  ``E203`` unknown attribute, ``E204`` value not allowed for a parameter (e.g. a scheme name)
* ``E210`` type mismatch, ``E211`` unit mismatch
* ``E220`` undefined name, ``E221`` assignment to an operation name
* ``E230`` missing ``answer(...)``, ``E231`` ``answer(...)`` called more than once
* ``E240`` category not in the memory
* ``E300`` program too large (length, statements, list size, image size, nesting)
* runtime: ``R400`` ambiguous (``the`` with several), ``R401`` empty set, ``R402`` no room known,
  ``R403`` no keyframe, ``R404`` bad value, ``R405`` arithmetic error, ``R406`` no option matches,
  ``R407`` no cameras, ``R408`` no answer produced, ``R409`` result is not a finite number,
  ``R410`` step limit, ``R411`` time limit, ``R412`` image too large, ``R413`` missing dependency / unavailable feature.
"""

from __future__ import annotations

from dataclasses import dataclass

CODES: dict[str, str] = {
    "E100": "syntax",
    "E101": "unsupported-construct",
    "E200": "unknown-op",
    "E201": "arity",
    "E202": "keyword",
    "E203": "unknown-attribute",
    "E204": "bad-value",
    "E210": "type",
    "E211": "unit",
    "E220": "undefined-name",
    "E221": "reserved-name",
    "E230": "missing-answer",
    "E231": "multiple-answers",
    "E240": "unknown-category",
    "E300": "limits",
    "R400": "runtime-ambiguous",
    "R401": "runtime-empty",
    "R402": "runtime-no-room",
    "R403": "runtime-no-keyframe",
    "R404": "runtime-bad-value",
    "R405": "runtime-arithmetic",
    "R406": "runtime-no-option",
    "R407": "runtime-no-cameras",
    "R408": "runtime-no-answer",
    "R409": "runtime-not-finite",
    "R410": "runtime-step-limit",
    "R411": "runtime-time-limit",
    "R412": "runtime-image-size",
    "R413": "runtime-unavailable",
}


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a program.

    Attributes:
        code: stable code (see the module docstring), e.g. ``"E240"``.
        message: what is wrong, in one sentence.
        line / column: 1-based position of the offending code (0 when it concerns the whole program).
        hint: how to fix it (closest names, the expected type, an example).
        source_line: the text of that line of the program ('' when unknown).
        end_column: 1-based column just past the offending code on the same line (for the caret run).
    """

    code: str
    message: str
    line: int = 0
    column: int = 0
    hint: str = ""
    source_line: str = ""
    end_column: int = 0

    @property
    def name(self) -> str:
        """The short name of the code, e.g. ``"unknown-category"``."""
        return CODES.get(self.code, "error")

    def render(self) -> str:
        """Multi-line human/LLM readable form: code, position, message, source line, caret, hint."""
        where = f" {self.line}:{self.column}" if self.line else ""
        out = [f"{self.code}{where}: {self.message}"]
        if self.source_line:
            out.append("  " + self.source_line)
            if self.column:
                width = max(1, (self.end_column - self.column) if self.end_column > self.column else 1)
                out.append("  " + " " * (self.column - 1) + "^" * min(width, 80))
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)

    def to_dict(self) -> dict:
        """JSON-able form (for ``--json`` output and LLM transcripts)."""
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "line": self.line,
            "column": self.column,
            "hint": self.hint,
            "source_line": self.source_line,
        }


def make(code: str, message: str, span=None, source: str = "", hint: str = "") -> Diagnostic:
    """Build a diagnostic at ``span`` (an ``ast.Span`` or None), filling the source line from ``source``."""
    if span is None:
        return Diagnostic(code, message, 0, 0, hint, "")
    lines = source.splitlines()
    text = lines[span.line - 1] if 0 < span.line <= len(lines) else ""
    end = span.end_column if span.end_line == span.line else len(text) + 1
    return Diagnostic(code, message, span.line, span.column, hint, text, end)


def render_all(diagnostics) -> str:
    """All diagnostics rendered, separated by blank lines."""
    return "\n\n".join(d.render() for d in diagnostics)
