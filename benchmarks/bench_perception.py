"""Perception benchmark (issue 15): how the memory and its answers hold up under estimated perception.

Builds ``--scenes`` synthetic scenes (seeds 0..N-1, default 20) and ingests each under every perception
setting whose backends are registered (so settings appear as their backends land):

==========================  ========================  =====================
setting                     geometry                  instances
==========================  ========================  =====================
given                       given                     given
rgb-only                    sfm (RGB frames only)     given
given+noisy-low/med/high    noisy (level)             noisy (level)
sfm+noisy-medium            sfm                       noisy (medium)
==========================  ========================  =====================

Per setting it prints recall / precision of the objects at 3D IoU 0.25 (for ``sfm`` rows after a *rigid*
alignment of the estimated camera track to the true one: the frame is arbitrary but the metric scale is
kept, so scale errors count), the template planner's QA score per task and overall, frames/s per stage
(geometry, the rest of the build), the worst scene's recall, precision and QA overall beside the means
(and QA overall per scene) and, for ``sfm`` rows, the share of keyframes registered in one model
(worst scene), the camera track's ATE after similarity alignment and the metric-scale error.

    python benchmarks/bench_perception.py                       # 20 scenes x 300 frames at 640x480
    python benchmarks/bench_perception.py --scenes 4 --frames 120 --size 320x240 --json out.json --plot out.png
    python benchmarks/bench_perception.py --scenes 3 --frames 240 --fps 30 --size 320x240 --settings rgb-only
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from spatialmem import registry  # noqa: E402

#: (setting, geometry backend, instance backend, noise level or None). Rows whose backends are not registered
#: are skipped.
SETTINGS: list[tuple[str, str, str, str | None]] = [
    ("given", "given", "given", None),
    ("rgb-only (sfm + given masks)", "sfm", "given", None),
    ("given + noisy low", "noisy", "noisy", "low"),
    ("given + noisy medium", "noisy", "noisy", "medium"),
    ("given + noisy high", "noisy", "noisy", "high"),
    ("sfm + noisy medium", "sfm", "noisy", "medium"),
]


def available_settings(wanted: list[str] | None = None) -> list[tuple[str, str, str, str | None]]:
    """The settings whose backends are registered (and, with ``wanted``, whose name starts with one of them)."""
    out = []
    for row in SETTINGS:
        name, geo, inst, _ = row
        if geo not in registry.names("geometry") or inst not in registry.names("instances"):
            continue
        if wanted and not any(name.startswith(w) for w in wanted):
            continue
        out.append(row)
    return out


def _rigid(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation and translation with dst ≈ R src + t (no scale)."""
    ms, md = src.mean(axis=0), dst.mean(axis=0)
    U, _, Vt = np.linalg.svd((dst - md).T @ (src - ms))
    R = U @ np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))]) @ Vt
    return R, md - R @ ms


def _align_memory(memory, R: np.ndarray, t: np.ndarray):
    """The memory moved rigidly (boxes keep gravity alignment only when R is a rotation about z)."""
    import dataclasses

    from spatialmem.geometry.boxes import OrientedBox

    def pose(T):
        out = np.eye(4)
        out[:3, :3] = R @ T[:3, :3]
        out[:3, 3] = R @ T[:3, 3] + t
        return out

    inst = tuple(dataclasses.replace(i, box=OrientedBox(R @ i.box.center + t, i.box.size, i.box.axes @ R.T),
                                     points_world=(i.points_world @ R.T + t).astype(np.float32))
                 for i in memory.instances)
    cams = tuple(dataclasses.replace(c, world_from_camera=pose(c.world_from_camera)) for c in memory.cameras)
    return dataclasses.replace(memory, instances=inst, cameras=cams)


def _track_errors(memory, scene: Path) -> dict:
    from spatialmem.perception.sfm.poses import umeyama

    gt = {r["index"]: np.array(r["world_from_camera"]) for r in map(json.loads, open(scene / "frames.jsonl"))}
    ours = np.array([c.world_from_camera[:3, 3] for c in memory.cameras])
    truth = np.array([gt[c.frame_index][:3, 3] for c in memory.cameras])
    sim = umeyama(ours, truth)
    ate = float(np.sqrt(np.mean(np.sum((sim.points(ours) - truth) ** 2, axis=1))))
    # rigid alignment in the horizontal plane only (z is up in both): rotation about z + translation
    R, t = _rigid(ours * [1, 1, 0], truth * [1, 1, 0])
    t[2] = 0.0
    return {"ate_m": ate, "scale_error": float(1.0 / sim.scale - 1.0), "R": R, "t": t}


