"""Public API, safety limits, determinism, generated docs, and the contract's template programs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spatialmem.dsl import Diagnostic, Limits, RunResult, check, execute, parse, reference_text, run_program
from spatialmem.dsl.check import MAX_DEPTH, MAX_STATEMENTS
from spatialmem.dsl.docs import markdown
from spatialmem.dsl.ops import ATTRIBUTES, OPS
from spatialmem.errors import ProgramError, ProgramRuntimeError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [
    'answer(count(objects("chair")))',
    'answer(to_cm(the("sofa").longest_side))',
    'answer(distance(the("sofa"), the("tv")))',
    "answer(room_area())",
    'answer(choose(["A. chair", "B. lamp", "C. tv", "D. sofa"], nearest(the("bed"), among=["chair", "lamp", "tv", '
    '"sofa"])))',
    'v = stand_at(the("sofa"), facing=the("tv"))\n'
    'answer(choose(["A. left", "B. right"], direction(v, the("lamp"), scheme="left_right")))',
    'answer(choose(["A. chair, tv, lamp, sofa", "B. tv, lamp, sofa, chair"], '
    'appearance_order(["chair", "tv", "lamp", "sofa"])))',
    'v = stand_at(the("bed"), facing=the("door"))\n'
    'answer(choose(["A. Turn Left, Turn Right", "B. Turn Back, Turn Left"], '
    'route(v, [the("door"), the("table"), the("sofa")])))',
]


@pytest.mark.parametrize("src", TEMPLATES)
def test_contract_templates_check_and_run(src, living):
    assert check(parse(src), living) == []
    result = run_program(src, living)
    assert isinstance(result, RunResult) and result.answer_text
    assert result.steps > 0 and result.elapsed_s >= 0


def test_result_fields(living):
    r = run_program('d = distance(the("sofa"), the("bed"))\nanswer(d)', living)
    assert r.answer == pytest.approx(0.55) and r.answer_text == "0.55" and r.value_type == "Number[m]"
    assert r.trace == ("1: d = 0.55 m", "2: answer -> 0.55 m")
    assert r.images == ()


def test_check_without_memory_skips_categories():
    assert check(parse('answer(count(objects("unicorn")))')) == []


def test_check_reports_all_problems_in_order(living):
    diags = check(parse('x = the("couch").heigth\ny = undefined_thing\nanswer(frobnicate(x))'), living)
    assert [d.code for d in diags] == ["E240", "E203", "E220", "E200"]
    assert all(isinstance(d, Diagnostic) and d.line >= 1 and d.hint for d in diags)


def test_execute_checks_first(living):
    with pytest.raises(ProgramError) as info:
        execute(parse('answer(the("couch"))'), living)
    assert not isinstance(info.value, ProgramRuntimeError)
    assert info.value.exit_code == 6


def test_runtime_error_is_structured(living):
    with pytest.raises(ProgramRuntimeError) as info:
        run_program('x = 1\nanswer(the("chair").height)', living)
    (d,) = info.value.diagnostics
    assert info.value.exit_code == 7
    assert (d.code, d.line, d.column) == ("R400", 2, 8)
    assert "chair #6" in d.message and 'objects("chair")' in d.hint
    assert d.render().splitlines()[2].strip().startswith("^")


def test_step_limit(living):
    src = "x = 1\n" + "x = x + 1\n" * 50 + "answer(x)"
    assert run_program(src, living).answer == 51
    with pytest.raises(ProgramRuntimeError) as info:
        run_program(src, living, Limits(max_steps=40))
    assert info.value.diagnostics[0].code == "R410"


def test_time_limit(living):
    with pytest.raises(ProgramRuntimeError) as info:
        run_program('answer(count(objects("chair")))', living, Limits(max_seconds=-1.0))
    assert info.value.diagnostics[0].code == "R411"


def test_size_limits(living):
    too_many = "x = 1\n" * (MAX_STATEMENTS + 1) + "answer(x)"
    assert check(parse(too_many), living)[0].code == "E300"
    big_list = "answer(min([" + ", ".join(["1"] * 300) + "]))"
    assert "E300" in [d.code for d in check(parse(big_list), living)]
    deep = "answer(" + "abs(" * (MAX_DEPTH + 2) + "1" + ")" * (MAX_DEPTH + 2) + ")"
    assert "E300" in [d.code for d in check(parse(deep), living)]
    many_waypoints = 'v = stand_at(the("sofa"), facing=the("tv"))\nanswer(route(v, [' + \
        ", ".join(['the("tv")'] * 65) + "]))"
    assert "E300" in [d.code for d in check(parse(many_waypoints), living)]


def test_pathological_programs_are_refused_not_crashing(living):
    deep_unary = "answer(" + "-" * 3000 + "1)"
    assert "E300" in [d.code for d in check(parse(deep_unary), living)]
    deep_parens = "answer(" + "(" * 2000 + "1" + ")" * 2000 + ")"
    assert run_program(deep_parens, living).answer == 1
    with pytest.raises(ProgramRuntimeError) as info:
        run_program("look(topdown())\n" * 9 + "answer(1)", living)
    assert info.value.diagnostics[0].code == "R412"


def test_deterministic(memories):
    srcs = ['answer(distance(the("bed"), the("tv")))',
            'answer(angle(stand_at(the("sofa"), facing=the("tv")), the("lamp")))',
            'answer(sort_by(all_objects(), key="distance", to=the("table")))']
    for src in srcs:
        runs = [run_program(src, memories["points"]).answer_text for _ in range(3)]
        assert runs[0] == runs[1] == runs[2]


def test_interpreter_has_no_reflection_or_eval():
    dsl = ROOT / "spatialmem" / "dsl"
    files = [dsl / n for n in ("interpreter.py", "check.py", "declare.py", "runtime.py")] + \
        sorted((dsl / "ops").glob("*.py"))
    assert len(files) >= 10  # every op section module is scanned too
    for path in files:
        text, name = path.read_text(encoding="utf-8"), path.name
        assert not re.search(r"(?<![\w.])(eval|exec|getattr|setattr|__import__|compile)\(", text), name
        assert "open(" not in text, name


def test_every_op_documented_and_in_reference(living):
    ref = reference_text()
    for op in OPS.values():
        assert op.doc.strip() and op.example.strip()
        assert f"{op.name}(" in ref
        example = op.example if "=" in op.example.split("(")[0] or op.example.startswith(("answer", "look")) \
            else f"x = {op.example}"
        codes = {d.code for d in check(parse(example), living)}
        assert codes <= {"E220", "E230"}, (op.name, codes)  # only the example's free names / no answer
    for owner, name in ATTRIBUTES:
        assert f"{owner}.{name}" in ref


def test_committed_docs_match_the_op_table():
    committed = (ROOT / "docs" / "dsl.md").read_text(encoding="utf-8")
    assert committed == markdown(), "docs/dsl.md is stale: run python -m spatialmem.dsl.docs > docs/dsl.md"
