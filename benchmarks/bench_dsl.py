"""Median time to parse + check + run typical query-language programs (target: <= 1 ms each, cold).

Usage: ``python benchmarks/bench_dsl.py [--repeats 200] [--fresh-runs 3] [--scenes DIR]``. Builds an 11-object
living-room memory in memory (no disk) and, per program, prints medians in ms of:

* ``parse`` / ``check`` / ``run``: each stage alone (uncached parse; memory caches warm);
* ``warm``: ``run_program`` with the program text and the memory's distance caches warm;
* ``new text``: a program text not seen before (parse cache cleared), memory caches warm;
* ``cold``: a new program text on a freshly loaded memory: the memory caches are dropped and rebuilt
  with ``measure.prepare`` (what ``load_memory`` does) outside the timing, then the program runs;
* ``unprepared``: as cold, without ``prepare`` (an in-memory SceneMemory never loaded from disk).

Cold runs start after a ``gc.collect()`` (so neither pays for the dropped caches' garbage): one run after
other work, with the CPU caches cold, so on a loaded machine they read well above the warm figures.

It then prints the worst cold and the worst warm median with their programs, what ``prepare`` costs
per memory, and (``--fresh-runs``) the first ``run_program`` of the worst cold program in a fresh
Python process after its imports (that includes building the LALR parser once).

With ``--scenes DIR`` (folders written by ``spatialmem synth``) it also answers every question of
each scene's questions.jsonl with the template planner over an *oracle* memory built from scene.json
(boxes, plus points sampled on the parts with ``--points``) and prints the agreement with the
ground truth per question type: a check that the language and the question generator share semantics.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatialmem.dsl import check, parse, run_program  # noqa: E402
from spatialmem.dsl import parser as dsl_parser  # noqa: E402
from spatialmem.dsl.interpreter import run_checked  # noqa: E402
from spatialmem.geometry.boxes import OrientedBox, sample_box_surface  # noqa: E402
from spatialmem.memory import measure  # noqa: E402
from spatialmem.memory.scene import ObjectInstance, Room, SceneMemory  # noqa: E402

OBJECTS = [
    ("sofa", (1.0, 2.5, 0.4), (0.9, 2.0, 0.8), 4.0), ("tv", (5.5, 2.5, 1.0), (0.2, 1.2, 0.7), 2.0),
    ("bed", (3.0, 4.0, 0.3), (2.0, 1.6, 0.6), 8.0), ("door", (3.0, 0.05, 1.0), (0.9, 0.1, 2.0), 0.5),
    ("table", (3.0, 2.0, 0.375), (1.2, 0.8, 0.75), 6.0), ("chair", (2.0, 2.0, 0.45), (0.5, 0.5, 0.9), 6.5),
    ("chair", (4.0, 2.0, 0.45), (0.5, 0.5, 0.9), 7.0), ("chair", (3.0, 1.2, 0.45), (0.5, 0.5, 0.9), 9.0),
    ("lamp", (0.5, 4.5, 0.8), (0.3, 0.3, 1.6), 3.0), ("trash bin", (5.5, 0.5, 0.2), (0.3, 0.3, 0.4), 10.0),
    ("refrigerator", (5.6, 4.5, 0.9), (0.7, 0.7, 1.8), 11.0),
]
PROGRAMS = {
    "count": 'answer(count(objects("chair")))',
    "size": 'answer(to_cm(the("sofa").longest_side))',
    "abs_distance": 'answer(distance(the("sofa"), the("tv")))',
    "room_size": "answer(room_area())",
    "rel_distance": 'answer(choose(["A. chair", "B. lamp", "C. tv", "D. sofa"], '
                    'nearest(the("bed"), among=["chair", "lamp", "tv", "sofa"])))',
    "rel_direction": 'v = stand_at(the("sofa"), facing=the("tv"))\n'
                     'answer(choose(["A. left", "B. right"], direction(v, the("lamp"), scheme="left_right")))',
    "appearance": 'answer(choose(["A. chair, tv, lamp, sofa", "B. tv, lamp, sofa, chair"], '
                  'appearance_order(["chair", "tv", "lamp", "sofa"])))',
    "route": 'v = stand_at(the("door"), facing=the("table"))\n'
             'answer(choose(["A. Turn Left, Turn Right", "B. Turn Right, Turn Left"], '
             'route(v, [the("table"), the("tv"), the("refrigerator")])))',
}


def build_memory() -> SceneMemory:
    insts = tuple(ObjectInstance(i + 1, c, OrientedBox(np.array(ctr), np.array(sz), np.eye(3)), first_seen_s=t)
                  for i, (c, ctr, sz, t) in enumerate(OBJECTS))
    room = Room(0.0, np.array([[0, 0], [6, 0], [6, 5], [0, 5]], float), 30.0, 2.8)
    return SceneMemory("bench", insts, room=room)


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


_FRESH = """
import sys, time
sys.path.insert(0, {bench!r})
import bench_dsl
from spatialmem.dsl import run_program
from spatialmem.memory import measure
mem = bench_dsl.build_memory()
measure.prepare(mem)
t0 = time.perf_counter()
run_program(bench_dsl.PROGRAMS[{name!r}], mem)
print(1e3 * (time.perf_counter() - t0))
"""


def fresh_process_ms(name: str, runs: int) -> list[float]:
    """The first ``run_program`` of program ``name`` in ``runs`` fresh interpreters (after imports), ms."""
    import subprocess

    code = _FRESH.format(bench=str(Path(__file__).resolve().parent), name=name)
    env_path = str(Path(__file__).resolve().parents[1])
    import os

    env = dict(os.environ, PYTHONPATH=env_path + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                 env=env).stdout.split()[-1]) for _ in range(runs)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=200)
    ap.add_argument("--fresh-runs", type=int, default=3, help="fresh interpreters for the first-query figure (0: skip)")
    ap.add_argument("--scenes", type=Path, default=None, help="folder of synthetic scenes (scene_*/)")
    ap.add_argument("--points", action="store_true", help="give oracle instances points sampled on their parts")
    args = ap.parse_args(argv)
    mem = build_memory()
    for src in PROGRAMS.values():  # warm-up: build the parser, import scipy, fill the distance cache
        run_program(src, mem)
    cols = ("parse", "check", "run", "warm", "new text", "cold", "unprepared")
    print(f"{'program':<14} " + " ".join(f"{c:>10}" for c in cols) + "   (median ms)")
    cold_by, warm_by = {}, {}
    for name, src in PROGRAMS.items():
        prog = parse(src)
        t_parse = _median_ms(lambda src=src: dsl_parser._parse_uncached(src), args.repeats)
        t_check = _median_ms(lambda prog=prog: check(prog, mem), args.repeats)
        t_run = _median_ms(lambda prog=prog: run_checked(prog, mem), args.repeats)
        t_warm = _median_ms(lambda src=src: run_program(src, mem), args.repeats)

        def new_text(src=src):
            dsl_parser._parse_cached.cache_clear()
            run_program(src, mem)

        t_new = _median_ms(new_text, args.repeats)
        t_cold = _median_cold_ms(src, mem, args.repeats, prepare=True)
        t_unprepared = _median_cold_ms(src, mem, args.repeats, prepare=False)
        cold_by[name], warm_by[name] = t_cold, t_warm
        print(f"{name:<14} " + " ".join(f"{t:10.3f}" for t in (t_parse, t_check, t_run, t_warm, t_new, t_cold,
                                                                  t_unprepared)))
    t_prepare = _median_ms(lambda: (measure._CACHES.clear(), measure.prepare(mem)), args.repeats)
    worst_cold = max(cold_by, key=cold_by.get)
    worst_warm = max(warm_by, key=warm_by.get)
    verdict = "OK" if cold_by[worst_cold] <= 1.0 else "ABOVE TARGET"
    print(f"worst cold median: {cold_by[worst_cold]:.3f} ms ({worst_cold}); worst warm median: "
          f"{warm_by[worst_warm]:.3f} ms ({worst_warm}); target cold <= 1 ms: {verdict}")
    print(f"prepare at load ({len(mem.instances)} objects): {t_prepare:.3f} ms median")
    if args.fresh_runs > 0:
        firsts = fresh_process_ms(worst_cold, args.fresh_runs)
        print(f"fresh process, first run_program of {worst_cold} after imports: median "
              f"{statistics.median(firsts):.1f} ms, worst {max(firsts):.1f} ms over {len(firsts)} interpreters "
              "(includes building the LALR parser once)")
    if args.scenes is not None:
        agreement(args.scenes, args.points)
    return 0


def _median_cold_ms(src: str, mem: SceneMemory, repeats: int, prepare: bool) -> float:
    """Median ms of ``run_program(src)`` with the parse cache and the memory's caches dropped first."""
    times = []
    for _ in range(repeats):
        dsl_parser._parse_cached.cache_clear()
        measure._CACHES.clear()
        if prepare:
            measure.prepare(mem)
        gc.collect()  # the garbage of the dropped caches is not this run's
        t0 = time.perf_counter()
        run_program(src, mem)
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def _oracle_memory(scene_dir: Path, points: bool) -> SceneMemory:
    import json

    sc = json.loads((scene_dir / "scene.json").read_text())
    insts = []
    for o in sc["objects"]:
        pts = np.zeros((0, 3), np.float32)
        if points:
            parts = [OrientedBox.from_dict(p) for p in o["parts"]]
            pts = np.concatenate([sample_box_surface(b, 0.03) for b in parts]).astype(np.float32)
        insts.append(ObjectInstance(o["id"], o["category"], OrientedBox.from_dict(o), pts,
                                    first_seen_s=o["first_visible_s"]))
    r = sc["room"]
    room = Room(r["floor_z"], np.array(r["floor_polygon"], float), r["floor_area_m2"],
                r["floor_z"] + r["ceiling_height_m"])
    return SceneMemory(sc["scene_name"], tuple(insts), room=room)


