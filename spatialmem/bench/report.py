"""Evaluation outputs: predictions JSONL (read/append), summary JSON, markdown table, bar chart PNG.

Output folder layout (``spatialmem eval ... --out RESULTS``)::

    RESULTS/predictions.jsonl   one row per question (question, program, prediction, score, timings);
                                appended + flushed per row; on re-reading, the last row of an id wins
    RESULTS/summary.json        per-type / per-task / overall scores, baselines, failures, timings
    RESULTS/results.md          the score table with the chance and frequency baselines
    RESULTS/scores.png          bar chart: one group of bars per task (method, frequency, chance)
    RESULTS/transcripts/        LLM planner transcripts, one JSONL per question (LLM planners only)
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from spatialmem.bench.metrics import ScoredRow, aggregate, chance_baseline, frequency_baseline
from spatialmem.question_types import QUESTION_TYPES, REL_DIRECTION_TASK, REL_DIRECTION_TYPES

PREDICTIONS = "predictions.jsonl"
SUMMARY = "summary.json"
TABLE = "results.md"
CHART = "scores.png"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.{threading.get_ident()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_predictions(path: Path) -> dict[str, dict]:
    """Rows of a predictions file by id (last row per id wins); unreadable lines are skipped."""
    rows: dict[str, dict] = {}
    if not path.is_file():
        return rows
    # errors="replace": a line cut off inside a multi-byte character must not stop a resume
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by an interrupted run
            if isinstance(row, dict) and "id" in row:
                rows[str(row["id"])] = row
    return rows


class PredictionWriter:
    """Thread-safe appender: one JSON line per row, flushed immediately (nothing is lost on a crash)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        needs_newline = False
        if path.is_file():  # repair a last line cut short by an interrupted run (bytes: it may end mid-character)
            with path.open("rb") as raw:
                raw.seek(0, os.SEEK_END)
                if raw.tell() > 0:
                    raw.seek(-1, os.SEEK_END)
                    needs_newline = raw.read(1) != b"\n"
        self._fh = path.open("a", encoding="utf-8")
        if needs_newline:
            self._fh.write("\n")

    def write(self, row: dict) -> None:
        # ASCII only: a line cut short by a crash can then never end inside a multi-byte character
        line = json.dumps(row, ensure_ascii=True, default=str)
        with self._lock:
            self._fh.write(line + "\n")
            self._fh.flush()

    def close(self) -> None:
        with self._lock:
            self._fh.close()

    def __enter__(self) -> PredictionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def summarize(rows: Iterable[dict], meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scores of the method and the baselines over prediction rows (failures score 0)."""
    rows = list(rows)
    by_type: dict[str, list[float]] = defaultdict(list)
    scored: list[ScoredRow] = []
    failures: Counter = Counter()
    failed_ids: dict[str, list[str]] = defaultdict(list)
    plan_s, run_s = [], []
    for r in rows:
        qtype = r.get("question_type") or "unknown"
        by_type[qtype].append(float(r.get("score") or 0.0))
        if r.get("ground_truth") not in (None, ""):
            scored.append(ScoredRow(qtype, tuple(r.get("options") or ()), str(r["ground_truth"])))
        if not r.get("ok"):
            kind = r.get("error_kind") or "other"
            failures[kind] += 1
            if len(failed_ids[kind]) < 20:
                failed_ids[kind].append(str(r.get("id")))
        t = r.get("timings") or {}
        if "plan_s" in t:
            plan_s.append(float(t["plan_s"]))
        if "run_s" in t:
            run_s.append(float(t["run_s"]))
    method = aggregate(by_type)
    return {
        "meta": meta or {},
        "n_questions": len(rows),
        "n_failed": int(sum(failures.values())),
        "failures": dict(failures),
        "failed_ids_sample": dict(failed_ids),
        "method": method,
        "baselines": {"chance": chance_baseline(scored), "frequency": frequency_baseline(scored)},
        "timings": {
            "mean_plan_s": float(np.mean(plan_s)) if plan_s else None,
            "mean_run_s": float(np.mean(run_s)) if run_s else None,
        },
    }


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100.0 * v:.1f}"


def markdown_table(summary: dict[str, Any]) -> str:
    """The score table (percent), tasks then overall, with chance and frequency baselines."""
    method, base = summary["method"], summary["baselines"]
    name = summary.get("meta", {}).get("planner", "method")
    lines = [
        f"| Task | N | {name} | frequency | chance |",
        "|---|---:|---:|---:|---:|",
    ]
    counts = method["counts"]
    for task, score in method["per_task"].items():
        parts = REL_DIRECTION_TYPES if task == REL_DIRECTION_TASK else (task,)
        n = sum(counts.get(t, 0) for t in parts)
        lines.append(
            f"| {task} | {n} | {_pct(score)} | {_pct(base['frequency']['per_task'].get(task))} "
            f"| {_pct(base['chance']['per_task'].get(task))} |"
        )
        if task == REL_DIRECTION_TASK:
            for t in REL_DIRECTION_TYPES:
                if t in method["per_type"]:
                    lines.append(
                        f"| &nbsp;&nbsp;{t.rsplit('_', 1)[1]} | {counts[t]} | {_pct(method['per_type'][t])} "
                        f"| {_pct(base['frequency']['per_type'].get(t))} | {_pct(base['chance']['per_type'].get(t))} |"
                    )
    n_official = sum(n for t, n in counts.items() if t in QUESTION_TYPES)
    lines.append(
        f"| **overall** | {n_official} | **{_pct(method['overall'])}** "
        f"| {_pct(base['frequency']['overall'])} | {_pct(base['chance']['overall'])} |"
    )
    for qtype, score in method.get("other", {}).items():
        lines.append(
            f"| other: {qtype} | {counts.get(qtype, 0)} | {_pct(score)} "
            f"| {_pct(base['frequency'].get('other', {}).get(qtype))} "
            f"| {_pct(base['chance'].get('other', {}).get(qtype))} |"
        )
    notes = [
        "",
        "Scores in percent (VSI-Bench rules: MC accuracy, numeric MRA over thresholds 0.50..0.95; "
        "overall = mean of the official task scores; relative direction = mean of easy/medium/hard).",
        "chance: uniform random option for MC, n/a for numeric. frequency: most common answer per task (MC), "
        "mean answer (numeric).",
    ]
    if method.get("other"):
        notes.append("other: rows of unknown or missing question type (e.g. malformed rows); "
                     "reported separately, not part of overall.")
    if summary.get("n_failed"):
        notes.append(f"Failed questions (scored 0): {summary['n_failed']} {summary['failures']}.")
    return "\n".join(lines + notes) + "\n"


def bar_chart(summary: dict[str, Any], path: Path) -> None:
    """Grouped bars per task (method, frequency, chance) written as a PNG (matplotlib Agg)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(summary["method"]["per_task"])
    series = {
        summary.get("meta", {}).get("planner", "method"): summary["method"]["per_task"],
        "frequency": summary["baselines"]["frequency"]["per_task"],
        "chance": summary["baselines"]["chance"]["per_task"],
    }
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(tasks) + 2), 4.2), dpi=110)
    width = 0.8 / len(series)
    x = np.arange(len(tasks))
    for k, (label, values) in enumerate(series.items()):
        ys = [100.0 * (values.get(t) or 0.0) for t in tasks]
        ax.bar(x + (k - (len(series) - 1) / 2) * width, ys, width, label=label)
    ax.set_xticks(x)
    ax.set_xticklabels([t.replace("object_", "").replace("obj_", "").replace("_", "\n") for t in tasks], fontsize=8)
    ax.set_ylabel("score (%)")
    ax.set_ylim(0, 118)
    overall = summary["method"]["overall"]
    ax.set_title(f"VSI-Bench-style scores per task (overall {_pct(overall)})")
    ax.legend(fontsize=8, loc="upper center", ncol=len(series), frameon=False)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)


def write_report(out_dir: Path, rows: Iterable[dict], meta: dict[str, Any] | None = None,
                 chart: bool = True) -> dict[str, Any]:
    """Write summary.json, results.md and scores.png for ``rows``; returns the summary."""
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = summarize(rows, meta)
    atomic_write_text(out_dir / SUMMARY, json.dumps(summary, indent=2, sort_keys=False) + "\n")
    atomic_write_text(out_dir / TABLE, markdown_table(summary))
    if chart and summary["method"]["per_task"]:
        bar_chart(summary, out_dir / CHART)
    return summary
