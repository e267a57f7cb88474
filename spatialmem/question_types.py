"""The VSI-Bench question types, declared once (a leaf: it imports nothing from spatialmem).

Scoring (:mod:`spatialmem.bench.metrics`), the report, the question generator (:mod:`spatialmem.synth`)
and the planners (:mod:`spatialmem.agent`) read the types from here; docs/benchmark.md describes each.
A *numeric* type is scored by Mean Relative Accuracy, a *multiple-choice* type by the option letter.
The three relative-direction types count towards one task, ``object_rel_direction``.
"""

from __future__ import annotations

#: Types answered with a number (scored by MRA), in the order the generator writes them.
NUMERIC_TYPES: tuple[str, ...] = (
    "object_counting",
    "object_abs_distance",
    "object_size_estimation",
    "room_size_estimation",
)
#: The relative-direction types and the direction scheme each asks for
#: (a key of :data:`spatialmem.geometry.directions.SCHEMES`, and the DSL's ``direction(..., scheme=)``).
DIRECTION_SCHEMES: dict[str, str] = {
    "object_rel_direction_easy": "left_right",
    "object_rel_direction_medium": "left_right_back",
    "object_rel_direction_hard": "quadrant",
}
REL_DIRECTION_TYPES: tuple[str, ...] = tuple(DIRECTION_SCHEMES)
#: The task the relative-direction types share.
REL_DIRECTION_TASK = "object_rel_direction"
#: Types answered with an option letter, in the order the generator writes them.
MC_TYPES: tuple[str, ...] = (
    "object_rel_distance",
    *REL_DIRECTION_TYPES,
    "obj_appearance_order",
    "route_planning",
)
#: All ten types: numeric first, then multiple choice (the generator's order; question ids follow it).
QUESTION_TYPES: tuple[str, ...] = NUMERIC_TYPES + MC_TYPES


def task_of(question_type: str) -> str:
    """The task a question type counts towards (the three rel-direction types share one)."""
    return REL_DIRECTION_TASK if question_type in REL_DIRECTION_TYPES else question_type


#: The eight official tasks, in the order of the VSI-Bench paper's tables.
TASKS: tuple[str, ...] = (
    *NUMERIC_TYPES,
    "object_rel_distance",
    REL_DIRECTION_TASK,
    "route_planning",
    "obj_appearance_order",
)