def agreement(scenes: Path, points: bool) -> None:
    import json
    from collections import defaultdict

    from spatialmem.agent.base import Question
    from spatialmem.agent.template import TemplatePlanner
    from spatialmem.errors import SpatialMemError

    planner, stats = TemplatePlanner(), defaultdict(lambda: [0, 0, 0])
    for scene_dir in sorted(scenes.glob("scene_*")):
        mem = _oracle_memory(scene_dir, points)
        for line in (scene_dir / "questions.jsonl").read_text().splitlines():
            q = json.loads(line)
            s = stats[q["question_type"]]
            s[0] += 1
            try:
                plan = planner.plan(Question(q["question"], tuple(q["options"]), q["question_type"], q["id"]),
                                    mem.summary(), mem)
                text = run_program(plan.program, mem).answer_text
            except SpatialMemError:
                s[2] += 1
                continue
            gt = q["ground_truth"]
            s[1] += text == gt if q["options"] else abs(float(text) - float(gt)) <= 0.1 * abs(float(gt)) + 1e-6
    print(f"\nagreement with the question generator ({'points on parts' if points else 'boxes only'}; "
          "numeric: within 10%)")
    for qtype, (n, ok, failed) in sorted(stats.items()):
        print(f"  {qtype:<30} {ok:4d}/{n:<4d} failed={failed}")
    total = [sum(v[i] for v in stats.values()) for i in range(3)]
    print(f"  {'all':<30} {total[1]:4d}/{total[0]:<4d} failed={total[2]}")


if __name__ == "__main__":
    sys.exit(main())
