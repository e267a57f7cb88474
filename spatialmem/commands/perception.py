"""Perception on the command line: ``spatialmem backends``, ingest's backend options, provenance display."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from spatialmem.errors import InputError
from spatialmem.perception.base import GeometryConfig, InstancesConfig


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def parse_options(items: list[str], flag: str) -> dict[str, Any]:
    """``["k=v", ...]`` to a dict; values are JSON when they parse as JSON (numbers, true, lists), else strings."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} batch_size=8")
        out[key.strip()] = _parse_value(value.strip())
    return out


def backend_configs(geometry: str, instances: str, *, noise: str | None = None, model_dir: Path | None = None,
                    vocabulary: Path | None = None, geometry_opt: list[str] = (),
                    instances_opt: list[str] = ()) -> tuple[GeometryConfig, InstancesConfig]:
    """The configs of the two backends (registry names ``geometry``, ``instances``) from ingest's flags.

    Raises:
        InputError: a flag given for backends that do not take it (naming the ones that do), or a bad KEY=VALUE.
    """
    from spatialmem import registry

    geo = parse_options(list(geometry_opt), "--geometry-opt")
    ins = parse_options(list(instances_opt), "--instances-opt")
    if noise is not None:
        if "noisy" not in (geometry, instances):
            raise InputError("--noise sets the level of the 'noisy' backends; add --geometry noisy and/or "
                             "--instances noisy")
        for name, opts in ((geometry, geo), (instances, ins)):
            if name == "noisy":
                opts.setdefault("level", noise)
    if model_dir is not None:
        chosen = (("geometry", geometry, geo), ("instances", instances, ins))
        learned = [(kind, name, opts) for kind, name, opts in chosen if registry.spec(kind, name).extra == "learned"]
        if not learned:
            raise InputError("--model-dir is for learned backends (e.g. --geometry depth, --instances open-vocab)")
        for _, _, opts in learned:
            opts.setdefault("model_dir", str(model_dir))
    if vocabulary is not None:
        if instances != "open-vocab":
            raise InputError("--vocabulary is for --instances open-vocab")
        if not vocabulary.is_file():
            raise InputError(f"--vocabulary {vocabulary} is not a file; write one category per line")
        ins.setdefault("vocabulary", str(vocabulary))
    return GeometryConfig(geometry, options=geo), InstancesConfig(instances, options=ins)


def _models(entry: dict) -> str:
    models = entry.get("models") or []
    return ", ".join(f"{m.get('model_id')}@{(m.get('revision') or m.get('source') or '?')[:12]}" for m in models)


def perception_line(perception: dict) -> str:
    """One line naming the backends (and models) a memory was built with."""
    parts = []
    for role in ("geometry", "instances"):
        e = perception.get(role) or {}
        if e:
            m = _models(e)
            parts.append(f"{role} {e.get('backend')}" + (f" ({m})" if m else "")
                         + (f" noise {e['options']['level']}" if "level" in (e.get("options") or {}) else ""))
    return "perception: " + "; ".join(parts) if parts else "perception: unknown"


def print_perception(con: Console, perception: dict) -> None:
    """The provenance table that ``spatialmem inspect`` shows."""
    table = Table(title="perception", show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("stage", "backend", "models (id @ revision)", "options"):
        table.add_column(col, overflow="fold")
    for role in ("geometry", "instances"):
        e = perception.get(role)
        if e:
            opts = json.dumps(e.get("options") or {}, sort_keys=True)
            table.add_row(role, str(e.get("backend")), _models(e) or "-", opts if opts != "{}" else "-")
    con.print(table)
    libs = perception.get("libraries") or {}
    if libs:
        con.print("libraries: " + ", ".join(f"{k} {v}" for k, v in sorted(libs.items())), highlight=False)


def backends(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List every registered backend: kind, pip extra, whether dependencies and weights are present."""
    from spatialmem import registry

    rows = []
    for kind in registry.kinds():
        for name in registry.names(kind):
            st = registry.status(kind, name)
            rows.append({"kind": kind, "name": name, "extra": st.spec.extra, "ready": st.ready,
                         "missing": list(st.missing), "weights": {m: p for m, p in st.models}, "get": st.get,
                         "doc": st.spec.doc})
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("kind", "name", "extra", "deps", "weights", "to get it", "what"):
        table.add_column(col, overflow="fold")
    for r in rows:
        deps = "ok" if not r["missing"] else "missing " + ", ".join(r["missing"])
        w = r["weights"]
        weights = "-" if not w else ", ".join(
            f"{m}: {'ok' if p else ('missing' if p is False else '?')}" for m, p in w.items())
        if r["missing"]:
            weights = "?"
        table.add_row(r["kind"], r["name"], r["extra"] or "-", deps, weights, r["get"] or "-", r["doc"])
    Console(width=max(160, Console().width)).print(table)


def register(app: typer.Typer) -> None:
    """Add ``backends`` to the ``spatialmem`` app."""
    app.command("backends")(backends)
