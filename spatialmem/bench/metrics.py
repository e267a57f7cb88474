"""VSI-Bench scoring, exactly as the benchmark's reference evaluation (lmms-eval ``vsibench``) does it.

* Multiple choice (MC): the prediction's first space-separated word, trailing ``"."`` stripped,
  must equal the ground-truth letter, case-insensitive ("B." / "b" / "B. left" score 1; "" scores 0).
* Numeric (NA): Mean Relative Accuracy, the fraction of the ten thresholds
  theta = 0.50, 0.55, ..., 0.95 with ``|pred - gt| / gt <= 1 - theta``; the prediction is the first
  word (trailing "." stripped) parsed as a float; unparseable = 0. (A ground truth of exactly 0 never
  occurs in VSI-Bench; here it scores 1 for an exact 0 prediction and 0 otherwise.)
* Per question type: mean score. Task scores: the three ``object_rel_direction_*`` types are merged
  into ``object_rel_direction`` as the mean of their three type means; overall = unweighted mean of
  the scores of the official eight :data:`TASKS` that are present. Rows of any other question type
  (custom types, malformed rows) are reported under ``"other"`` and never averaged into overall.

Baselines (reported beside a method's scores):

* ``chance``: MC tasks, the expected accuracy of a uniform random option pick, mean of
  ``1 / len(options)``. For numeric tasks there is no single "random" answer, so chance is reported
  as ``None`` ("n/a"), as the VSI-Bench paper does; the overall chance is then also ``None`` unless
  every task present is MC.
* ``frequency``: MC tasks, always answer the most common ground-truth option *text* of that question
  type (e.g. "left"), mapped onto each question's own letter (falling back to the most common letter
  when a question does not offer that text); numeric tasks, always answer the type's mean ground truth.
  (This uses the evaluated set's own answers, an optimistic "blind" baseline, as in VSI-Bench.)
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from spatialmem.question_types import (
    MC_TYPES,
    NUMERIC_TYPES,
    QUESTION_TYPES,
    REL_DIRECTION_TASK,
    REL_DIRECTION_TYPES,
    TASKS,
    task_of,
)

MRA_THRESHOLDS: np.ndarray = np.linspace(0.50, 0.95, 10)
_OPTION_RE = re.compile(r"^\s*([A-Za-z])[.)]\s*(.*)$", re.S)


def first_word(prediction: object) -> str:
    """The VSI-Bench answer extraction, verbatim in behaviour: ``pred.split(" ")[0].rstrip(".").strip()``.

    Only a space separates words (so ``" B"`` gives ``""`` and ``"B\nleft"`` stays one word), as in the
    reference scorer; spatialmem's own predictions are always a bare letter or number.
    """
    text = "" if prediction is None else str(prediction)
    return text.split(" ")[0].rstrip(".").strip()


def to_float(text: str) -> float | None:
    """``float(text)`` or None when it does not parse or is not finite."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def mc_score(prediction: object, ground_truth: str) -> float:
    """1.0 when the prediction's first word (trailing "." stripped) equals the letter, else 0.0."""
    word = first_word(prediction).lower()
    return 1.0 if word and word == str(ground_truth).strip().lower() else 0.0


def mean_relative_accuracy(pred: float, gt: float) -> float:
    """Mean over the ten thresholds theta in 0.50..0.95 of ``|pred - gt| / gt <= 1 - theta``."""
    if gt == 0:
        return 1.0 if pred == 0 else 0.0
    rel = abs(pred - gt) / abs(gt)
    # no tolerance: exactly the lmms-eval comparison, float rounding at the boundaries included
    # (e.g. pred 1.35 vs gt 1 fails theta = 0.65 there too and scores 0.3)
    return float(np.mean(rel <= 1.0 - MRA_THRESHOLDS))


def numeric_score(prediction: object, ground_truth: object) -> float:
    """MRA of the prediction's first word parsed as a number; 0.0 when unparseable."""
    pred = to_float(first_word(prediction))
    gt = to_float(str(ground_truth).strip())
    if pred is None or gt is None:
        return 0.0
    return mean_relative_accuracy(pred, gt)


def is_multiple_choice(question_type: str | None, options: Sequence[str] = ()) -> bool:
    """MC for the six VSI-Bench MC types; for unknown types, whenever options are given."""
    if question_type in MC_TYPES:
        return True
    if question_type in NUMERIC_TYPES:
        return False
    return bool(options)


