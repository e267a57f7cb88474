"""Shared fixtures of the synth tests: one tiny scene folder written once per session."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from spatialmem.synth.writer import SynthConfig, write_scene

TINY = SynthConfig(num_frames=40, fps=10.0, width=96, height=72, renderer="auto")


def egl_available() -> tuple[bool, str]:
    """Whether a headless EGL OpenGL 3.3 context can be created here (and why not)."""
    try:
        import moderngl

        ctx = moderngl.create_standalone_context(backend="egl", require=330)
        ctx.release()
        return True, ""
    except Exception as exc:  # noqa: BLE001
        return False, f"no EGL OpenGL 3.3 context on this machine: {exc}"


@pytest.fixture(scope="session", params=[2, 4], ids=["rect-bedroom", "L-office"])
def tiny_scene(request, tmp_path_factory) -> Path:
    """Path of a 40-frame 96x72 scene folder (seed 2: rectangular bedroom, seed 4: L-shaped office)."""
    return write_scene(tmp_path_factory.mktemp("synth"), request.param, TINY)


def load_scene(path: Path) -> dict:
    """scene.json, frames.jsonl rows and intrinsics of a scene folder."""
    scene = json.loads((path / "scene.json").read_text())
    frames = [json.loads(line) for line in (path / "frames.jsonl").read_text().splitlines()]
    intr = json.loads((path / "intrinsics.json").read_text())
    return {"scene": scene, "frames": frames, "intrinsics": intr}


def read_png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path)).astype(np.int64)
