"""Query-language commands: ``run`` (a program over a memory) and ``check`` (static diagnostics only).

Exit codes (through ``spatialmem.cli.main``): 0 ok, 6 syntax/check errors (ProgramError), 7 runtime
errors (ProgramRuntimeError), 2 bad input (missing files, both or neither of ``-e`` and a program
file), 4 unreadable memory. Diagnostics are printed in full first (stderr, or JSON on stdout).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from spatialmem.errors import InputError, ProgramError, ProgramRuntimeError
from spatialmem.fsutil import check_output_dir, read_user_text


def _source(program: Path | None, expr: str | None) -> tuple[str, str]:
    if (program is None) == (expr is None):
        raise InputError("give exactly one program: a file (spatialmem run MEM program.sm) or -e 'answer(...)'")
    if expr is not None:
        return expr, "<-e>"
    assert program is not None
    return read_user_text(program, "program file"), str(program)


def _load(mem: Path):
    from spatialmem.memory.store import load_memory

    return load_memory(mem)


def _fail(exc: ProgramError, name: str, as_json: bool, out: Console, err: Console) -> None:
    """Print the diagnostics (text on stderr, or JSON on stdout), then re-raise a short error of the same
    class so that ``spatialmem.cli.main`` maps it to its exit code (6 check/syntax, 7 runtime)."""
    kind = "runtime" if isinstance(exc, ProgramRuntimeError) else "check"
    if as_json:
        out.print_json(json.dumps({"ok": False, "stage": kind, "program": name,
                                   "diagnostics": [d.to_dict() for d in exc.diagnostics]}))
    else:
        for d in exc.diagnostics:
            err.print(d.render(), markup=False, highlight=False)
    codes = ", ".join(sorted({d.code for d in exc.diagnostics}))
    what = "failed while running" if kind == "runtime" else "was rejected"
    raise type(exc)(f"{name}: the program {what} ({codes}); see the diagnostics above", exc.diagnostics)


def run(
    memory: Path = typer.Argument(..., help="Memory directory (written by ingest / import-annotations)."),
    program: Path | None = typer.Argument(None, help="Program file (.sm); or use -e."),
    expr: str | None = typer.Option(None, "-e", "--expr", help="Program text, e.g. 'answer(room_area())'."),
    as_json: bool = typer.Option(False, "--json", help="Print the result (or diagnostics) as JSON."),
    save_images: Path | None = typer.Option(None, "--save-images", help="Folder for images passed to look(...)."),
) -> None:
    """Parse, check and run a query-language program over a memory; print the answer."""
    from spatialmem.dsl import parse, run_program

    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    source, name = _source(program, expr)
    if save_images is not None:
        check_output_dir(save_images, "--save-images")
    try:
        parse(source)  # syntax errors before the (slower) memory load
        mem = _load(memory)
        result = run_program(source, mem)
    except ProgramError as exc:
        _fail(exc, name, as_json, out, err)
    saved = []
    if save_images is not None and result.images:
        from PIL import Image

        save_images.mkdir(parents=True, exist_ok=True)
        for i, im in enumerate(result.images):
            p = save_images / f"look_{i:02d}.png"
            Image.fromarray(im).save(p)
            saved.append(str(p))
    if as_json:
        answer = result.answer
        if not isinstance(answer, (int, float, str, bool, list)) or answer is None:
            answer = result.answer_text
        out.print_json(json.dumps({"ok": True, "answer": answer, "answer_text": result.answer_text,
                                   "value_type": result.value_type, "trace": list(result.trace),
                                   "images": saved or len(result.images), "steps": result.steps,
                                   "elapsed_s": round(result.elapsed_s, 6)}, default=str))
    else:
        out.print(result.answer_text, markup=False, highlight=False)


def check_cmd(
    program: Path = typer.Argument(..., help="Program file (.sm)."),
    memory: Path | None = typer.Option(None, "--memory", "-m", help="Memory to check category names against."),
    as_json: bool = typer.Option(False, "--json", help="Print diagnostics as JSON."),
) -> None:
    """Statically check a program (syntax, operations, types, units, categories); nothing runs."""
    from spatialmem.dsl import check, parse

    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    source, name = _source(program, None)
    try:
        prog = parse(source)
        diags = check(prog, _load(memory) if memory is not None else None)
        if diags:
            raise ProgramError(f"{len(diags)} problem(s)", tuple(diags))
    except ProgramError as exc:
        _fail(exc, name, as_json, out, err)
    if as_json:
        out.print_json(json.dumps({"ok": True, "program": name, "diagnostics": []}))
    else:
        out.print(f"{name}: ok", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("check")(check_cmd)