def score_prediction(question_type: str | None, prediction: object, ground_truth: object, options=()) -> float:
    """Score one prediction with the rule its question type uses."""
    if is_multiple_choice(question_type, options):
        return mc_score(prediction, str(ground_truth))
    return numeric_score(prediction, ground_truth)


def aggregate(type_scores: Mapping[str, Iterable[float]]) -> dict:
    """Per-type means, per-task scores and the overall score.

    Args:
        type_scores: question type -> the scores of its questions.

    Returns:
        ``{"per_type": {type: mean}, "counts": {type: n}, "per_task": {task: score}, "other": {type: mean},
        "overall": float|None}``; ``per_task`` holds only the official :data:`TASKS` present, in that order;
        question types outside :data:`QUESTION_TYPES` go to ``other`` (alphabetically) and do not count
        towards ``overall`` (the unweighted mean of ``per_task``).
    """
    per_type: dict[str, float] = {}
    counts: dict[str, int] = {}
    for qtype, scores in type_scores.items():
        vals = [float(s) for s in scores]
        if vals:
            per_type[qtype] = float(np.mean(vals))
            counts[qtype] = len(vals)
    per_task: dict[str, float] = {}
    for task in TASKS:
        if task == REL_DIRECTION_TASK:
            parts = [per_type[t] for t in REL_DIRECTION_TYPES if t in per_type]
            if parts:
                per_task[task] = float(np.mean(parts))
        elif task in per_type:
            per_task[task] = per_type[task]
    other = {t: per_type[t] for t in sorted(per_type) if t not in QUESTION_TYPES}
    overall = float(np.mean(list(per_task.values()))) if per_task else None
    return {"per_type": per_type, "counts": counts, "per_task": per_task, "other": other, "overall": overall}


@dataclass(frozen=True)
class ScoredRow:
    """The fields of one question the baselines need."""

    question_type: str
    options: tuple[str, ...]
    ground_truth: str


def option_text(option: str) -> tuple[str, str]:
    """Split ``"B. left"`` into ``("B", "left")``; options without a letter give ``("", text)``."""
    m = _OPTION_RE.match(option)
    if not m:
        return "", option.strip()
    return m.group(1).upper(), m.group(2).strip()


def _ground_truth_text(row: ScoredRow) -> str | None:
    for opt in row.options:
        letter, text = option_text(opt)
        if letter == row.ground_truth.strip().upper():
            return text.lower()
    return None


def chance_baseline(rows: Sequence[ScoredRow]) -> dict:
    """Expected score of a uniform random option pick; numeric types/tasks are None ("n/a")."""
    by_type: dict[str, list[float]] = defaultdict(list)
    numeric: set[str] = set()
    for r in rows:
        if is_multiple_choice(r.question_type, r.options) and r.options:
            by_type[r.question_type].append(1.0 / len(r.options))
        else:
            numeric.add(r.question_type)
    agg = aggregate(by_type)
    official_numeric = False
    for qtype in numeric:
        agg["per_type"][qtype] = None
        if qtype in QUESTION_TYPES:
            agg["per_task"][task_of(qtype)] = None
            official_numeric = True
        else:
            agg["other"][qtype] = None
    if official_numeric:
        agg["overall"] = None
    return agg


def frequency_baseline(rows: Sequence[ScoredRow]) -> dict:
    """Scores of the frequency baseline (see module docstring) aggregated like a method's."""
    by_type: dict[str, list[ScoredRow]] = defaultdict(list)
    for r in rows:
        by_type[r.question_type].append(r)
    scores: dict[str, list[float]] = {}
    for qtype, group in by_type.items():
        if is_multiple_choice(qtype, group[0].options):
            texts = Counter(t for t in (_ground_truth_text(r) for r in group) if t is not None)
            letters = Counter(r.ground_truth.strip().upper() for r in group)
            top_text = texts.most_common(1)[0][0] if texts else None
            top_letter = letters.most_common(1)[0][0] if letters else "A"
            vals = []
            for r in group:
                pred = top_letter
                for opt in r.options:
                    letter, text = option_text(opt)
                    if top_text is not None and text.lower() == top_text:
                        pred = letter
                        break
                vals.append(mc_score(pred, r.ground_truth))
            scores[qtype] = vals
        else:
            gts = [g for g in (to_float(r.ground_truth) for r in group) if g is not None]
            mean = float(np.mean(gts)) if gts else 0.0
            scores[qtype] = [numeric_score(repr(mean), r.ground_truth) for r in group]
    return aggregate(scores)
