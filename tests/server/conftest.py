"""Fixtures of the server tests: a tiny synthetic scene, its memory in a served folder, and app factories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatialmem.memory.builder import build_memory
from spatialmem.memory.store import save_memory
from spatialmem.server.app import create_app
from spatialmem.server.config import ServerConfig, ServerLimits
from spatialmem.sources import open_source
from spatialmem.synth.writer import SynthConfig, write_scene

TINY = SynthConfig(num_frames=40, fps=10.0, width=96, height=72, renderer="auto")


@pytest.fixture(scope="session")
def tiny_scene(tmp_path_factory) -> Path:
    """A 40-frame 96x72 synthetic bedroom (seed 3)."""
    return write_scene(tmp_path_factory.mktemp("scene"), 3, TINY)


@pytest.fixture(scope="session")
def served(tmp_path_factory, tiny_scene) -> Path:
    """A memories folder holding memory ``tiny`` built from :func:`tiny_scene` (and a non-memory folder)."""
    root = tmp_path_factory.mktemp("memories")
    save_memory(build_memory(open_source(tiny_scene)), root / "tiny")
    (root / "not-a-memory").mkdir()
    return root


def make_app(root: Path, **kw):
    """An app over ``root``; ``limits=`` / ``token=`` / ``host=`` / ``save_root=`` pass through."""
    limits = kw.pop("limits", ServerLimits())
    return create_app(ServerConfig(roots=(root,), limits=limits, **kw))


def frame_parts(scene: Path, row: dict) -> tuple[dict, dict]:
    """(files, data) of a frame upload carrying a synthetic frame's own files and its pose/time/labels."""
    labels = {o["id"]: o["category"] for o in json.loads((scene / "scene.json").read_text())["objects"]}
    files = {"rgb": (row["rgb"], (scene / row["rgb"]).read_bytes()),
             "depth": (row["depth"], (scene / row["depth"]).read_bytes()),
             "instances": (row["instance"], (scene / row["instance"]).read_bytes())}
    meta = {"index": row["index"], "timestamp_s": row["timestamp_s"], "world_from_camera": row["world_from_camera"],
            "labels": labels}
    return files, {"meta": json.dumps(meta)}


def scene_rows(scene: Path) -> list[dict]:
    return [json.loads(x) for x in (scene / "frames.jsonl").read_text().splitlines() if x.strip()]


def session_body(scene: Path, **kw) -> dict:
    """The POST /api/sessions body for a synthetic scene (its intrinsics, given perception)."""
    return {"intrinsics": json.loads((scene / "intrinsics.json").read_text()), **kw}
