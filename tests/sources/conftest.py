"""Registers the helpers of these tests (not test modules) under plain names: ``mem_scene_kit`` (tiny
ray-cast box worlds, from tests/memory) and ``layout_writers`` (a scene folder written in each capture layout)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).parent


def _load(name: str, path: Path) -> None:
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        spec.loader.exec_module(mod)


_load("mem_scene_kit", HERE.parent / "memory" / "mem_scene_kit.py")
_load("layout_writers", HERE / "layout_writers.py")
