"""A VSI-Bench-shaped layout made from synthetic scenes: ``ROOT/scannet/<scene>/`` + ``ROOT/test.parquet``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatialmem.synth import writer

SEEDS = (1, 2, 3)


@pytest.fixture(scope="session")
def bench_layout(tmp_path_factory) -> Path:
    """Three tiny synthetic scenes under the official dataset folder name, and their questions as parquet."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = tmp_path_factory.mktemp("vsibench")
    rows = []
    for seed in SEEDS:
        scene = writer.write_scene(root / "scannet", seed, writer.SynthConfig(num_frames=20, width=160, height=120))
        for line in (scene / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row["question_type"] in ("object_counting", "object_rel_distance", "room_size_estimation",
                                        "object_appearance_order"):
                rows.append({**row, "dataset": "scannet", "options": row.get("options") or None})
    pq.write_table(pa.Table.from_pylist(rows), root / "test.parquet")
    return root


@pytest.fixture(scope="session")
def reference_run(bench_layout, tmp_path_factory) -> Path:
    """``vsibench`` on the layout in this process's default executor (template planner): the reference output."""
    from spatialmem.bench.vsibench import VsiBenchConfig, run_vsibench

    root = tmp_path_factory.mktemp("reference")
    run_vsibench(VsiBenchConfig(bench_layout / "test.parquet", root / "out", cache_dir=root / "cache",
                                planner="template", chart=False))
    return root


@pytest.fixture(scope="session")
def memories(bench_layout, tmp_path_factory) -> Path:
    """``spatialmem ingest`` of each layout scene into ``MEMORIES/<scene>``."""
    from spatialmem.cli import main

    root = tmp_path_factory.mktemp("memories")
    for seed in SEEDS:
        name = f"scene_{seed:05d}"
        assert main(["ingest", str(bench_layout / "scannet" / name), "--out", str(root / name)]) == 0
    return root
