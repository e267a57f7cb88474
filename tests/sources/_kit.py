"""Loads tests/memory/mem_scene_kit.py and tests/sources/layout_writers.py by path (--import-mode=importlib)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).parent


def load(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


kit = load("mem_scene_kit", HERE.parent / "memory" / "mem_scene_kit.py")
