"""The LLM planner against any OpenAI-compatible endpoint, on a fixed 48-question synthetic subset.

Builds two synthetic scenes (``spatialmem synth`` + ``ingest``, seeds 3 and 7; cached with ``--work DIR``)
and picks 48 of their questions, round-robin over the ten VSI-Bench types (sorted by id: the same
subset every run). Prints per-task scores (VSI-Bench rules), first-program acceptance (the first
reply was accepted as it came, or after local fixes only), repairs per question, seconds per question
(mean and worst) and the failures by kind; the template planner's score on the same subset is printed
beside it.

    # llama.cpp's server, or llama-cpp-python's: python -m llama_cpp.server --model M.gguf --port 8080
    python benchmarks/bench_llm_planner.py --base-url http://127.0.0.1:8080/v1 --model M \\
        [--grammar auto|off|gbnf|lark|json] [--max-repairs 3] [--work /tmp/bench_llm] [--transcripts DIR]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

SEEDS = (3, 7)
N_QUESTIONS = 48


def build_scenes(work: Path, frames: int) -> list[tuple[Path, Path]]:
    """``[(scene folder, memory folder)]`` for :data:`SEEDS`, built once under ``work``."""
    from bench_qa import build  # the sibling benchmark's synth + ingest step

    out = []
    for seed in SEEDS:
        scene = work / "scenes" / f"scene_{seed:05d}"
        memory = work / "memories" / scene.name
        if not (memory.exists() and (scene / "questions.jsonl").exists()):
            build(work, seed, frames)
        out.append((scene, memory))
    return out


def pick_questions(scenes, n: int = N_QUESTIONS):
    """``n`` questions round-robin over the types present (sorted by id), with their memory folders."""
    from spatialmem.bench.data import load_questions

    by_type: dict[str, list] = defaultdict(list)
    for scene, memory in scenes:
        for q in load_questions(scene / "questions.jsonl").questions:
            by_type[q.question_type].append((q, memory))
    for rows in by_type.values():
        rows.sort(key=lambda r: r[0].id)
    picked, i = [], 0
    while len(picked) < n and any(i < len(v) for v in by_type.values()):
        for qtype in sorted(by_type):
            if i < len(by_type[qtype]) and len(picked) < n:
                picked.append(by_type[qtype][i])
        i += 1
    return picked


def score_rows(rows) -> dict:
    """Per-type score lists -> the VSI-Bench aggregate (per task, overall)."""
    from spatialmem.bench.metrics import aggregate

    per_type: dict[str, list[float]] = defaultdict(list)
    for qtype, score in rows:
        per_type[qtype].append(score)
    return aggregate(per_type)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    ap.add_argument("--model", default="", help="model name as the server knows it (none: nothing to measure)")
    ap.add_argument("--grammar", default="auto")
    ap.add_argument("--max-repairs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per request")
    ap.add_argument("--max-tokens", type=int, default=300)
    ap.add_argument("--few-shot", type=int, default=2)
    ap.add_argument("--prompt-tokens", type=int, default=5000)
    ap.add_argument("--limit", type=int, default=N_QUESTIONS, help="answer only the first N of the subset")
    ap.add_argument("--types", default="", help="comma-separated question types: answer only these of the subset")
    ap.add_argument("--frames", type=int, default=150)
    ap.add_argument("--work", type=Path, default=Path("/tmp/spatialmem_bench_llm"), help="scene/memory cache")
    ap.add_argument("--transcripts", type=Path, default=None)
    args = ap.parse_args(argv)
    if not args.model:
        print("bench_llm_planner: no --model given, nothing measured (start an OpenAI-compatible server and pass "
              "--base-url URL --model NAME)")
        return 0

    from spatialmem.agent.answer import answer_question
    from spatialmem.agent.base import PlannerConfig
    from spatialmem.agent.llm_client import LLMConfig
    from spatialmem.agent.llm_planner import LLMPlanner
    from spatialmem.agent.template import TemplatePlanner
    from spatialmem.bench.metrics import score_prediction
    from spatialmem.memory.store import load_memory

    t0 = time.perf_counter()
    scenes = build_scenes(args.work, args.frames)
    picked = pick_questions(scenes)[: args.limit]
    if args.types:
        picked = [(q, m) for q, m in picked if q.question_type in args.types.split(",")]
    memories = {str(m): load_memory(m) for _, m in scenes}
    print(f"{len(picked)} questions over {len({q.question_type for q, _ in picked})} types from seeds {SEEDS} "
          f"(scenes ready in {time.perf_counter() - t0:.1f} s)")
    llm = LLMConfig(base_url=args.base_url, model=args.model, grammar=args.grammar, timeout_s=args.timeout,
                    max_tokens=args.max_tokens)
    planner = LLMPlanner(PlannerConfig(llm=llm, max_repairs=args.max_repairs, transcript_dir=args.transcripts,
                                       few_shot=args.few_shot, prompt_budget_tokens=args.prompt_tokens))
    info = planner.client.probe()
    print(f"endpoint {args.base_url}: server {info.kind}, models {list(info.models)[:3]}, "
          f"grammar {planner.client.grammar_mode}")
    template = TemplatePlanner()
    llm_rows, tpl_rows, seconds, repairs, first_ok, kinds = [], [], [], [], 0, Counter()
    for n, (q, mem_dir) in enumerate(picked, 1):
        memory = memories[str(mem_dir)]
        summary = memory.summary()
        question = q.to_question()
        tpl = answer_question(question, memory, template, summary)
        tpl_rows.append((q.question_type, score_prediction(q.question_type, tpl.answer, q.ground_truth, q.options)
                         if tpl.ok else 0.0))
        t = time.perf_counter()
        rec = answer_question(question, memory, planner, summary)
        seconds.append(time.perf_counter() - t)
        score = score_prediction(q.question_type, rec.answer, q.ground_truth, q.options) if rec.ok else 0.0
        llm_rows.append((q.question_type, score))
        attempts = int(rec.notes.get("llm_attempts", 0))
        first_ok += attempts == 1
        repairs.append(max(0, attempts - 1) if rec.ok else args.max_repairs)
        if not rec.ok:
            kinds[rec.error_kind or "?"] += 1
        print(f"  [{n:2d}/{len(picked)}] {q.question_type:28s} score {score:.2f}  {seconds[-1]:6.1f} s  "
              f"attempts {attempts or '-'}  {'' if rec.ok else (rec.error or '')[:90]}", flush=True)
    got, ref = score_rows(llm_rows), score_rows(tpl_rows)
    print("\nper task (llm | template):")
    for task, value in got["per_task"].items():
        print(f"  {task:28s} {100 * value:6.1f} | {100 * ref['per_task'].get(task, 0.0):6.1f}")
    print(f"overall: llm {100 * (got['overall'] or 0.0):.1f}, template {100 * (ref['overall'] or 0.0):.1f}")
    print(f"first-program acceptance: {first_ok}/{len(picked)} ({100 * first_ok / max(1, len(picked)):.0f}%)")
    print(f"repairs per question: mean {statistics.fmean(repairs):.2f}, max {max(repairs)}")
    print(f"seconds per question: mean {statistics.fmean(seconds):.1f}, median {statistics.median(seconds):.1f}, "
          f"worst {max(seconds):.1f}")
    print(f"failures by kind: {dict(kinds) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
