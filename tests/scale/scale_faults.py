"""Task wrappers that fail on purpose, for the executor tests (module level: workers import or unpickle them)."""

from __future__ import annotations

import os
from pathlib import Path

from spatialmem.bench.vsibench import SceneJob, SceneResult, run_scene

CRASH_DIR = "crash-once"
CALLS_DIR = "calls"


def _flag(job: SceneJob, folder: str) -> Path:
    return Path(job.cache_dir).parent / folder / job.key


def crash_once_then_run(job: SceneJob) -> SceneResult:
    """Kill this worker process (no cleanup, like a lost node) if the scene's crash flag is set; the flag
    is removed first, so the retry runs normally. Every call is logged in ``calls/``."""
    calls = _flag(job, CALLS_DIR)
    calls.parent.mkdir(parents=True, exist_ok=True)
    with calls.open("a", encoding="utf-8") as fh:
        fh.write(f"{os.getpid()}\n")
    flag = _flag(job, CRASH_DIR)
    if flag.exists():
        flag.unlink()
        os._exit(17)
    return run_scene(job)


def square(x: int) -> int:
    return x * x


def fail_always(x: int) -> int:
    raise ValueError(f"bad input {x}")


def die_if_marked(marker: str, x: int) -> int:
    """Kill the worker the first time (the marker file is consumed), then return ``x``."""
    p = Path(marker)
    if p.exists():
        p.unlink()
        os._exit(9)
    return x
