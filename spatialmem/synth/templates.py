"""The VSI-Bench question templates and option formatting shared by the question generator and planners.

Every phrasing here is the exact text written into ``questions.jsonl`` (see docs/benchmark.md); a
planner that parses questions can import these constants instead of copying the strings.
"""

from __future__ import annotations

from collections.abc import Sequence

from spatialmem.question_types import REL_DIRECTION_TYPES

DATASET = "spatialmem-synth"

COUNTING = "How many {category}(s) are in this room?"
SIZE = (
    "What is the length of the longest dimension (length, width, or height) of the {category}, "
    "measured in centimeters?"
)
ABS_DISTANCE = (
    "Measuring from the closest point of each object, what is the distance between the {a} and the {b} (in meters)?"
)
ABS_DISTANCE_DIRECT = (
    "Measuring from the closest point of each object, what is the direct distance between the {a} and the {b} "
    "(in meters)?"
)
ROOM_SIZE = (
    "What is the size of this room (in square meters)? If multiple rooms are shown, estimate the size of the "
    "combined space."
)
REL_DISTANCE = (
    "Measuring from the closest point of each object, which of these objects ({c1}, {c2}, {c3}, {c4}) is the "
    "closest to the {category}?"
)
DIRECTION_EASY = "If I am standing by the {a} and facing the {b}, is the {c} to the left or the right of the {b}?"
DIRECTION_MEDIUM = (
    "If I am standing by the {a} and facing the {b}, is the {c} to my left, right, or back? An object is to my "
    "back if I would have to turn at least 135 degrees in order to face it."
)
DIRECTION_HARD = (
    "If I am standing by the {a} and facing the {b}, is the {c} to my front-left, front-right, back-left, or "
    "back-right? The directions refer to the quadrants of a Cartesian plane (if I am standing at the origin and "
    "facing along the positive y-axis)."
)
#: The phrasing of each relative-direction question type (:data:`spatialmem.question_types.REL_DIRECTION_TYPES`).
DIRECTION_TEMPLATES: dict[str, str] = dict(zip(REL_DIRECTION_TYPES, (DIRECTION_EASY, DIRECTION_MEDIUM, DIRECTION_HARD),
                                               strict=True))
APPEARANCE_ORDER = (
    "What will be the first-time appearance order of the following categories in the video: {a}, {b}, {c}, {d}?"
)
ROUTE_ANY_START = (
    "You are a robot beginning at the {a} {start}. You want to navigate to the {c}. You will perform the "
    "following actions (Note: for each [please fill in], choose either 'turn back,' 'turn left,' or "
    "'turn right.'): {steps} You have reached the final destination."
)
ROUTE = ROUTE_ANY_START.replace("{start}", "facing the {b}")
# the three ways the benchmark states the start view (docs/benchmark.md: route phrasings)
ROUTE_STARTS: dict[str, str] = {
    "facing": "facing the {b}", "and facing": "and facing the {b}", "back to": "with your back to the {b}",
}
ROUTE_GO = "Go forward until the {name}"
ROUTE_FILL = "[please fill in]"
ROUTE_SIDE = "{go} is on your {side}"  # an "is on your left/right" ending of a "Go forward until" step
ROUTE_DISTANCE = "Go forward about {distance}"
# spoken distances of "Go forward about ..." steps and their length in metres (the planner's units)
ROUTE_DISTANCES: dict[str, float] = {"one foot": 0.3048, "two feet": 0.6096, "1 meter": 1.0, "two steps": 1.5}
ROUTE_CLOSEST = "closest {name}"  # landmark phrases for one of several instances of a category
ROUTE_BY = "{name} by the {ref}"

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def format_options(labels: Sequence[str]) -> list[str]:
    """``["A. left", "B. right"]`` for ``["left", "right"]``."""
    return [f"{LETTERS[i]}. {label}" for i, label in enumerate(labels)]


def route_steps(waypoints: Sequence[str], target: str, first_turn: bool = False,
                written: dict[int, str] | None = None) -> str:
    """The numbered action list of a route question.

    Args:
        waypoints: categories W1..Wk the robot walks to before the destination (k >= 1).
        target: the destination category.
        first_turn: the route starts with a turn to fill in (the robot does not face W1).
        written: ``{i: "turn left"}``: the turn at waypoint i is written out instead of left to fill in.

    Returns:
        e.g. ``"1. Go forward until the tv 2. [please fill in] 3. Go forward until the sofa."``
    """
    items: list[str] = [ROUTE_FILL] if first_turn else []
    for i, name in enumerate(waypoints):
        items.append(ROUTE_GO.format(name=name))
        turn = (written or {}).get(i)
        items.append(turn.capitalize() if turn else ROUTE_FILL)
    items.append(ROUTE_GO.format(name=target))
    return numbered_steps(items)


def numbered_steps(items: Sequence[str]) -> str:
    """``"1. Go forward until the tv 2. [please fill in] 3. Go forward until the sofa."`` for the step texts."""
    return " ".join(f"{i + 1}. {text}" for i, text in enumerate(items)) + "."


def turn_sequence_text(turns: Sequence[str]) -> str:
    """``"Turn Left, Turn Back"`` for ``["turn left", "turn back"]`` (option text of a route question)."""
    return ", ".join(t.title() for t in turns)
