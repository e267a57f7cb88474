"""Benchmark of the synthetic world: render frames/s (GL and CPU) and end-to-end scene writing time.

Run: ``.venv/bin/python benchmarks/bench_synth.py [--seed 3] [--frames 300]``.
Targets (2-core machine, Mesa llvmpipe): GL render stage >= 60 frames/s at 640x480, a 300-frame
640x480 scene written end to end (render + JPEG/PNG/H.264 encoding + questions) in < 30 s.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

from spatialmem.synth.writer import SynthConfig, generate_scene, make_renderer, write_scene


def render_fps(name: str, seed: int, frames: int) -> float:
    """Frames per second of the render stage alone (poses of the scene's walkthrough)."""
    cfg = SynthConfig(num_frames=frames)
    spec, mesh, _ = generate_scene(seed, frames, cfg.fps)
    r = make_renderer(name, mesh)
    K = cfg.intrinsics
    r.render(K, spec.poses[0])  # warm-up (shader compilation, framebuffer)
    t = time.perf_counter()
    for i in range(frames):
        r.render(K, spec.poses[i])
    dt = time.perf_counter() - t
    if hasattr(r, "close"):
        r.close()
    return frames / dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--cpu-frames", type=int, default=10)
    args = ap.parse_args()
    try:
        fps = render_fps("gl", args.seed, args.frames)
        print(f"GL render 640x480: {fps:.1f} frames/s over {args.frames} frames (target >= 60)")
    except Exception as exc:  # noqa: BLE001 - report and go on
        print(f"GL render: unavailable ({exc})")
    fps = render_fps("cpu", args.seed, args.cpu_frames)
    print(f"CPU render 640x480: {fps:.2f} frames/s over {args.cpu_frames} frames")
    out = tempfile.mkdtemp(prefix="bench_synth_")
    try:
        t = time.perf_counter()
        write_scene(out, args.seed, SynthConfig(num_frames=args.frames))
        dt = time.perf_counter() - t
        print(f"end to end {args.frames}-frame 640x480 scene: {dt:.1f} s (target < 30 s)")
    finally:
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
