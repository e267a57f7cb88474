"""Questions per second for template planning + program execution (memory loading excluded).

By default builds one synthetic scene (``spatialmem synth`` + ``ingest``, seed 3) in a temporary folder;
or pass ``--scene SCENE_DIR --memory MEMORY_DIR`` (the scene folder's questions.jsonl is used).
Target: >= 200 questions/s on the 2-core reference machine. Two figures are printed: the first pass over a
freshly loaded memory (per-object geometry caches cold; imports warmed on a second copy) and the mean over
all passes (later passes reuse the query language's caches).

    python benchmarks/bench_qa.py [--frames 150] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

TARGET_QPS = 200.0


def build(tmp: Path, seed: int, frames: int) -> tuple[Path, Path]:
    scene = tmp / "scenes" / f"scene_{seed:05d}"
    memory = tmp / "memories" / scene.name
    for args in (["synth", "--seed", str(seed), "--frames", str(frames), "--out", str(tmp / "scenes")],
                 ["ingest", str(scene), "--out", str(memory)]):
        proc = subprocess.run([sys.executable, "-m", "spatialmem.cli", *args], capture_output=True, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"spatialmem {' '.join(args)} failed:\n{proc.stderr.strip()[-800:]}")
    return scene, memory


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", type=Path, help="scene folder with questions.jsonl")
    ap.add_argument("--memory", type=Path, help="memory folder of that scene")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=3, help="passes over the questions")
    args = ap.parse_args(argv)

    from spatialmem.agent.answer import answer_question
    from spatialmem.agent.template import TemplatePlanner
    from spatialmem.bench.data import load_questions
    from spatialmem.bench.metrics import score_prediction
    from spatialmem.memory.store import load_memory

    with tempfile.TemporaryDirectory(prefix="bench_qa_") as tmpdir:
        if args.scene and args.memory:
            scene, mem_dir = args.scene, args.memory
        else:
            t0 = time.perf_counter()
            scene, mem_dir = build(Path(tmpdir), args.seed, args.frames)
            print(f"built scene + memory in {time.perf_counter() - t0:.1f} s (not timed below)")
        warm = load_memory(mem_dir)  # a second copy: warms imports and code paths, not this memory's caches
        memory = load_memory(mem_dir)
        questions = load_questions(scene / "questions.jsonl").questions
    planner = TemplatePlanner()
    summary = memory.summary()
    per_type: dict[str, list[float]] = defaultdict(list)
    failures, correct = 0, 0.0
    for q in questions:  # warm-up on the other copy (imports, grammar, numpy/scipy first calls)
        answer_question(q.to_question(), warm, planner, summary)
    t0 = time.perf_counter()
    first_pass_s = 0.0
    for rep in range(args.repeat):
        for q in questions:
            t = time.perf_counter()
            rec = answer_question(q.to_question(), memory, planner, summary)
            per_type[q.question_type].append(time.perf_counter() - t)
            if rep == 0:
                failures += not rec.ok
                correct += score_prediction(q.question_type, rec.answer, q.ground_truth, q.options) if rec.ok else 0
        if rep == 0:
            first_pass_s = time.perf_counter() - t0
    elapsed = time.perf_counter() - t0
    n = len(questions) * args.repeat
    qps = n / elapsed
    print(f"{len(questions)} questions x {args.repeat} passes on {memory.scene_id} "
          f"({len(memory.instances)} instances, {len(memory.points_world)} points)")
    for qtype, times in sorted(per_type.items()):
        med, mean = 1000 * statistics.median(times), 1000 * statistics.fmean(times)
        print(f"  {qtype:30s} median {med:7.2f} ms  mean {mean:7.2f} ms  (n={len(times)})")
    print(f"first pass over a fresh memory (cold caches): {len(questions) / first_pass_s:.0f} questions/s")
    print(f"template planning + execution: {qps:.0f} questions/s (target >= {TARGET_QPS:.0f}); "
          f"mean score {correct / max(1, len(questions)):.3f}, failures {failures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
