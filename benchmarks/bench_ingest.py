"""Ingest benchmark of the memory builder (issue 3).

Prints:

1. ingest frames/s at 640x480 on a synthetic scene with given geometry and masks (wall clock, including
   decoding with the builder's prefetch thread; and CPU-time frames/s, which is what a quiet machine gives
   per core);
2. on a long stream (default 20,000 frames; a synthetic scene's frames cycled with ever-increasing frame
   indices and timestamps, decoded on the fly at 320x240): the per-frame time of the last 1,000 frames
   divided by that of frames 1,000-2,000 (target <= 1.2; also as this thread's CPU time and as a ratio of
   medians, both less sensitive to other processes on a shared machine), and the peak resident-memory
   growth between frame 5,000 and the end (target <= 10 %: the highest VmRSS sampled every 50 frames after
   frame 5,000 over the highest up to it), plus the builder's state sizes.

Usage:
    python benchmarks/bench_ingest.py                        # generates the scenes it needs in a temp folder
    python benchmarks/bench_ingest.py --frames 4000          # a shorter long stream
    python benchmarks/bench_ingest.py --scene DIR --long-scene DIR2 --json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatialmem.memory.builder import BuilderConfig, MemoryBuilder, build_memory, prefetch  # noqa: E402
from spatialmem.sources import open_source  # noqa: E402


def _rss_kib(field: str = "VmRSS") -> int:
    """Resident memory (VmRSS) or its peak so far (VmHWM) of this process, KiB (Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _scene(path: str | None, tmp: Path, seed: int, size: tuple[int, int], frames: int) -> Path:
    if path:
        return Path(path)
    from spatialmem.synth.writer import SynthConfig, write_scene

    return write_scene(tmp / f"{size[0]}x{size[1]}", seed, SynthConfig(num_frames=frames, width=size[0],
                                                                        height=size[1], renderer="auto"))


def bench_fps(scene: Path, config: BuilderConfig, max_frames: int | None) -> dict:
    src = open_source(scene, max_frames=max_frames)
    t, c = time.perf_counter(), time.process_time()
    mem = build_memory(src, config)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    n = len(src)
    w, h = src.intrinsics.width, src.intrinsics.height
    return {"scene": str(scene), "size": f"{w}x{h}", "frames": n, "fps_wall": n / wall, "fps_cpu": n / cpu,
            "instances": len(mem.instances), "room_area_m2": None if mem.room is None else mem.room.area_m2}


def _cycled(src, n: int):
    """``n`` frames cycling ``src`` with increasing index and timestamp."""
    period = len(src)
    dt = (src.rows[-1]["timestamp_s"] - src.rows[0]["timestamp_s"]) / max(1, period - 1) if period > 1 else 0.1
    k = 0
    while k < n:
        for f in src:
            if k >= n:
                return
            yield dataclasses.replace(f, index=k, timestamp_s=k * dt)
            k += 1


def bench_long(scene: Path, config: BuilderConfig, n: int, report_every: int) -> dict:
    src = open_source(scene)
    b = MemoryBuilder(config, scene_id="long")
    times: list[float] = []
    cpu: list[float] = []  # this thread's CPU time per step: insensitive to other processes' load
    mark = min(5000, n // 4)
    peak_before = peak_after = 0  # highest sampled VmRSS (KiB) up to the mark frame / after it
    checkpoints = []
    for k, frame in enumerate(prefetch(_cycled(src, n))):
        t, c = time.perf_counter(), time.thread_time()
        b.step(frame)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)
        if k % 50 == 0 or k + 1 == mark:
            rss = _rss_kib()
            if k + 1 <= mark:
                peak_before = max(peak_before, rss)
            else:
                peak_after = max(peak_after, rss)
        if report_every and (k + 1) % report_every == 0:
            checkpoints.append({"frame": k + 1, "ms_per_frame_recent": 1e3 * sum(times[-report_every:]) / report_every,
                                "rss_mib": _rss_kib() / 1024, "instances": len(b.instances),
                                "keyframes": len(b.keyframes.entries), "cameras": len(b.track.samples),
                                "scene_voxels": len(b.cloud)})
            print(json.dumps(checkpoints[-1]), file=sys.stderr, flush=True)
    peak_after = max(peak_after, _rss_kib(), peak_before)
    ref_sl = slice(1000, 2000) if n >= 2000 else slice(n // 10, n // 5)
    last_sl = slice(-1000, None) if n >= 2000 else slice(-max(1, n // 10), None)
    ref, last = times[ref_sl], times[last_sl]
    cpu_ratio = (sum(cpu[last_sl]) / len(cpu[last_sl])) / max(1e-12, sum(cpu[ref_sl]) / len(cpu[ref_sl]))
    t0 = time.perf_counter()
    mem = b.snapshot()
    snap_s = time.perf_counter() - t0
    return {
        "scene": str(scene), "frames": n,
        "ms_per_frame_ref": 1e3 * sum(ref) / len(ref), "ms_per_frame_last": 1e3 * sum(last) / len(last),
        "time_ratio_last_over_ref": (sum(last) / len(last)) / (sum(ref) / len(ref)),
        "cpu_time_ratio_last_over_ref": cpu_ratio,
        "median_time_ratio_last_over_ref": statistics.median(last) / statistics.median(ref),
        "peak_rss_mib_at_mark": peak_before / 1024,
        "mark_frame": mark, "peak_rss_mib_end": peak_after / 1024,
        "peak_rss_growth": (peak_after - peak_before) / peak_before if peak_before else None,
        "instances": len(mem.instances), "keyframes": len(mem.keyframes), "cameras": len(mem.cameras),
        "scene_points": len(mem.points_world), "snapshot_s": snap_s,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scene", help="640x480 synthetic scene folder for the frames/s figure (default: generate)")
    ap.add_argument("--long-scene", help="scene folder cycled for the long stream (default: generate 320x240)")
    ap.add_argument("--frames", type=int, default=20000, help="length of the long stream (0 skips it)")
    ap.add_argument("--fps-frames", type=int, default=None, help="frames of the fps run (default: whole scene)")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--report-every", type=int, default=1000)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    config = BuilderConfig()
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench_ingest_") as tmp:
        scene = _scene(args.scene, Path(tmp), args.seed, (640, 480), 300)
        out["fps"] = bench_fps(scene, config, args.fps_frames)
        if not args.json:
            f = out["fps"]
            print(f"ingest {f['size']}: {f['fps_wall']:.1f} frames/s wall, {f['fps_cpu']:.1f} frames/s per CPU "
                  f"second ({f['frames']} frames, {f['instances']} instances)", flush=True)
        if args.frames > 0:
            long_scene = _scene(args.long_scene, Path(tmp), args.seed, (320, 240), 200)
            out["long"] = bench_long(long_scene, config, args.frames, args.report_every)
            if not args.json:
                r = out["long"]
                growth = "n/a" if r["peak_rss_growth"] is None else f"{100 * r['peak_rss_growth']:.1f} %"
                print(f"long stream {r['frames']} frames: last-1000 / frames-1000..2000 per-frame time = "
                      f"{r['time_ratio_last_over_ref']:.3f} ({r['ms_per_frame_last']:.2f} / "
                      f"{r['ms_per_frame_ref']:.2f} ms wall; CPU-time ratio {r['cpu_time_ratio_last_over_ref']:.3f}, "
                      f"median ratio {r['median_time_ratio_last_over_ref']:.3f})"
                      f"; peak RSS {r['peak_rss_mib_at_mark']:.1f} MiB at frame {r['mark_frame']} -> "
                      f"{r['peak_rss_mib_end']:.1f} MiB at the end (growth {growth}); {r['instances']} instances, "
                      f"{r['keyframes']} keyframes, {r['cameras']} cameras, {r['scene_points']} scene points")
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
