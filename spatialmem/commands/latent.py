"""``spatialmem latent``: build streaming episodes and train the latent vision memory.

torch and the other heavy packages are imported only inside the commands, after a check that
names ``pip install 'spatialmem[latent]'`` when they are missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from spatialmem.errors import InputError

latent_app = typer.Typer(help="Latent memory inside the model: episodes, Stage I / II training.",
                         no_args_is_help=True)


def _progress(console: Console) -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[info]}"), console=console)


@latent_app.command("dataset")
def dataset(
    out: Path = typer.Option(..., "--out", help="Folder that receives episode_<seed>.npz/.json files."),
    seed: int = typer.Option(0, "--seed", help="Seed of the first scene; episode k uses seed + k."),
    episodes: int = typer.Option(10, "--episodes", help="Number of episodes."),
    frames: int = typer.Option(64, "--frames", help="Frames per episode."),
    fps: float = typer.Option(2.0, "--fps", help="Frames per second of the walkthrough."),
    window: int = typer.Option(8, "--window", help="Working-window length the questions must reach beyond."),
) -> None:
    """Write streaming episodes (object tokens per frame + questions) from synthetic scenes (numpy only)."""
    from spatialmem.latent.data import write_dataset

    if episodes < 1 or frames < 2 * window or window < 1:
        raise InputError(f"need --episodes >= 1, --window >= 1 and --frames >= 2 * window; got {episodes}, "
                         f"{window}, {frames}")
    console = Console(stderr=True)
    with _progress(console) as bar:
        task = bar.add_task("episodes", total=episodes, info="")
        paths = write_dataset(out, list(range(seed, seed + episodes)), frames, fps, window,
                              progress=lambda i, n: bar.update(task, completed=i))
    console.print(f"{out}: {len(paths)} episodes of {frames} frames", highlight=False)


@latent_app.command("train")
def train(
    stage: int = typer.Option(..., "--stage", help="0 (toy base), 1 (formation) or 2 (invocation)."),
    config: Path = typer.Option(..., "--config", help="TOML or JSON training config (docs/latent.md)."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore an existing checkpoint instead of resuming it."),
) -> None:
    """Train a stage of the latent vision memory (checkpoints resume automatically)."""
    from spatialmem.latent import require_latent

    require_latent("spatialmem latent train")
    from spatialmem.latent.config import load_config
    from spatialmem.latent.train import run_stage

    cfg = load_config(config)
    console = Console(stderr=True)
    with _progress(console) as bar:
        task = bar.add_task(f"stage {stage}", total=None, info="")

        def report(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, info=f"loss {loss:.4f}")

        result = run_stage(cfg, stage, report, resume=not fresh)
    typer.echo(json.dumps(result, indent=1))


def register(app: typer.Typer) -> None:
    """Add the ``latent`` command group to the CLI."""
    app.add_typer(latent_app, name="latent")
