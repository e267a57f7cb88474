"""``spatialmem synth``: write procedural indoor scene folders (see docs/formats.md)."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from spatialmem.errors import InputError


def parse_size(text: str) -> tuple[int, int]:
    """``"640x480"`` -> (640, 480); raises InputError on anything else."""
    m = re.fullmatch(r"\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*", text or "")
    if not m:
        raise InputError(f"--size must look like WIDTHxHEIGHT (e.g. 640x480), got {text!r}")
    return int(m.group(1)), int(m.group(2))


MAX_SEED = 99999


def check_seed_range(seed: int, scenes: int) -> None:
    """Raise InputError unless ``--scenes`` is in 1..10000 and seeds ``seed .. seed + scenes - 1`` are in 0..99999."""
    if not 1 <= scenes <= 10000:
        raise InputError(f"--scenes must be between 1 and 10000, got {scenes}")
    last = seed + scenes - 1
    if seed < 0 or last > MAX_SEED:
        raise InputError(f"--seed must be in 0..{MAX_SEED} and so must the last seed (--seed + --scenes - 1 = {last}), "
                         f"got --seed {seed} --scenes {scenes}")


def synth(
    out: Path = typer.Option(..., "--out", help="Folder that receives one scene_<seed> folder per scene."),
    seed: int = typer.Option(0, "--seed", help="Seed of the first scene; scene k uses seed + k."),
    scenes: int = typer.Option(1, "--scenes", help="Number of scenes to write."),
    frames: int = typer.Option(300, "--frames", help="Frames per scene."),
    fps: float = typer.Option(10.0, "--fps", help="Frames per second of the walkthrough and its video."),
    size: str = typer.Option("640x480", "--size", help="Image size WIDTHxHEIGHT in pixels (even numbers)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace scene folders that already exist."),
    renderer: str = typer.Option("auto", "--renderer", help="gl, cpu, or auto (gl, else cpu with a warning)."),
) -> None:
    """Synthesize indoor scenes with exact ground truth (RGB, depth, instances, poses, questions)."""
    from spatialmem.synth.scene_spec import scene_name_for
    from spatialmem.synth.writer import SynthConfig, categories_summary, write_scene

    check_seed_range(seed, scenes)
    width, height = parse_size(size)
    config = SynthConfig(num_frames=frames, fps=fps, width=width, height=height, renderer=renderer).validate()
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} exists and is not a folder")
    if not overwrite:
        for k in range(scenes):
            dest = out / scene_name_for(seed + k)
            if dest.exists():
                raise InputError(f"{dest} already exists; pass --overwrite to replace it or choose another --out")
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=False) as progress:
        for k in range(scenes):
            s = seed + k
            task = progress.add_task(f"{scene_name_for(s)}", total=frames)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                path = write_scene(out, s, config, overwrite=overwrite,
                                   progress=lambda i, n, t=task: progress.update(t, completed=i))
            for w in caught:
                console.print(f"[yellow]warning:[/yellow] {w.message}", highlight=False)
            scene = json.loads((path / "scene.json").read_text())
            nq = sum(1 for line in (path / "questions.jsonl").read_text().splitlines() if line.strip())
            cats = ", ".join(f"{c} x{n}" for c, n in categories_summary(scene).items())
            room = scene["room"]
            progress.console.print(
                f"{path}: {room.get('type', 'room')} ({room['shape']}, {room['floor_area_m2']:.1f} m², "
                f"ceiling {room['ceiling_height_m']:.2f} m), {len(scene['objects'])} objects, {nq} questions\n"
                f"  {cats}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``synth`` command to the CLI."""
    app.command("synth")(synth)
