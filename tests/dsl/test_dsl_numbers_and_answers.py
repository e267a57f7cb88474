"""Number literal limits, non-finite results, answer() misuse and categories held in variables."""

from __future__ import annotations

import pytest

from spatialmem.dsl import check, parse, run_program
from spatialmem.errors import ProgramError, ProgramRuntimeError


def _codes(exc_info) -> list[str]:
    return [d.code for d in exc_info.value.diagnostics]


@pytest.mark.parametrize("literal", ["9" * 400, "9" * 5000, "1e999", "1.5e400"])
def test_number_literal_out_of_range_is_e300(literal):
    with pytest.raises(ProgramError) as e:
        parse("answer(" + literal + ")")
    assert _codes(e) == ["E300"]
    d = e.value.diagnostics[0]
    assert "number out of range" in d.message and d.line == 1 and d.column == 8 and d.hint


def test_large_but_finite_literals_still_parse():
    assert parse("answer(" + "9" * 300 + ")").statements
    assert parse("answer(1e300)").statements


@pytest.mark.parametrize("program", [
    "answer(1e300 * 1e300)",
    "answer(-(1e300 * 1e300))",
    "x = 1e308 + 1e308\nanswer(x)",
    "answer(1e308 / 1e-308)",
    "answer([1, 2][1e300 * 1e300])",
    "answer(to_cm(1e307))",
])
def test_non_finite_results_are_r409(memories, program):
    with pytest.raises(ProgramRuntimeError) as e:
        run_program(program, memories["living"])
    assert _codes(e) == ["R409"]
    assert "not a finite number" in e.value.diagnostics[0].message


def test_non_finite_turn_argument_is_r409(memories):
    program = 'v = stand_at(the("sofa"), facing=the("tv"))\nw = turn(v, 1e300 * 1e300)\nanswer(1)'
    with pytest.raises(ProgramRuntimeError) as e:
        run_program(program, memories["living"])
    assert _codes(e) == ["R409"]


@pytest.mark.parametrize("program", ["answer(look(topdown()))", "answer(answer(1))"])
def test_answer_of_nothing_is_e210_with_hint(memories, program):
    diags = check(parse(program), memories["living"])
    e210 = [d for d in diags if d.code == "E210"]
    assert e210, [d.render() for d in diags]
    assert "returns nothing" in e210[0].message and "separate statements" in e210[0].hint


def test_look_then_answer_is_fine(memories):
    assert check(parse("look(topdown())\nanswer(1)"), memories["living"]) == []


def test_answer_twice_is_e231(memories):
    diags = check(parse("answer(1)\nanswer(2)"), memories["living"])
    assert [d.code for d in diags] == ["E231"]
    assert diags[0].line == 2 and "once" in diags[0].hint


def test_variable_category_not_in_memory_has_checker_hints(memories):
    for program, want in [('c = "couch"\nanswer(count(objects(c)))', '"sofa"'),
                          ('c = "chiar"\nanswer(count(c))', '"chair"')]:
        with pytest.raises(ProgramRuntimeError) as e:
            run_program(program, memories["living"])
        d = e.value.diagnostics[0]
        assert d.code == "E240", d.render()
        assert want in d.hint and "categories in this memory" in d.hint


def test_variable_category_present_still_counts(memories):
    assert run_program('c = "chair"\nanswer(count(c))', memories["living"]).answer == 3
