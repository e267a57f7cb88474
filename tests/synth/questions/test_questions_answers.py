"""Every generated answer agrees with an independent recomputation from the scene dict (see conftest oracle)."""

from __future__ import annotations

import collections

import numpy as np
import pytest

from spatialmem.question_types import QUESTION_TYPES
from spatialmem.synth.questions import generate_questions


@pytest.mark.parametrize("seed", [0, 7])
def test_questions_rect_answers_recomputed(rect_scene, oracle, seed):
    rows = generate_questions(rect_scene, seed)
    for row in rows:
        oracle.check_row(rect_scene, row)
    counts = collections.Counter(r["question_type"] for r in rows)
    assert set(counts) == set(QUESTION_TYPES), counts


def test_questions_lshape_answers_recomputed(lshape_scene, oracle):
    rows = generate_questions(lshape_scene, 3)
    for row in rows:
        oracle.check_row(lshape_scene, row)
    types = {r["question_type"] for r in rows}
    assert "route_planning" in types and "room_size_estimation" in types
    room = [r for r in rows if r["question_type"] == "room_size_estimation"]
    assert room[0]["ground_truth"] == "27.0"  # 6 x 6 minus 3 x 3


def test_questions_route_never_cuts_the_missing_corner(lshape_scene, oracle):
    # the sofa (5.0, 1.2) and the bed (1.5, 4.8): the straight line between them crosses the missing quarter,
    # so any route between them needs a waypoint; check_row already asserts legs stay inside the polygon.
    rows = [r for r in generate_questions(lshape_scene, 11) if r["question_type"] == "route_planning"]
    assert rows
    for row in rows:
        oracle.check_row(lshape_scene, row)


def test_questions_distance_uses_parts_not_bounding_boxes(oracle):
    """A bench standing under a table top, between its legs: the boxes overlap, the parts are 0.31 m apart."""
    objs = [
        oracle.make_object(1, "table", (2.0, 2.0, 0.375), (1.6, 0.9, 0.75), 1.0,
                           parts=oracle.table_parts(2.0, 2.0, 1.6, 0.9, 0.75)),
        oracle.make_object(2, "bench", (2.0, 2.0, 0.2), (0.8, 0.3, 0.4), 2.0),
        oracle.make_object(3, "door", (0.0, 1.0, 1.0), (0.1, 0.9, 2.0), 3.0, support="wall"),
    ]
    scene = oracle.make_scene("scene_parts", "rect", [[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0]], objs)
    rows = [r for r in generate_questions(scene, 0) if r["question_type"] == "object_abs_distance"]
    pair = [r for r in rows if "bench" in r["question"] and "table" in r["question"]]
    assert len(pair) == 1 and pair[0]["ground_truth"] == "0.3"
    for row in rows:
        oracle.check_row(scene, row)


def test_questions_many_categories_sampled_path(oracle):
    """24 categories (C(24, 4) > 3000): candidate sets are sampled instead of enumerated; still exact."""
    rng = np.random.default_rng(1)
    objs = [oracle.make_object(i + 1, f"thing {i}", (rng.uniform(0.5, 9.5), rng.uniform(0.5, 7.5), 0.2),
                               (0.3, 0.3, 0.4), float(1.5 * i)) for i in range(24)]
    scene = oracle.make_scene("scene_many", "rect", [[0.0, 0.0], [10.0, 0.0], [10.0, 8.0], [0.0, 8.0]], objs)
    rows = generate_questions(scene, 0)
    counts = collections.Counter(r["question_type"] for r in rows)
    assert counts["object_rel_distance"] == 15 and counts["obj_appearance_order"] == 15
    assert rows == generate_questions(scene, 0)
    for row in rows:
        oracle.check_row(scene, row)
