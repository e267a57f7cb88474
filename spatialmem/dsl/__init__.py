"""The spatial query language: grammar -> AST with spans -> checker -> interpreter.

Public API (the contract other packages code against)::

    parse(source) -> Program                       # ProgramError(diagnostics) on syntax errors
    check(program, memory) -> list[Diagnostic]     # static; [] = OK
    execute(program, memory, limits=None) -> RunResult   # checks first; ProgramRuntimeError on failure
    run_program(source, memory, limits=None) -> RunResult
    reference_text() -> str                        # language reference for LLM prompts
"""

from __future__ import annotations

from spatialmem.dsl.ast import Program
from spatialmem.dsl.check import check
from spatialmem.dsl.diagnostics import Diagnostic, render_all
from spatialmem.dsl.docs import reference_text
from spatialmem.dsl.interpreter import Limits, RunResult, run_checked
from spatialmem.dsl.parser import parse
from spatialmem.errors import ProgramError

__all__ = [
    "parse", "check", "execute", "run_program", "reference_text", "Diagnostic", "RunResult", "Limits", "Program",
    "render_all",
]


def _raise(diagnostics: list[Diagnostic]) -> None:
    raise ProgramError(render_all(diagnostics), tuple(diagnostics))


def execute(program: Program, memory, limits: Limits | None = None) -> RunResult:
    """Check ``program`` against ``memory`` and run it.

    Raises:
        ProgramError: if the checker finds problems (nothing runs).
        ProgramRuntimeError: if it fails while running (runtime diagnostic ``R4xx``).
    """
    diags = check(program, memory)
    if diags:
        _raise(diags)
    return run_checked(program, memory, limits)


def run_program(source: str, memory, limits: Limits | None = None) -> RunResult:
    """Parse, check and run program text over a memory (see :func:`execute`)."""
    return execute(parse(source), memory, limits)