def run_setting(scene: Path, setting: tuple[str, str, str, str | None]) -> dict:
    """Ingest ``scene`` under one setting and score it."""
    from spatialmem.agent.answer import answer_question
    from spatialmem.agent.template import TemplatePlanner
    from spatialmem.bench.data import load_questions
    from spatialmem.bench.metrics import score_prediction
    from spatialmem.memory.builder import BuilderConfig, build_memory
    from spatialmem.memory.evaluate import evaluate_memory
    from spatialmem.perception.base import GeometryConfig, InstancesConfig
    from spatialmem.sources.synthetic import SyntheticSceneSource

    name, geo, inst, level = setting
    opts = {"level": level} if level else {}
    cfg = BuilderConfig(geometry=GeometryConfig(geo, options=opts if geo == "noisy" else {}),
                        instances=InstancesConfig(inst, options=opts if inst == "noisy" else {}))
    src = SyntheticSceneSource(scene, rgb_only=geo == "sfm")
    t0 = time.perf_counter()
    memory = build_memory(src, cfg)
    total_s = time.perf_counter() - t0
    row: dict = {"setting": name, "scene": scene.name, "frames": len(src), "total_s": total_s}
    sfm = memory.metadata.get("sfm")
    eval_memory = memory
    if sfm:
        tr = _track_errors(memory, scene)
        row.update(stage_s={k: v for k, v in sfm["timings_s"].items() if k != "sfm"},
                   keyframes=sfm["n_keyframes"], localized=sfm.get("n_localized_keyframes", 0))
        row.update(ate_m=tr["ate_m"], scale_error=tr["scale_error"], registered=sfm["registered_fraction"],
                   segments=sfm["n_segments"], geometry_s=sfm["timings_s"].get("sfm", 0.0)
                   + sfm["timings_s"].get("sparse_depth", 0.0))
        eval_memory = _align_memory(memory, tr["R"], tr["t"])
    rep = evaluate_memory(eval_memory, scene)
    row.update(recall_25=rep.recall_25, precision_25=rep.precision_25)
    planner = TemplatePlanner()
    summary = memory.summary()
    scores: dict[str, list[float]] = defaultdict(list)
    for q in load_questions(scene / "questions.jsonl").questions:
        rec = answer_question(q.to_question(), memory, planner, summary)
        scores[q.question_type].append(score_prediction(q.question_type, rec.answer, q.ground_truth, q.options)
                                       if rec.ok else 0.0)
    row["qa_scores"] = {k: list(v) for k, v in scores.items()}
    return row


def summarize(rows: list[dict]) -> list[dict]:
    """One line per setting: means over scenes, worst scene for registration and ATE."""
    from spatialmem.bench.metrics import aggregate

    out = []
    for name in dict.fromkeys(r["setting"] for r in rows):
        rs = [r for r in rows if r["setting"] == name]
        pooled: dict[str, list[float]] = defaultdict(list)
        for r in rs:
            for k, v in r["qa_scores"].items():
                pooled[k] += v
        agg = aggregate(pooled)
        frames = sum(r["frames"] for r in rs)
        total = sum(r["total_s"] for r in rs)
        geo = sum(r.get("geometry_s", 0.0) for r in rs)
        per_scene = {r["scene"]: aggregate(r["qa_scores"])["overall"] for r in rs}
        line = {"setting": name, "scenes": len(rs), "recall_25": float(np.mean([r["recall_25"] for r in rs])),
                "precision_25": float(np.mean([r["precision_25"] for r in rs])), "overall": agg["overall"],
                "recall_25_worst": float(np.min([r["recall_25"] for r in rs])),
                "precision_25_worst": float(np.min([r["precision_25"] for r in rs])),
                "overall_worst": min(per_scene.values()), "overall_per_scene": per_scene,
                "per_task": agg["per_task"], "fps_total": frames / total,
                "fps_geometry": frames / geo if geo else None, "fps_rest": frames / max(total - geo, 1e-9)}
        if any("registered" in r for r in rs):
            line.update(registered_mean=float(np.mean([r["registered"] for r in rs])),
                        registered_worst=float(np.min([r["registered"] for r in rs])),
                        ate_mean_m=float(np.mean([r["ate_m"] for r in rs])),
                        ate_worst_m=float(np.max([r["ate_m"] for r in rs])),
                        scale_error_mean=float(np.mean([abs(r["scale_error"]) for r in rs])),
                        scale_error_worst=float(np.max([abs(r["scale_error"]) for r in rs])),
                        multi_segment_scenes=int(sum(r["segments"] > 1 for r in rs)))
        out.append(line)
    return out


