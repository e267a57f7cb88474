"""``spatialmem serve`` (HTTP API, live sessions and the web viewer) and ``spatialmem export`` (PLY / GLB / Rerun).

``serve`` binds 127.0.0.1 by default; any other address needs ``--token`` (clients send it as a bearer
token). It needs the ``server`` extra (``pip install 'spatialmem[server]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from spatialmem.commands.qa import LLM_DEFAULTS, BaseUrlOpt, KeyEnvOpt, llm_config_from_options
from spatialmem.errors import InputError, require_package


def serve(
    memories: Annotated[list[Path], typer.Option("--memories", help="Folder of memory folders; repeat for more.")],
    host: Annotated[str, typer.Option("--host", help="Address to bind (non-loopback needs --token).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port.")] = 8000,
    token: Annotated[str | None, typer.Option("--token", envvar="SPATIALMEM_TOKEN",
                                              help="Bearer token required on every request.")] = None,
    save_dir: Annotated[Path | None, typer.Option("--save-dir", help="Where sessions are saved (default: the "
                                                                      "first --memories folder).")] = None,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", min=0.01, help="Largest request body.")] = 64.0,
    max_frame_pixels: Annotated[int, typer.Option("--max-frame-pixels", min=256, help="Largest image.")] = 4096 * 4096,
    max_program_chars: Annotated[int, typer.Option("--max-program-chars", min=16)] = 20_000,
    run_timeout: Annotated[float, typer.Option("--run-timeout", min=0.01, help="Seconds a program may run.")] = 10.0,
    max_sessions: Annotated[int, typer.Option("--max-sessions", min=1, help="Live sessions open at once.")] = 4,
    llm_base_url: BaseUrlOpt = LLM_DEFAULTS["base_url"],
    llm_model: Annotated[str, typer.Option("--llm-model", help="Enables the llm / chain planners' LLM.")] = "",
    llm_api_key_env: KeyEnvOpt = LLM_DEFAULTS["api_key_env"],
    log_level: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "info",
) -> None:
    """Serve memories over HTTP: query API, live streaming sessions and a 3D viewer at http://HOST:PORT/."""
    require_package("fastapi", "server", "spatialmem serve")
    uvicorn = require_package("uvicorn", "server", "spatialmem serve")
    from spatialmem.server.app import create_app
    from spatialmem.server.config import ServerConfig, ServerLimits

    llm = llm_config_from_options(llm_base_url, llm_model, llm_api_key_env)
    limits = ServerLimits(max_upload_bytes=int(max_upload_mb * 1024 * 1024), max_frame_pixels=max_frame_pixels,
                          max_program_chars=max_program_chars, run_timeout_s=run_timeout, max_sessions=max_sessions)
    config = ServerConfig(roots=tuple(memories), save_root=save_dir, host=host, token=token, limits=limits, llm=llm)
    app = create_app(config)
    shown = f"[{host}]" if ":" in host else host
    typer.echo(f"serving {', '.join(map(str, memories))} at http://{shown}:{port}/ (API docs at /docs)", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=10)


def export(
    mem: Annotated[Path, typer.Argument(help="Memory directory.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="rerun (.rrd), ply (points), glb (boxes + points), "
                                                            "json (the viewer's scene).")] = "glb",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File to write (default: MEM.<ext>).")] = None,
) -> None:
    """Export a memory for other viewers: Rerun .rrd, PLY points, GLB boxes (glTF binary)."""
    from spatialmem.memory.export import EXPORTERS
    from spatialmem.memory.store import load_memory

    if fmt not in EXPORTERS:
        raise InputError(f"--format must be one of: {', '.join(EXPORTERS)}; got {fmt!r}")
    suffix, writer = EXPORTERS[fmt]
    memory = load_memory(mem)
    target = out if out is not None else mem.parent / f"{mem.name}{suffix}"
    path = writer(memory, target)
    typer.echo(f"wrote {path} ({fmt}: {len(memory.instances)} objects, {len(memory.points_world)} points)")


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``export`` to the CLI."""
    app.command("serve")(serve)
    app.command("export")(export)
