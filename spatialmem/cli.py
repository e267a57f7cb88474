"""The ``spatialmem`` command line: the only place that turns errors into messages and exit codes.

Each area's commands live in ``spatialmem.commands.<area>`` and expose ``register(app)``.
Exit codes: 0 ok, 1 unexpected error, 2 bad input / usage, and each :mod:`spatialmem.errors`
class's ``exit_code`` otherwise (e.g. 6 program rejected by the checker, 7 program runtime error).
"""

from __future__ import annotations

import importlib
import os
import sys

import typer
from rich.console import Console
from rich.markup import escape

from spatialmem.errors import SpatialMemError

COMMAND_MODULES: tuple[str, ...] = (  # in pipeline order, as `spatialmem --help` lists them
    "spatialmem.commands.synth",
    "spatialmem.commands.memory",
    "spatialmem.commands.perception",
    "spatialmem.commands.dsl",
    "spatialmem.commands.qa",
    "spatialmem.commands.scale",
    "spatialmem.commands.latent",
    "spatialmem.commands.serve",
)

app = typer.Typer(
    name="spatialmem",
    help="Persistent spatial memory for vision-language models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Persistent spatial memory for vision-language models."""


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _tolerant_output() -> None:
    """Let stdout/stderr print any text: a character the encoding cannot write (a lone surrogate from
    undecodable input, say) is written as a backslash escape instead of aborting the command."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a closed or unusual stream
                pass


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, map errors to one red line on stderr and an exit code.

    An unexpected exception (a bug) is reported as one ``internal error`` line with exit code 1;
    set ``SPATIALMEM_DEBUG=1`` to see its traceback instead.
    """
    _tolerant_output()
    err = Console(stderr=True)
    command = typer.main.get_command(app)
    try:
        # Standalone mode lets click/typer report usage errors themselves (exit 2) and turns every
        # normal end or ``typer.Exit`` into SystemExit, whichever click copy typer ships with.
        command.main(args=argv, prog_name="spatialmem", standalone_mode=True)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except SpatialMemError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", markup=True, highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("[red]interrupted[/red]")
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback only on request
        if os.environ.get("SPATIALMEM_DEBUG"):
            raise
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {exc}; this is a bug in spatialmem, please "
                  "report it (SPATIALMEM_DEBUG=1 shows the traceback)", markup=True, highlight=False, soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