def print_table(lines: list[dict]) -> None:
    tasks = sorted({t for ln in lines for t in ln["per_task"]})
    head = ["setting", "R@.25", "P@.25", *[t[:14] for t in tasks], "overall", "fps geo", "fps rest", "fps all"]
    print(" | ".join(head))
    for ln in lines:
        cells = [ln["setting"], f"{ln['recall_25']:.2f}", f"{ln['precision_25']:.2f}"]
        cells += [f"{ln['per_task'].get(t, float('nan')):.2f}" for t in tasks]
        cells += [f"{ln['overall']:.3f}", "-" if ln["fps_geometry"] is None else f"{ln['fps_geometry']:.1f}",
                  f"{ln['fps_rest']:.1f}", f"{ln['fps_total']:.1f}"]
        print(" | ".join(cells))
    print("\nworst scene (mean over scenes in brackets); QA overall per scene")
    for ln in lines:
        scenes = ", ".join(f"{k}: {v:.3f}" for k, v in ln["overall_per_scene"].items())
        print(f"{ln['setting']}: R@.25 {ln['recall_25_worst']:.2f} ({ln['recall_25']:.2f}), P@.25 "
              f"{ln['precision_25_worst']:.2f} ({ln['precision_25']:.2f}), overall {ln['overall_worst']:.3f} "
              f"({ln['overall']:.3f}); {scenes}")
    for ln in lines:
        if "registered_mean" in ln:
            print(f"{ln['setting']}: keyframes registered {ln['registered_mean']:.3f} mean, "
                  f"{ln['registered_worst']:.3f} worst scene; ATE (sim3) {100 * ln['ate_mean_m']:.1f} cm mean, "
                  f"{100 * ln['ate_worst_m']:.1f} cm worst; |scale error| {100 * ln['scale_error_mean']:.1f} % mean, "
                  f"{100 * ln['scale_error_worst']:.1f} % worst; scenes split into segments: "
                  f"{ln['multi_segment_scenes']}")


def plot(lines: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.2))
    names = [ln["setting"] for ln in lines]
    x = np.arange(len(names))
    ax.bar(x - 0.2, [ln["overall"] for ln in lines], 0.4, label="QA overall")
    ax.bar(x + 0.2, [ln["recall_25"] for ln in lines], 0.4, label="recall@0.25")
    ax.set_xticks(x, names, rotation=20, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title("perception settings (synthetic scenes)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--fps", type=float, default=10.0,
                    help="capture rate of the rendered walkthroughs (phone video: 30; the same walk in more frames)")
    ap.add_argument("--settings", nargs="*", help="only settings whose name starts with these")
    ap.add_argument("--scene-dir", type=Path, help="reuse / keep scenes here (default: a temp folder)")
    ap.add_argument("--json", type=Path, help="write every per-scene row and the summary here")
    ap.add_argument("--plot", type=Path, help="write a bar chart (PNG) here")
    args = ap.parse_args(argv)
    from spatialmem.synth.writer import SynthConfig, write_scene

    w, h = (int(v) for v in args.size.lower().split("x"))
    settings = available_settings(args.settings)
    print(f"settings: {', '.join(s[0] for s in settings)}")
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench_perception_") as tmp:
        root = args.scene_dir or Path(tmp)
        for seed in range(args.first_seed, args.first_seed + args.scenes):
            scene = root / f"scene_{seed:05d}"
            if not (scene / "scene.json").is_file():
                scene = write_scene(root, seed, SynthConfig(num_frames=args.frames, width=w, height=h,
                                                                    fps=args.fps))
            for s in settings:
                row = run_setting(scene, s)
                rows.append(row)
                extra = "" if "ate_m" not in row else (
                    f" registered {row['registered']:.2f} ATE {100 * row['ate_m']:.1f} cm "
                    f"scale {100 * row['scale_error']:+.1f} % ({row['keyframes']} keyframes, "
                    f"{row['localized']} localized; "
                    "frames/s per stage: " + ", ".join(f"{k.removeprefix('sfm_')} {row['frames'] / max(v, 1e-9):.1f}"
                                                       for k, v in row["stage_s"].items()) + ")")
                print(f"  seed {seed} {s[0]}: {row['frames'] / row['total_s']:.1f} frames/s, "
                      f"R@.25 {row['recall_25']:.2f}{extra}", flush=True)
    lines = summarize(rows)
    print(f"\n{args.scenes} scenes x {args.frames} frames at {w}x{h}, {args.fps:g} frames/s")
    print_table(lines)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows,
                                         "summary": lines}, indent=1, default=float))
    if args.plot:
        plot(lines, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
