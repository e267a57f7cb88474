"""Perception on the command line: clear errors, `spatialmem backends`, provenance in metadata and inspect."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from spatialmem import registry
from spatialmem.cli import main
from spatialmem.memory.store import load_memory

_spec = importlib.util.spec_from_file_location(
    "mem_scene_kit", Path(__file__).parents[1] / "memory" / "mem_scene_kit.py")
kit = sys.modules.setdefault("mem_scene_kit", importlib.util.module_from_spec(_spec))
if not hasattr(kit, "World"):
    _spec.loader.exec_module(kit)


def scene(tmp_path) -> Path:
    w = kit.World()
    w.add(1, "sofa", [2.5, 0.6, 0.4], [1.8, 0.8, 0.8])
    w.add(2, "table", [2.5, 2.0, 0.35], [1.0, 0.6, 0.7])
    w.add(3, "chair", [3.8, 2.0, 0.45], [0.5, 0.5, 0.9])
    poses = kit.orbit_poses([2.5, 2.0], 1.6, 12, span=np.pi)
    return kit.write_scene_folder(tmp_path, w, poses, kit.small_K())


def test_fake_geometry_on_images_is_a_clear_error(tmp_path, capsys):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for k in range(2):
        Image.fromarray(np.full((48, 64, 3), 40 * k, np.uint8)).save(folder / f"{k:03d}.png")
    code = main(["ingest", str(folder), "--out", str(tmp_path / "m"), "--geometry", "fake"])
    err = capsys.readouterr().err
    assert code == 2
    assert "frame 0" in err and "'fake' geometry backend" in err and "--geometry" in err
    assert "Traceback" not in err and not (tmp_path / "m").exists()


def test_noisy_ingest_records_provenance_and_inspect_shows_it(tmp_path, capsys):
    src = scene(tmp_path)
    mem = tmp_path / "mem"
    assert main(["ingest", str(src), "--out", str(mem), "--geometry", "noisy", "--instances", "noisy",
                 "--noise", "medium", "--instances-opt", "seed=3"]) == 0
    out = capsys.readouterr().out
    assert "geometry noisy" in out and "noise medium" in out
    p = load_memory(mem).metadata["perception"]
    assert p["geometry"]["backend"] == "noisy" and p["geometry"]["options"] == {"level": "medium"}
    assert p["instances"]["options"] == {"level": "medium", "seed": 3}
    assert p["instances"]["noise"]["miss_rate"] == 0.15 and p["instances"]["noise"]["seed"] == 3
    assert p["geometry"]["scale"] in (0.95, 1.05)
    assert "numpy" in p["libraries"] and "spatialmem" in p["libraries"]
    assert main(["inspect", str(mem)]) == 0
    shown = capsys.readouterr().out
    assert "perception" in shown and "noisy" in shown and "libraries:" in shown
    assert main(["inspect", str(mem), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metadata"]["perception"]["instances"]["backend"] == "noisy"


def test_ingest_flag_misuse_names_the_fix(tmp_path, capsys):
    src = scene(tmp_path)
    cases = [
        (["--noise", "low"], "--geometry noisy"),
        (["--model-dir", str(tmp_path)], "learned backends"),
        (["--vocabulary", str(tmp_path / "v.txt")], "--instances open-vocab"),
        (["--geometry-opt", "oops"], "KEY=VALUE"),
        (["--geometry", "noisy", "--noise", "extreme"], "low, medium, high"),
    ]
    for extra, needle in cases:
        code = main(["ingest", str(src), "--out", str(tmp_path / "m"), *extra])
        err = capsys.readouterr().err
        assert code == 2 and needle in err, (extra, err)


def test_backends_lists_every_backend_with_extra_and_how_to_get_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(registry.EXTRA_MODULES, "zz-test", ("spatialmem_no_such_module",))
    registry.register("geometry", "zz-test", "spatialmem_no_such_module:X", extra="zz-test", doc="test entry")
    try:
        assert main(["backends", "--json"]) == 0
        rows = {(r["kind"], r["name"]): r for r in json.loads(capsys.readouterr().out)}
        assert main(["backends"]) == 0
        table = capsys.readouterr().out
    finally:
        registry.unregister("geometry", "zz-test")
    assert "zz-test" not in registry.names("geometry")
    for kind in ("geometry", "instances", "planner", "renderer", "executor", "source"):
        for name in registry.names(kind):
            assert (kind, name) in rows
    missing = rows[("geometry", "zz-test")]
    assert missing["missing"] == ["spatialmem_no_such_module"] and not missing["ready"]
    assert missing["get"] == "pip install 'spatialmem[zz-test]'"
    assert rows[("geometry", "noisy")]["ready"] and rows[("geometry", "noisy")]["extra"] is None
    depth = rows[("geometry", "depth")]
    assert depth["extra"] == "learned"
    assert list(depth["weights"]) == ["depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf"]
    if depth["weights"]["depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf"] is False:
        assert "hf download depth-anything/Depth-Anything-V2-Metric-Indoor-Large-hf" in depth["get"]
    assert "zz-test" in table and "open-vocab" in table
