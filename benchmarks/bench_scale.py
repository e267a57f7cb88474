"""Scale-out benchmark of ``spatialmem vsibench`` (issue 13): scenes/s per executor and worker count.

Builds a VSI-Bench-shaped layout of synthetic scenes (``ROOT/scannet/<scene>/`` + ``test.parquet``), then
for each executor (``local``, ``ray``) and worker count (1, 2) runs the whole benchmark twice:

* cold: an empty memory cache, so every scene is ingested (given perception) and answered;
* warm: the same cache again, so every scene is a cache hit and only hashing-memo look-up, loading and
  answering remain.

It prints scenes/s for each, and Ray's overhead per task: the wall time of N trivial tasks on Ray (with
Ray already started) over N, beside the same on the local process pool. Ray's start-up (``ray.init``) is
timed separately; it is paid once per run.

Usage:
    python benchmarks/bench_scale.py                 # 6 scenes of 40 frames at 320x240 in a temp folder
    python benchmarks/bench_scale.py --scenes 8 --frames 60 --size 640x480 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatialmem.bench.vsibench import VsiBenchConfig, run_vsibench  # noqa: E402
from spatialmem.scale.executors import LocalExecutor, RayExecutor, Task  # noqa: E402
from spatialmem.synth import writer  # noqa: E402


def noop(x: int) -> int:
    return x


def make_layout(root: Path, n_scenes: int, frames: int, size: tuple[int, int]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = []
    for seed in range(100, 100 + n_scenes):
        scene = writer.write_scene(root / "scannet", seed, writer.SynthConfig(num_frames=frames, width=size[0],
                                                                             height=size[1]))
        for line in (scene / "questions.jsonl").read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            rows.append({**row, "dataset": "scannet", "options": row.get("options") or None})
    pq.write_table(pa.Table.from_pylist(rows), root / "test.parquet")
    return root / "test.parquet"


def per_task_overhead(executor, n: int) -> float:
    t0 = time.perf_counter()
    executor.run([Task(f"t{i}", noop, (i,)) for i in range(n)], lambda o: None)
    return (time.perf_counter() - t0) / n


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=6)
    ap.add_argument("--frames", type=int, default=40)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--tasks", type=int, default=40, help="trivial tasks for the per-task overhead")
    ap.add_argument("--executors", default="local,ray")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    size = tuple(int(v) for v in args.size.lower().split("x"))
    results: dict = {"cpus": os.cpu_count(), "scenes": args.scenes, "frames": args.frames, "size": args.size,
                     "runs": []}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        questions = make_layout(root / "layout", args.scenes, args.frames, size)  # type: ignore[arg-type]
        results["synth_s"] = round(time.perf_counter() - t0, 2)
        for executor in args.executors.split(","):
            for workers in (1, 2):
                cache = root / f"cache-{executor}-{workers}"
                for phase in ("cold", "warm"):
                    out = root / f"out-{executor}-{workers}-{phase}"
                    cfg = VsiBenchConfig(questions, out, cache_dir=cache, planner="template", executor=executor,
                                         workers=workers, chart=False)
                    t0 = time.perf_counter()
                    res = run_vsibench(cfg)
                    dt = time.perf_counter() - t0
                    hits = sum(s["cache"] == "hit" for s in res.scenes)
                    results["runs"].append({"executor": executor, "workers": workers, "phase": phase,
                                            "seconds": round(dt, 2), "scenes_per_s": round(args.scenes / dt, 3),
                                            "cache_hits": hits,
                                            "overall": res.summary["method"].get("overall")})
        overhead = {"local_pool_ms": round(1e3 * per_task_overhead(LocalExecutor(workers=2), args.tasks), 1)}
        if "ray" in args.executors.split(","):
            import ray

            t0 = time.perf_counter()
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
            overhead["ray_init_s"] = round(time.perf_counter() - t0, 2)
            rex = RayExecutor(workers=2)
            per_task_overhead(rex, 4)  # warm the worker processes
            overhead["ray_ms"] = round(1e3 * per_task_overhead(rex, args.tasks), 1)
            ray.shutdown()
        results["per_task_overhead"] = overhead
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"{args.scenes} synthetic scenes, {args.frames} frames at {args.size}, given perception, template planner; "
          f"{results['cpus']} CPUs (layout written in {results['synth_s']} s)")
    print(f"{'executor':<9}{'workers':>8}{'phase':>7}{'seconds':>10}{'scenes/s':>10}{'cache hits':>12}")
    for r in results["runs"]:
        print(f"{r['executor']:<9}{r['workers']:>8}{r['phase']:>7}{r['seconds']:>10.2f}{r['scenes_per_s']:>10.3f}"
              f"{r['cache_hits']:>12}")
    print("per-task overhead (trivial task, pool already started): "
          + ", ".join(f"{k} {v}" for k, v in overhead.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
