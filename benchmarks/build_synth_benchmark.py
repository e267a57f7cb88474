"""Build the synthetic VSI-Bench-style benchmark at scale and (optionally) score the template planner.

N scenes -> ``spatialmem synth`` (seeds SEED .. SEED+N-1) -> ``spatialmem ingest`` (given geometry and
masks) -> one concatenated ``questions.jsonl`` -> ``spatialmem eval`` with the template planner.
Already-built scenes and memories are reused unless ``--rebuild``.

    python benchmarks/build_synth_benchmark.py --scenes 20 --seed 100 --frames 300 --out runs/synth20 --eval --check

``--check`` exits 1 unless overall >= 0.95 and every task >= 0.90 (the acceptance bar of issue 5).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def spatialmem(*args: str) -> None:
    """Run one ``spatialmem`` CLI command with this interpreter; stop with its message on failure."""
    cmd = [sys.executable, "-m", "spatialmem.cli", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(args)}\n" + "\n".join(tail))


def build_scene(seed: int, frames: int, size: str, out: Path, rebuild: bool) -> tuple[str, float, float]:
    name = f"scene_{seed:05d}"
    scene, memory = out / "scenes" / name, out / "memories" / name
    t0 = time.perf_counter()
    if rebuild or not (scene / "questions.jsonl").is_file():
        spatialmem("synth", "--seed", str(seed), "--frames", str(frames), "--size", size, "--out", str(out / "scenes"),
                   "--overwrite")
    t1 = time.perf_counter()
    if rebuild or not memory.is_dir():
        spatialmem("ingest", str(scene), "--out", str(memory), "--overwrite")
    return name, t1 - t0, time.perf_counter() - t1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20, help="number of scenes (default 20)")
    ap.add_argument("--seed", type=int, default=100, help="seed of the first scene")
    ap.add_argument("--frames", type=int, default=300, help="frames per scene")
    ap.add_argument("--size", default="640x480", help="image size WIDTHxHEIGHT")
    ap.add_argument("--out", type=Path, default=Path("runs/synth_benchmark"))
    ap.add_argument("--jobs", type=int, default=2, help="scenes built in parallel")
    ap.add_argument("--rebuild", action="store_true", help="rebuild scenes and memories that exist")
    ap.add_argument("--eval", action="store_true", help="score the template planner on the result")
    ap.add_argument("--check", action="store_true", help="exit 1 unless overall >= 0.95 and every task >= 0.90")
    args = ap.parse_args(argv)
    if args.scenes < 1 or args.frames < 1 or args.jobs < 1:
        ap.error("--scenes, --frames and --jobs must be >= 1")
    out: Path = args.out
    (out / "scenes").mkdir(parents=True, exist_ok=True)
    (out / "memories").mkdir(parents=True, exist_ok=True)
    seeds = list(range(args.seed, args.seed + args.scenes))
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        jobs = pool.map(lambda s: build_scene(s, args.frames, args.size, out, args.rebuild), seeds)
        for name, synth_s, ingest_s in jobs:
            print(f"{name}: synth {synth_s:.1f} s, ingest {ingest_s:.1f} s", flush=True)
    qfile = out / "questions.jsonl"
    n = 0
    counts: dict[str, int] = {}
    tmp = qfile.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for seed in seeds:
            for line in (out / "scenes" / f"scene_{seed:05d}" / "questions.jsonl").read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    counts[row["question_type"]] = counts.get(row["question_type"], 0) + 1
                    fh.write(line.strip() + "\n")
                    n += 1
    tmp.replace(qfile)
    print(f"built {len(seeds)} scenes in {time.perf_counter() - t0:.1f} s; {n} questions -> {qfile}")
    print("questions per type: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    if not args.eval:
        return 0
    results = out / "results_template"
    shutil.rmtree(results, ignore_errors=True)
    t1 = time.perf_counter()
    spatialmem("eval", str(qfile), "--memories", str(out / "memories"), "--out", str(results), "--planner", "template")
    summary = json.loads((results / "summary.json").read_text())
    print(f"eval {time.perf_counter() - t1:.1f} s")
    print((results / "results.md").read_text())
    per_task = summary["method"]["per_task"]
    overall = summary["method"]["overall"] or 0.0
    ok = overall >= 0.95 and all(v >= 0.90 for v in per_task.values()) and len(per_task) == 8
    print(f"acceptance (overall >= 0.95, every task >= 0.90, 8 tasks): {'PASS' if ok else 'FAIL'}")
    return 0 if (ok or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
