"""Memory commands: ``ingest``, ``inspect``, ``render --topdown``, ``eval-memory``, ``import-annotations``.

Existing output folders are never replaced without ``--overwrite``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from spatialmem.errors import InputError
from spatialmem.fsutil import check_output_file


def _check_out(out: Path, overwrite: bool) -> None:
    """Refuse an existing output before any work: without --overwrite, or when it is not a memory."""
    from spatialmem.memory.store import is_memory_dir

    if not (out.exists() or out.is_symlink()):
        return
    if not overwrite:
        raise InputError(f"{out} already exists; pass --overwrite to replace it")
    if not out.is_dir() or (any(out.iterdir()) and not is_memory_dir(out)):
        raise InputError(f"{out} exists and is not a spatialmem memory directory; refusing to replace it, "
                         "choose another --out")


def _fmt(v, nd: int = 3) -> str:
    return "-" if v is None else f"{v:.{nd}f}"


def _vec(v) -> str:
    return " ".join(f"{float(x):.2f}" for x in v)


def _source_options(depth_scale, fps, intrinsics, fov, stride, max_frames, labels) -> dict:
    """Keyword options for :func:`spatialmem.sources.open_source` from the flags the user set."""
    from spatialmem.sources.files import load_intrinsics_file

    kw: dict = {"depth_scale": depth_scale, "fps": fps, "hfov_deg": fov, "labels": labels,
                "stride": None if stride == 1 else stride, "max_frames": max_frames,
                "intrinsics": None if intrinsics is None else load_intrinsics_file(intrinsics)}
    return {k: v for k, v in kw.items() if v is not None}


def _warn(err: Console, line: str) -> None:
    err.print(f"[yellow]warning:[/yellow] {line}", highlight=False, soft_wrap=True)


def ingest(
    ctx: typer.Context,
    src: list[Path] = typer.Argument(..., help="Source(s): a capture folder (synthetic, ScanNet, TUM, 7-Scenes, "
                                     "Replica, Stray Scanner, Record3D, ARKitScenes), a video or an image folder. "
                                     "Several: one memory each, --out is then their parent folder."),
    out: Path = typer.Option(..., "--out", help="Memory directory to write (with several sources: the folder "
                             "that receives one memory per source)."),
    geometry: str = typer.Option("auto", "--geometry", help="Geometry backend (poses + depth): auto picks 'given' "
                                 "for sources with poses and depth, else the best installed (sfm)."),
    instances: str = typer.Option("auto", "--instances", help="Instance backend (masks + labels): auto picks "
                                  "'given' for sources with masks, else the best installed (open-vocab)."),
    window: int = typer.Option(8, "--window", min=1, help="Working-memory window W (frames)."),
    keyframes: int = typer.Option(32, "--keyframes", min=1, help="Episodic keyframe capacity K."),
    stride: int = typer.Option(1, "--stride", min=1, help="Read every n-th frame of the source."),
    max_frames: int | None = typer.Option(None, "--max-frames", min=1, help="Stop after this many frames."),
    layout: str | None = typer.Option(None, "--layout", help="Force the source layout (default: detected)."),
    depth_scale: float | None = typer.Option(None, "--depth-scale", help="Depth units per metre (1000 = mm, "
                                             "5000 = TUM); overrides the layout's."),
    fps: float | None = typer.Option(None, "--fps", help="Frame rate for timestamps; overrides the layout's."),
    intrinsics: Path | None = typer.Option(None, "--intrinsics", help="Camera intrinsics: a 3x3 or 4x4 matrix "
                                           "as text, or JSON with fx, fy, cx, cy (+ width, height)."),
    fov: float | None = typer.Option(None, "--fov", help="Horizontal field of view (degrees) when there are "
                                     "no intrinsics."),
    up: str = typer.Option("auto", "--up", help="World up axis: auto (estimate), z, y, -y, x, -x, -z."),
    labels: str | None = typer.Option(None, "--labels", help="ScanNet label set: nyu40, scannet200 or raw."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing memory directory."),
    noise: str | None = typer.Option(None, "--noise", help="Noise level of the 'noisy' backends: low, medium, high."),
    model_dir: Path | None = typer.Option(None, "--model-dir", help="Local folder with the learned models' weights."),
    vocabulary: Path | None = typer.Option(None, "--vocabulary",
                                           help="'open-vocab' categories, one a line ('name' or 'name: threshold')."),
    geometry_opt: list[str] = typer.Option([], "--geometry-opt", help="KEY=VALUE option of the geometry backend."),
    instances_opt: list[str] = typer.Option([], "--instances-opt", help="KEY=VALUE option of the instance backend."),
    executor: str = typer.Option("", "--executor", help="Several sources: local (process pool) or ray; "
                                 "default local."),
    workers: int = typer.Option(1, "--workers", min=1, help="Several sources: sources ingested at once."),
    ray_address: str = typer.Option("", "--ray-address", help="Existing Ray cluster for --executor ray."),
) -> None:
    """Build a spatial memory from a frame source (or one per source) and save it as a memory directory."""
    if len(src) > 1 or executor:
        from spatialmem.commands.scale import ingest_many

        params = dict(ctx.params)
        return ingest_many(src, out, executor or "local", workers, ray_address, params)
    src = src[0]
    _check_out(out, overwrite)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from spatialmem import registry
    from spatialmem.commands.perception import backend_configs
    from spatialmem.memory.builder import BuilderConfig, build_memory
    from spatialmem.memory.store import save_memory
    from spatialmem.perception.auto import choose_backends, rgb_only_source, with_intrinsics_mode
    from spatialmem.sources import open_source
    from spatialmem.sources.prepare import prepare_source

    kw = _source_options(depth_scale, fps, intrinsics, fov, stride, max_frames, labels)
    kw.update(rgb_only_source(geometry, src, layout))
    raw = open_source(src, layout=layout, **kw)
    source = prepare_source(raw, up=up)
    report = source.report
    has_geometry = report.up is not None and report.median_depth_m is not None
    if instances == "auto" and model_dir is not None and not report.has_masks:
        instances = "open-vocab"  # weights from the folder the user named
    choice = choose_backends(has_geometry, report.has_masks, geometry, instances)
    geometry_config, instances_config = backend_configs(choice.geometry, choice.instances, noise=noise,
                                                        model_dir=model_dir, vocabulary=vocabulary,
                                                        geometry_opt=geometry_opt, instances_opt=instances_opt)
    config = BuilderConfig(window=window, keyframes=keyframes, geometry=with_intrinsics_mode(geometry_config, raw),
                           instances=instances_config)
    err = Console(stderr=True)
    for line in report.warnings:
        _warn(err, line)
    err.print(f"backends: geometry {choice.geometry}, instances {choice.instances}", highlight=False)
    for line in choice.notes:
        (_warn(err, line) if "no objects" in line else err.print(f"  {line}", highlight=False))
    if not choice.objects_possible and instances == "given":
        others = ", ".join(n for n in registry.names("instances") if n not in ("given", "fake"))
        _warn(err, f"{src}: choose an instance backend with --instances"
                   + (f" (available: {others})" if others else ""))
    t0 = time.perf_counter()
    with Progress(
        TextColumn("[bold]ingest[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[fps]:.1f} frames/s"),
        TextColumn("{task.fields[n_inst]} instances"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as bar:
        task = bar.add_task(getattr(source, "scene_name", str(src)), total=len(source), fps=0.0, n_inst=0)

        def progress(frame_index: int, n_frames: int, n_instances: int) -> None:
            done = frame_index + 1
            dt = max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, total=n_frames, fps=done / dt, n_inst=n_instances)

        memory = build_memory(source, config, progress=progress)
    memory = dataclasses.replace(memory, metadata={**memory.metadata, "backend_choice": {
        "geometry": choice.geometry, "instances": choice.instances, "notes": list(choice.notes)}})
    elapsed = time.perf_counter() - t0
    save_memory(memory, out, overwrite=overwrite)
    n_frames = memory.metadata.get("n_frames", len(memory.cameras))
    area = "unknown" if memory.room is None else f"{memory.room.area_m2:.2f} m²"
    from spatialmem.commands.perception import perception_line

    typer.echo(perception_line(memory.metadata.get("perception", {})))
    floor = "" if memory.room is None else f", floor at z = {memory.room.floor_z:.2f} m"
    g = report.up
    upline = "" if g is None else f"; up: {g.method} ({_vec(g.up)} in the source's frame)"
    typer.echo(
        f"wrote {out}: {len(memory.instances)} instances, {n_frames} frames in {elapsed:.1f} s "
        f"({n_frames / max(elapsed, 1e-9):.1f} frames/s), {len(memory.keyframes)} keyframes, room area {area}"
        f"{floor}{upline}"
    )
    sfm = memory.metadata.get("sfm")
    if sfm:
        sc = sfm.get("scale") or {}
        typer.echo(f"sfm: {sfm['n_registered_keyframes']}/{sfm['n_keyframes']} keyframes registered in "
                   f"{sfm['n_chunks']} chunk(s), {sfm['n_segments']} segment(s); "
                   f"gravity {sfm['gravity'].get('method')}; metric scale {sc.get('scale', float('nan')):.4g} m/unit "
                   f"(confidence {sc.get('confidence', 0):.2f}, {sc.get('n_objects', 0)} object(s) with size priors)")


def _capture_line(info: dict) -> str:
    """One line on how the memory was captured: layout, depth scale, up axis (and how it was found), floor."""
    g = info.get("gravity")
    if g:
        up = f"up {_vec(g['up'])} of the source ({g['method']}, confidence {g['confidence']:.2f}" + \
             (", weak" if g.get("weak") else "") + ")"
    else:
        up = "up: not estimated (z-up assumed)"
    scale = info.get("depth_scale")
    return (f"layout {info.get('source_layout') or 'unknown'}, {info['n_frames']} frames, depth scale "
            f"{'-' if scale is None else f'{scale:g} units/m'}, {up}, floor at z = {_fmt(info['floor_z'], 2)} m")


def inspect(
    mem: Path = typer.Argument(..., help="Memory directory."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of tables."),
) -> None:
    """Show a memory: room area, frames, source layout, depth scale, up axis, floor and the instances."""
    from spatialmem.memory.export import inspect_dict
    from spatialmem.memory.store import json_default, load_memory

    memory = load_memory(mem)
    info = inspect_dict(memory)
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=json_default))
        return
    con = Console()
    area = "unknown" if info["room_area_m2"] is None else f"{info['room_area_m2']:.2f} m²"
    con.print(f"[bold]{memory.scene_id}[/bold]  room area {area}, {info['n_frames']} frames, "
              f"{info['n_keyframes']} keyframes, {info['n_points']} scene points, {len(memory.instances)} instances")
    con.print(_capture_line(info), highlight=False)
    table = Table(show_header=True, header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("id", "category", "center x y z (m)", "size (m)", "seen (s)", "points"):
        table.add_column(col, no_wrap=col != "category", justify="right" if col in ("id", "points") else "left")
    for d in info["instances"]:
        table.add_row(str(d["id"]), d["category"], _vec(d["center"]), _vec(d["size"]),
                      _fmt(d["first_seen_s"], 2), str(d["n_points"]))
    con.print(table)
    perception = memory.metadata.get("perception")
    if perception:
        from spatialmem.commands.perception import print_perception

        print_perception(con, perception)


def render(
    mem: Path = typer.Argument(..., help="Memory directory."),
    topdown: Path = typer.Option(..., "--topdown", help="PNG file to write (replaced if it exists)."),
    width: int = typer.Option(800, "--width", min=64, max=8192, help="Image width in pixels."),
) -> None:
    """Render a bird's-eye map of a memory (points, labelled boxes, camera path) to a PNG."""
    from PIL import Image

    from spatialmem.memory.store import load_memory
    from spatialmem.memory.topdown import render_topdown

    check_output_file(topdown, "--topdown")  # before the work: a directory, or a folder that does not exist
    memory = load_memory(mem)
    img = render_topdown(memory, width_px=width)
    tmp = topdown.parent / f".{topdown.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        Image.fromarray(img).save(tmp, format="PNG")
        os.replace(tmp, topdown)
    finally:
        tmp.unlink(missing_ok=True)
    typer.echo(f"wrote {topdown} ({img.shape[1]}x{img.shape[0]})")


