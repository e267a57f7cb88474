"""The operation declarations: one decorator per op, read by checker, interpreter and reference alike."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from spatialmem.dsl import Limits, check, parse, reference_text, run_program
from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.declare import ATTRIBUTES, OPS, P, Range, op
from spatialmem.dsl.ops import objects as object_ops
from spatialmem.dsl.ops import rendering
from spatialmem.dsl.runtime import Context, Fail
from spatialmem.dsl.types import Kind
from spatialmem.errors import ProgramRuntimeError
from spatialmem.geometry.boxes import OrientedBox
from spatialmem.memory.scene import ObjectInstance, SceneMemory

ROOT = Path(__file__).resolve().parents[2]
DSL_MODULES = sorted(
    "spatialmem.dsl." + ".".join(p.relative_to(ROOT / "spatialmem" / "dsl").with_suffix("").parts)
    for p in (ROOT / "spatialmem" / "dsl").rglob("*.py") if p.name != "__init__.py"
) + ["spatialmem.dsl.ops", "spatialmem.vocab"]


def test_every_dsl_module_imports_first_in_a_fresh_interpreter():
    assert len(DSL_MODULES) >= 18
    failed = {}
    for m in DSL_MODULES:  # one fresh interpreter per module, that module imported first
        out = subprocess.run([sys.executable, "-c", f"import {m}"], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            failed[m] = out.stderr[-500:]
    assert failed == {}


def test_declaration_must_match_the_implementation():
    with pytest.raises(TypeError, match="declaration says"):
        @op("zz_test_op", P("a", T.NUM), returns=T.NUM, section="Geometry", doc="d", example="zz_test_op(1)")
        def _wrong(ctx, b):  # parameter named b, declared a
            return b
    assert "zz_test_op" not in OPS
    with pytest.raises(ValueError, match="declared twice"):
        @op("distance", returns=T.NUM, section="Geometry", doc="d", example="distance()")
        def _dup(ctx):
            return None
    with pytest.raises(ValueError, match="unknown section"):
        op("zz", returns=T.NUM, section="Nowhere", doc="d", example="zz()")


def test_kinds_are_an_enum_and_types_print_their_names():
    assert T.METRES.kind is Kind.NUMBER and str(T.METRES) == "Number[m]"
    assert str(T.union(T.OBJECT, T.NOTHING)) == "Object | Nothing"
    assert T.union(T.OBJECTS, T.TEXTS).kinds() == {Kind.OBJECTS, Kind.LIST}
    assert {a.owner for a in ATTRIBUTES.values()} == {Kind.OBJECT, Kind.VIEW, Kind.DIRECTION, Kind.ROUTE,
                                                       Kind.CAMERA, Kind.CHOICE}


def test_codes_are_named_once_and_r404_is_split():
    assert D.CODES["E300"] == "limits" and D.LIMITS == "E300"
    names = [c.name for c in D.CODE_INFO.values()]
    assert len(names) == len(set(names))
    split = {D.OUT_OF_RANGE, D.NEEDS_REFERENCE, D.NO_TIMES, D.DEGENERATE}
    assert len(split) == 4 and D.BAD_ARGUMENT not in split and all(c.startswith("R4") for c in split)


def test_render_range_comes_from_the_declaration(living):
    side = OPS["render"].params[1].range
    assert isinstance(side, Range) and side is rendering.IMAGE_SIDE and (side.lo, side.hi) == (16, 2048)
    src = 'v = stand_at(the("sofa"), facing=the("tv"))\nanswer(render(v, width={w}))'
    (d,) = check(parse(src.format(w=5000)), living)
    assert d.code == D.LIMITS and "16..2048 pixels" in d.message
    assert check(parse(src.format(w=2048)), living) == []
    # a computed width escapes the static check and is refused at run time
    with pytest.raises(ProgramRuntimeError) as info:
        run_program(src.format(w="1000 * 3"), living)
    assert info.value.diagnostics[0].code == D.TOO_LARGE
    assert "width: 16..2048 pixels" in reference_text() and "scheme: one of left_right" in reference_text()


NESTING = [  # one program per argument position the limit must hold through
    "answer(abs(1, " + "abs(1, " * 330 + "1" + ")" * 330 + "))",  # extra positional arguments (bind)
    "answer(" + "abs(x=" * 300 + "1" + ")" * 300 + ")",  # keyword arguments
    "answer(" + "[" * 300 + "1" + "]" * 300 + ")",  # list items
    "answer(" + "frobnicate(" * 300 + "1" + ")" * 300 + ")",  # arguments of an unknown operation
    "answer(" + "(" * 300 + "1" + " + 1)" * 300 + ")",  # binary operands
    "answer(" + "not " * 300 + "true)",  # unary operands
    "x = " + "[" * 300 + "1" + "][0]" * 300 + "\nanswer(x)",  # index bases
    'answer(nearest(the("bed"), among=' + "abs(" * 300 + "1" + ")" * 300 + "))",  # a keyword of a known op
    "answer(min(" + "[" * 200 + "1" + "]" * 200 + ", 2, 3))",  # an argument after an arity error
]


@pytest.mark.parametrize("src", NESTING, ids=range(len(NESTING)))
def test_nesting_limit_holds_through_every_argument_position(src, living):
    codes = [d.code for d in check(parse(src), living)]
    assert D.LIMITS in codes
    with pytest.raises(Exception) as info:
        run_program(src, living)
    assert not isinstance(info.value, RecursionError)
    assert D.LIMITS in [d.code for d in info.value.diagnostics]


def test_cli_check_reports_nesting_not_a_traceback(tmp_path):
    prog = tmp_path / "d.sm"
    prog.write_text("answer(" + "abs(1," * 330 + "1" + ")" * 330 + ")\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "spatialmem.cli", "check", str(prog)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 6 and "E300" in out.stdout + out.stderr
    assert "Traceback" not in out.stderr


def _grid_memory(n: int) -> SceneMemory:
    insts = tuple(ObjectInstance(i + 1, "box", OrientedBox.axis_aligned((i % 100 * 1.5, i // 100 * 1.5, 0.5),
                                                                        (1, 1, 1))) for i in range(n))
    return SceneMemory("grid", insts)


def test_deadline_holds_inside_long_operations():
    mem = _grid_memory(300)
    ctx = Context(mem, deadline=time.perf_counter() - 1.0, max_seconds=0.0)
    objs = object_ops.all_objects(ctx)
    with pytest.raises(Fail) as info:
        object_ops.sort_by(ctx, objs, "distance", mem.instances[0], True)
    assert info.value.code == D.TIME_LIMIT
    with pytest.raises(Fail):
        object_ops.where(ctx, objs, None, mem.instances[0], None, None)
    with pytest.raises(Fail):
        rendering.topdown(ctx)


def test_long_sort_is_stopped_at_the_time_limit():
    mem = _grid_memory(30000)  # box distances are one vectorized pass; the sort's loop over 30k objects is long
    src = 'answer(sort_by(all_objects(), key="distance", to=object(1), descending=true))'
    t0 = time.perf_counter()
    with pytest.raises(ProgramRuntimeError) as info:
        run_program(src, mem, Limits(max_seconds=0.05))
    assert info.value.diagnostics[0].code == D.TIME_LIMIT
    assert time.perf_counter() - t0 < 2.0
    assert run_program(src, _grid_memory(30)).answer_text.count("box") == 30
