"""Per-scene memory quality: precision and recall at IoU 0.5 of every memory against its scene's ground truth.

Runs ``spatialmem eval-memory`` on each ``scenes/<name>`` + ``memories/<name>`` pair of a folder built by
``build_synth_benchmark.py`` (given perception) and prints one line per scene, the worst scene and the
mean, and the ground-truth objects missed at IoU 0.5 by category.

    python benchmarks/build_synth_benchmark.py --scenes 10 --seed 9100 --out runs/mem10
    python benchmarks/bench_memory_eval.py runs/mem10 --check 0.95

``--check T`` exits 1 unless every scene's precision and recall at IoU 0.5 are >= T.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path


def eval_memory(memory: Path, scene: Path) -> dict:
    """The ``eval-memory --json`` report of one memory (stops with the CLI's message on failure)."""
    cmd = [sys.executable, "-m", "spatialmem.cli", "eval-memory", str(memory), str(scene), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"eval-memory failed ({proc.returncode}) on {memory}: {(proc.stderr or proc.stdout)[-400:]}")
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder with scenes/ and memories/ (build_synth_benchmark.py --out)")
    ap.add_argument("--check", type=float, default=None, help="exit 1 unless every scene's P@0.5 and R@0.5 >= this")
    args = ap.parse_args(argv)
    names = sorted(p.name for p in (args.out / "memories").iterdir() if (args.out / "scenes" / p.name).is_dir())
    if not names:
        raise SystemExit(f"{args.out}: no memories/<name> with a matching scenes/<name>")
    rows, missed = [], Counter()
    for name in names:
        r = eval_memory(args.out / "memories" / name, args.out / "scenes" / name)
        rows.append((name, r["precision_50"], r["recall_50"], r["n_gt"], r["n_pred"]))
        missed.update(u.split("#")[0] for u in r["unmatched_gt_50"])
        print(f"{name}: precision@0.5 {r['precision_50']:.3f}  recall@0.5 {r['recall_50']:.3f}  "
              f"(gt {r['n_gt']}, memory {r['n_pred']}; missed: {', '.join(r['unmatched_gt_50']) or '-'})", flush=True)
    for i, what in ((1, "precision@0.5"), (2, "recall@0.5")):
        vals = [row[i] for row in rows]
        worst = min(rows, key=lambda row: row[i])
        print(f"{what}: worst {min(vals):.3f} ({worst[0]}), mean {sum(vals) / len(vals):.3f} over {len(rows)} scenes")
    print("missed at IoU 0.5 by category: " + (", ".join(f"{c} {n}" for c, n in missed.most_common()) or "none"))
    if args.check is not None:
        ok = all(p >= args.check and r >= args.check for _, p, r, _, _ in rows)
        print(f"check (every scene P@0.5 and R@0.5 >= {args.check}): {'PASS' if ok else 'FAIL'}")
        return 0 if ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
