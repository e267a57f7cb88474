"""Template programs for every question form run on a hand-built memory and give hand-computed answers."""

from __future__ import annotations

import pytest

from spatialmem.agent.answer import answer_question, format_answer
from spatialmem.agent.base import Question
from spatialmem.agent.template import TemplatePlanner
from spatialmem.synth import templates as T

DIR_EASY = ["A. right", "B. left"]
DIR_MED = ["A. back", "B. right", "C. left"]
DIR_HARD = ["A. back-left", "B. front-right", "C. front-left", "D. back-right"]
ORDER = ["A. tv, sofa, lamp, chair", "B. sofa, tv, lamp, chair", "C. sofa, lamp, tv, chair"]
ROUTE = ["A. Turn Right, Turn Left", "B. Turn Right, Turn Back", "C. Turn Left, Turn Back"]

# Memory (tests/agent/conftest.py): sofa box x 0..2, y 0.55..1.45; tv at (1, 4); lamp (3.5, 2); chairs (2.5, 3)
# and (4, 3.5); trash bin (0.3, 2.5); room 25 m^2; first seen sofa 0.5 s, tv 3, lamp 5, chair 7, trash bin 9.5.
CASES = [
    ("object_counting", T.COUNTING.format(category="chair"), [], "2"),
    ("object_size_estimation", T.SIZE.format(category="sofa"), [], "200"),
    ("object_abs_distance", T.ABS_DISTANCE.format(a="sofa", b="tv"), [], "2.5"),  # 3.95 - 1.45
    ("room_size_estimation", T.ROOM_SIZE, [], "25"),
    # closest points from the sofa: trash bin 0.9, chair 1.32, lamp 1.41, tv 2.5
    ("object_rel_distance", T.REL_DISTANCE.format(c1="lamp", c2="trash bin", c3="tv", c4="chair", category="sofa"),
     ["A. lamp", "B. trash bin", "C. tv", "D. chair"], "B"),
    # standing at the sofa (1, 1) facing the tv (+y): the trash bin at (-0.7, +1.5) is front-left
    ("object_rel_direction_easy", T.DIRECTION_EASY.format(a="sofa", b="tv", c="trash bin"), DIR_EASY, "B"),
    ("object_rel_direction_medium", T.DIRECTION_MEDIUM.format(a="sofa", b="tv", c="trash bin"), DIR_MED, "C"),
    ("object_rel_direction_hard", T.DIRECTION_HARD.format(a="sofa", b="tv", c="trash bin"), DIR_HARD, "C"),
    ("obj_appearance_order", T.APPEARANCE_ORDER.format(a="lamp", b="sofa", c="chair", d="tv"), ORDER, "B"),
    # legs: sofa->tv (+y); tv->lamp (2.5, -2): -128.7 deg = right; lamp->bin (-3.2, 0.5): -150 deg = back
    ("route_planning", T.ROUTE.format(a="sofa", b="tv", c="trash bin", steps=T.route_steps(["tv", "lamp"],
                                                                                            "trash bin")),
     ROUTE, "B"),
]


@pytest.mark.parametrize("qtype, text, options, expected", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("with_type", [True, False])
def test_template_programs_run(memory, qtype, text, options, expected, with_type):
    q = Question(text, tuple(options), qtype if with_type else None, qtype)
    rec = answer_question(q, memory, TemplatePlanner())
    assert rec.ok, rec.error
    assert rec.answer == expected, rec.program
    assert rec.trace and rec.timings["total_s"] >= rec.timings["run_s"]


def test_runtime_and_check_failures_are_recorded(memory):
    strict = TemplatePlanner(resolve_duplicates=False)
    rec = answer_question(Question(T.SIZE.format(category="chair")), memory, strict)
    assert not rec.ok and rec.error_kind == "runtime" and "chair" in rec.error  # the("chair") with two chairs
    rec = answer_question(Question(T.SIZE.format(category="chair")), memory, TemplatePlanner())
    assert rec.ok and rec.answer == "90"  # the largest of the two chairs
    rec = answer_question(Question(T.SIZE.format(category="unicorn")), memory, TemplatePlanner())
    assert not rec.ok and rec.error_kind == "check" and "unicorn" in rec.error
    rec = answer_question(Question("Why?"), memory, TemplatePlanner())
    assert not rec.ok and rec.error_kind == "planning" and rec.program == ""


def test_format_helpers():
    q = Question("x", ("A. left", "B. right"))
    assert format_answer("B. right", q) == "B" and format_answer("b", q) == "B"
    assert format_answer("2.4", Question("x")) == "2.4"


def test_format_answer_accepts_only_the_questions_option_letters():
    q = Question("x", ("A. left", "B. right"))
    assert format_answer("(A) left", q) == "A"
    assert format_answer("I think so", q) == "I think so"  # "I" is not an option letter
    assert format_answer("C", q) == "C"  # returned as written (scores 0), never turned into a valid-looking pick
    assert format_answer("x.", q) == "x."
    assert format_answer("b", Question("x", ("left", "right"))) == "B"  # letters by position when absent


def test_a_failure_keeps_its_exception_for_the_command_line(memory):
    """The record carries the exception itself (its class and exit code), not only a kind string."""
    from spatialmem.errors import PlanningError, ProgramError, ProgramRuntimeError

    strict = TemplatePlanner(resolve_duplicates=False)
    cases = [(Question(T.SIZE.format(category="chair")), strict, ProgramRuntimeError, 7),
             (Question(T.SIZE.format(category="unicorn")), TemplatePlanner(), ProgramError, 6),
             (Question("Why?"), TemplatePlanner(), PlanningError, 8)]
    for question, planner, cls, code in cases:
        rec = answer_question(question, memory, planner)
        assert not rec.ok and isinstance(rec.failure, cls) and rec.failure.exit_code == code, rec
        assert "failure" not in rec.to_dict()  # the exception is not serialised
    ok = answer_question(Question(T.SIZE.format(category="chair")), memory, TemplatePlanner())
    assert ok.ok and ok.failure is None


def test_a_deeply_nested_program_is_a_check_failure_not_an_internal_error(memory):
    """ask / eval answer through answer_question: nesting beyond the limit is a diagnostic (repairable)."""
    from spatialmem.agent.base import Plan
    from spatialmem.errors import ProgramError

    class Deep:
        name = "deep"

        def plan(self, question, summary=None, memory=None):
            return Plan("answer(" + "abs(1," * 330 + "1" + ")" * 330 + ")", "deep")

    rec = answer_question(Question("How deep?"), memory, Deep())
    assert not rec.ok and rec.error_kind == "check" and isinstance(rec.failure, ProgramError)
    assert "nested deeper" in rec.error