def eval_memory(
    mem: Path = typer.Argument(..., help="Memory directory."),
    scene_dir: Path = typer.Argument(..., help="Synthetic scene folder (with scene.json) holding the ground truth."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Score a memory against a synthetic scene: precision/recall at IoU 0.25/0.5, centre/size/room errors."""
    from spatialmem.memory.evaluate import evaluate_memory, load_scene_dict
    from spatialmem.memory.store import load_memory


    memory = load_memory(mem)
    scene = load_scene_dict(scene_dir)
    name = scene.get("scene_name")
    if name is not None and name != memory.scene_id:
        Console(stderr=True).print(f"[yellow]note:[/yellow] memory {memory.scene_id!r} is evaluated against "
                                   f"scene {name!r}", highlight=False)
    report = evaluate_memory(memory, scene)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
        return
    con = Console()
    table = Table(title=f"memory {mem} vs {scene_dir}", show_header=True, header_style="bold")
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("precision@0.25", _fmt(report.precision_25)),
        ("recall@0.25", _fmt(report.recall_25)),
        ("precision@0.5", _fmt(report.precision_50)),
        ("recall@0.5", _fmt(report.recall_50)),
        ("median centre error (m)", _fmt(report.median_center_error_m)),
        ("median size error (m)", _fmt(report.median_size_error_m)),
        ("room-area error", "-" if report.room_area_error is None else f"{100 * report.room_area_error:.2f} %"),
        ("ground-truth objects (visible)", str(report.n_gt)),
        ("never-visible objects (excluded)", str(report.n_gt_never_visible)),
        ("memory instances", str(report.n_pred)),
        ("of which never-visible objects (ignored @0.5)", str(report.n_pred_ignored_50)),
        ("matched @0.25 / @0.5", f"{report.n_matched_25} / {report.n_matched_50}"),
    ]
    for k, v in rows:
        table.add_row(k, v)
    con.print(table)
    if report.unmatched_gt_50:
        con.print("unmatched at IoU 0.5: " + ", ".join(report.unmatched_gt_50))


def import_annotations_cmd(
    file: Path = typer.Argument(..., help="Annotation JSON file (docs/formats.md, 'Annotation JSON')."),
    out: Path = typer.Option(..., "--out", help="Memory directory to write."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace an existing memory directory."),
) -> None:
    """Build a memory from 3D box annotations alone (no video)."""
    from spatialmem.memory.annotations import import_annotations
    from spatialmem.memory.store import save_memory

    _check_out(out, overwrite)
    memory = import_annotations(file)
    save_memory(memory, out, overwrite=overwrite)
    err = Console(stderr=True)
    for note in memory.metadata.get("notes", []):
        err.print(f"[yellow]note:[/yellow] {note}", highlight=False)
    area = "unknown" if memory.room is None else f"{memory.room.area_m2:.2f} m²"
    typer.echo(f"wrote {out}: {len(memory.instances)} instances, room area {area}")


def register(app: typer.Typer) -> None:
    """Add the memory commands to the ``spatialmem`` app."""
    app.command("ingest")(ingest)
    app.command("inspect")(inspect)
    app.command("render")(render)
    app.command("eval-memory")(eval_memory)
    app.command("import-annotations")(import_annotations_cmd)
