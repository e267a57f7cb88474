"""Gravity, floor and source pre-pass benchmark (issue 8).

Prints, on a synthetic scene (generated in a temp folder unless --scene is given):

1. the pre-pass of ``spatialmem.sources.prepare.prepare_source`` (24 frames read, up estimated): seconds;
2. ``estimate_up`` on the pre-pass's points and poses: milliseconds (median of 5);
3. ``FloorEstimator.add`` per frame at the builder's density for 640x480 (19,200 structure points)
   and ``estimate()`` after 300 frames: milliseconds;
4. the floor and up found on the scene rewritten into a y-down world, against the truth (z = 0, +z).

Usage:
    python benchmarks/bench_gravity_floor.py [--scene DIR] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatialmem.geometry.floor import FloorEstimator  # noqa: E402
from spatialmem.geometry.gravity import estimate_up  # noqa: E402
from spatialmem.sources import open_source  # noqa: E402
from spatialmem.sources.prepare import depth_points_world, prepare_source  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", help="synthetic scene folder (default: generate one, 60 frames at 640x480)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scene = Path(args.scene) if args.scene else None
        if scene is None:
            from spatialmem.synth.writer import SynthConfig, write_scene

            scene = write_scene(Path(tmp), 3, SynthConfig(num_frames=60, width=640, height=480, renderer="auto"))
        src = open_source(scene, load_instances=False)
        t = time.perf_counter()
        prepared = prepare_source(src)
        prepass_s = time.perf_counter() - t
        frames = [src.read(k) for k in np.linspace(0, len(src) - 1, 24).astype(int)]
        rng = np.random.default_rng(0)
        R = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # z-up -> y-down
        W = np.eye(4)
        W[:3, :3] = R
        pts = np.concatenate([depth_points_world(f, 8, rng, 4000) for f in frames]) @ R.T
        poses = np.stack([W @ f.world_from_camera for f in frames])
        times = []
        for _ in range(5):
            t = time.perf_counter()
            up = estimate_up(pts, poses)
            times.append(time.perf_counter() - t)
        fe = FloorEstimator()
        grid = np.random.default_rng(1).uniform([0, 0, 0], [5, 4, 2.6], (19_200, 3))
        grid[: 19_200 // 3, 2] = 0.0  # a third on the floor
        t = time.perf_counter()
        for _ in range(300):
            fe.add(grid + rng.normal(0, 0.005, grid.shape))
            fe.add_camera(1.5)
        add_ms = 1e3 * (time.perf_counter() - t) / 300
        t = time.perf_counter()
        floor = fe.estimate()
        est_ms = 1e3 * (time.perf_counter() - t)
        out = {"prepass_s": prepass_s, "prepass_method": prepared.report.up.method,
               "estimate_up_ms_median": 1e3 * statistics.median(times), "estimate_up_ms_max": 1e3 * max(times),
               "y_down_up_found": [round(float(v), 4) for v in up.up], "y_down_method": up.method,
               "floor_add_ms_per_frame": add_ms, "floor_estimate_ms": est_ms, "floor_z_random_room": floor.z}
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            for k, v in out.items():
                print(f"{k:28s} {v}")


if __name__ == "__main__":
    main()
