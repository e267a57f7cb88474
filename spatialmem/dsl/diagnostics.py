"""Structured diagnostics of the query language: one shape for syntax, check and runtime problems.

Every code is declared once below as a named constant (``SYNTAX = "E100"`` ...), with its short name
and meaning; :data:`CODES` and the generated reference are built from those declarations. Codes are
stable (tests, planners and LLM repair prompts rely on them): ``E1xx`` syntax, ``E2xx`` static
checks, ``E300`` limits, ``R4xx`` runtime failures.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CodeInfo:
    """One diagnostic code: the code (``"E240"``), its short name and what it means."""

    code: str
    name: str
    meaning: str


CODE_INFO: dict[str, CodeInfo] = {}


def _code(code: str, name: str, meaning: str) -> str:
    CODE_INFO[code] = CodeInfo(code, name, meaning)
    return code


SYNTAX = _code("E100", "syntax", "syntax error")
UNSUPPORTED = _code("E101", "unsupported-construct", "unsupported construct (loops, imports, defs, lambdas ...)")
NOT_A_PROGRAM = _code("E102", "not-a-program", "the text is an answer (a letter, a number, prose), not a program")
UNKNOWN_OP = _code("E200", "unknown-op", "unknown operation")
ARITY = _code("E201", "arity", "wrong number of arguments")
KEYWORD = _code("E202", "keyword", "unknown or repeated keyword argument")
UNKNOWN_ATTRIBUTE = _code("E203", "unknown-attribute", "unknown attribute")
BAD_VALUE = _code("E204", "bad-value", "value not allowed for a parameter (a choice or a range)")
TYPE = _code("E210", "type", "type mismatch")
UNIT = _code("E211", "unit", "unit mismatch")
UNDEFINED_NAME = _code("E220", "undefined-name", "name used before it is assigned")
RESERVED_NAME = _code("E221", "reserved-name", "assignment to an operation name")
MISSING_ANSWER = _code("E230", "missing-answer", "the program never calls answer(...)")
MULTIPLE_ANSWERS = _code("E231", "multiple-answers", "answer(...) called more than once")
NOT_A_CHOICE = _code("E232", "answer-not-choice",
                     "a multiple-choice question answered with a value that is not choose(...)'s option")
UNKNOWN_CATEGORY = _code("E240", "unknown-category", "category not in the memory")
LIMITS = _code("E300", "limits", "program too large (length, statements, list size, image size, nesting)")
AMBIGUOUS = _code("R400", "runtime-ambiguous", "the(...) found several objects")
EMPTY = _code("R401", "runtime-empty", "an empty set or list where one item is needed")
NO_ROOM = _code("R402", "runtime-no-room", "the memory has no room (floor / ceiling) information")
NO_KEYFRAME = _code("R403", "runtime-no-keyframe", "no stored keyframe shows the object")
BAD_ARGUMENT = _code("R404", "runtime-bad-value", "an argument value the operation cannot use")
ARITHMETIC = _code("R405", "runtime-arithmetic", "arithmetic error (division by zero)")
NO_OPTION = _code("R406", "runtime-no-option", "no option of choose(...) matches the value")
NO_CAMERAS = _code("R407", "runtime-no-cameras", "the memory has no camera trajectory")
NO_ANSWER = _code("R408", "runtime-no-answer", "the program finished without an answer")
NOT_FINITE = _code("R409", "runtime-not-finite", "a result is not a finite number")
STEP_LIMIT = _code("R410", "runtime-step-limit", "the step limit was reached")
TIME_LIMIT = _code("R411", "runtime-time-limit", "the time limit was reached")
TOO_LARGE = _code("R412", "runtime-image-size", "an image or the number of shown images is too large")
UNAVAILABLE = _code("R413", "runtime-unavailable", "missing dependency / unavailable feature")
OUT_OF_RANGE = _code("R414", "runtime-out-of-range", "no object with that id, or a list index out of range")
NEEDS_REFERENCE = _code("R415", "runtime-needs-reference",
                        "a key or filter needs a reference object (to=... / near=...)")
NO_TIMES = _code("R416", "runtime-no-times", "the memory has no observation times")
DEGENERATE = _code("R417", "runtime-degenerate", "two positions coincide, so there is no direction")

CODES: dict[str, str] = {c: info.name for c, info in CODE_INFO.items()}


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
