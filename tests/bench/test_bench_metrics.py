"""VSI-Bench scoring against hand-worked values."""

from __future__ import annotations

import pytest

from spatialmem.bench.metrics import (
    MRA_THRESHOLDS,
    ScoredRow,
    aggregate,
    chance_baseline,
    first_word,
    frequency_baseline,
    mc_score,
    mean_relative_accuracy,
    numeric_score,
    score_prediction,
)


def test_thresholds_are_the_ten_vsibench_ones():
    assert len(MRA_THRESHOLDS) == 10
    assert MRA_THRESHOLDS[0] == pytest.approx(0.50) and MRA_THRESHOLDS[-1] == pytest.approx(0.95)


@pytest.mark.parametrize(
    "pred, gt, want",
    [
        ("10", "10", 1.0),
        # rel 0.20 vs 1 - 0.80 = 0.19999999999999996 in floating point: 6 of 10, exactly as lmms-eval scores it
        ("12", "10", 0.6),
        ("8", "10", 0.6),
        ("15", "10", 0.1),  # rel 0.50 only passes theta = 0.50
        ("16", "10", 0.0),
        ("9.5", "10", 1.0),  # rel 0.05 passes every threshold (0.95 included)
        ("2.3", "2", 0.8),  # rel 0.15 -> theta 0.50..0.85 -> 8
        ("12 meters", "10", 0.6),  # first word only
        ("12.", "10", 0.6),  # trailing "." stripped
        ("1.35", "1", 0.3),  # rel 0.35000000000000009 > 1 - 0.65: no tolerance, like the reference
        ("about 10", "10", 0.0),  # first word "about" is unparseable
        ("", "10", 0.0),
        ("nan", "10", 0.0),
        ("0", "0", 1.0),
    ],
)
def test_numeric_mra(pred, gt, want):
    assert numeric_score(pred, gt) == pytest.approx(want)


@pytest.mark.parametrize(
    "pred, gt, want",
    [("B", "B", 1.0), ("B.", "B", 1.0), ("b", "B", 1.0), ("B. left", "B", 1.0), ("", "B", 0.0),
     ("none", "B", 0.0), ("A", "B", 0.0), ("(B)", "B", 0.0), ("left", "B", 0.0), (None, "B", 0.0)],
)
def test_mc_first_word_rules(pred, gt, want):
    assert mc_score(pred, gt) == want


def test_first_word_follows_the_reference_scorer():
    assert first_word("B.  left ") == "B"
    assert first_word(" B") == ""  # split on " " exactly like lmms-eval: a leading space gives an empty word
    assert first_word("B\nleft") == "B\nleft"
    assert first_word("3.5.") == "3.5"
    assert first_word(None) == ""


def test_score_prediction_dispatch():
    assert score_prediction("object_counting", "3", "3") == 1.0
    assert score_prediction("route_planning", "A.", "A") == 1.0
    assert score_prediction("custom_mc", "C", "C", ["A. x", "B. y", "C. z"]) == 1.0
    assert score_prediction("custom_numeric", "4", "5") == pytest.approx(0.6)  # rel 0.2 (float boundary)


def test_aggregate_merges_rel_direction_and_averages_tasks():
    agg = aggregate({
        "object_rel_direction_easy": [1, 1, 1, 1],
        "object_rel_direction_medium": [0],
        "object_rel_direction_hard": [1, 0],
        "object_counting": [0.5, 0.7],
    })
    assert agg["per_type"]["object_rel_direction_hard"] == 0.5
    assert agg["per_task"]["object_rel_direction"] == pytest.approx(0.5)  # (1 + 0 + 0.5) / 3, not count-weighted
    assert agg["per_task"]["object_counting"] == pytest.approx(0.6)
    assert agg["overall"] == pytest.approx(0.55)
    assert list(agg["per_task"]) == ["object_counting", "object_rel_direction"]


def test_mra_matches_the_lmms_eval_formula():
    import numpy as np

    def reference(pred, gt):  # lmms-eval vsibench mean_relative_accuracy, start .5, end .95, interval .05
        conf = np.linspace(0.5, 0.95, int((0.95 - 0.5) / 0.05 + 2))
        return float((abs(pred - gt) / gt <= 1 - conf).mean())

    assert mean_relative_accuracy(1.35, 1.0) == pytest.approx(0.3)
    for pred, gt in [(1.35, 1.0), (12.0, 10.0), (2.3, 2.0), (0.95, 1.0), (4.0, 5.0), (7.7, 7.0), (3.1, 2.5)]:
        assert mean_relative_accuracy(pred, gt) == reference(pred, gt)


def test_unknown_types_are_reported_apart_and_not_in_overall():
    agg = aggregate({"object_counting": [1.0], "route_planning": [0.0], "custom_type": [1.0], "unknown": [0.0]})
    assert agg["overall"] == pytest.approx(0.5)
    assert list(agg["per_task"]) == ["object_counting", "route_planning"]
    assert agg["other"] == {"custom_type": 1.0, "unknown": 0.0}


def test_chance_overall_ignores_unknown_numeric_types():
    rows = [ScoredRow("route_planning", ("A. x", "B. y"), "A"), ScoredRow("custom_numeric", (), "3")]
    chance = chance_baseline(rows)
    assert chance["overall"] == pytest.approx(0.5)
    assert chance["other"] == {"custom_numeric": None} and "custom_numeric" not in chance["per_task"]


def test_baselines():
    rows = [
        ScoredRow("object_rel_direction_easy", ("A. left", "B. right"), "A"),
        ScoredRow("object_rel_direction_easy", ("A. right", "B. left"), "B"),
        ScoredRow("object_rel_direction_easy", ("A. left", "B. right"), "B"),
        ScoredRow("object_counting", (), "2"),
        ScoredRow("object_counting", (), "4"),
    ]
    freq = frequency_baseline(rows)
    # most common answer text is "left" (2 of 3): predicted A, B, A -> right, right, wrong
    assert freq["per_type"]["object_rel_direction_easy"] == pytest.approx(2 / 3)
    # mean answer 3: MRA(3 vs 2) rel 0.5 -> 0.1; MRA(3 vs 4) rel 0.25 -> 0.6
    assert freq["per_type"]["object_counting"] == pytest.approx(0.35)
    chance = chance_baseline(rows)
    assert chance["per_task"]["object_rel_direction"] == pytest.approx(0.5)
    assert chance["per_task"]["object_counting"] is None
    assert chance["overall"] is None
