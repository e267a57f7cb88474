"""The sandboxed interpreter: walks a checked AST and dispatches calls ONLY through the op table.

No ``eval``/``exec``, no attribute reflection on user strings (attributes are looked up in
:data:`~spatialmem.dsl.ops.ATTRIBUTES`), no file or network access; a step limit and a wall-time
limit bound every run (the deadline is also checked inside long operations, through
:meth:`~spatialmem.dsl.runtime.Context.tick`), and results are deterministic for a given memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import numpy as np

from spatialmem.dsl import ast
from spatialmem.dsl import diagnostics as D
from spatialmem.dsl.declare import Op
from spatialmem.dsl.diagnostics import make
from spatialmem.dsl.ops import ATTRIBUTES, OPS
from spatialmem.dsl.runtime import Context, Fail
from spatialmem.dsl.types import add_unit, compare_unit, div_unit, mul_unit
from spatialmem.dsl.values import ObjectSet, Quantity, answer_text, kind_of, plain, type_name
from spatialmem.errors import ProgramRuntimeError
from spatialmem.memory.scene import ObjectInstance, SceneMemory


@dataclass(frozen=True)
class Limits:
    """Resource limits of one run: evaluation steps and wall-clock seconds."""

    max_steps: int = 20_000
    max_seconds: float = 10.0


@dataclass(frozen=True)
class RunResult:
    """The outcome of a program run.

    Attributes:
        answer: the answered value as plain Python (float/int for numbers, list for lists, or a value object).
        answer_text: what a model would output ("2.4", "3", "B", "left").
        value_type: type of the answered value, e.g. ``"Number[m]"``, ``"Choice"``.
        trace: one line per statement ("2: v = ..."), for logs and LLM feedback.
        images: (H, W, 3) uint8 images passed to ``look(...)``, in order.
        steps: evaluation steps used.
        elapsed_s: wall time of the run.
    """

    answer: object
    answer_text: str
    value_type: str
    trace: tuple[str, ...]
    images: tuple[np.ndarray, ...]
    steps: int
    elapsed_s: float


class _Runner:
    def __init__(self, program: ast.Program, memory: SceneMemory, limits: Limits) -> None:
        self.program = program
        self.ctx = Context(memory, deadline=time.perf_counter() + limits.max_seconds, max_seconds=limits.max_seconds)
        self.limits = limits
        self.env: dict[str, object] = {}
        self.steps = 0

    def fail(self, code: str, message: str, span: ast.Span | None, hint: str = "") -> NoReturn:
        d = make(code, message, span, self.program.source, hint)
        raise ProgramRuntimeError(d.render(), (d,))

    def run(self) -> RunResult:
        t0 = time.perf_counter()
        trace = []
        for st in self.program.statements:
            if isinstance(st, ast.Assign):
                v = self.evaluate(st.value)
                self.env[st.target] = v
                trace.append(f"{st.span.line}: {st.target} = {_short(v)}")
            else:
                v = self.evaluate(st.expr)
                if isinstance(st.expr, ast.Call) and st.expr.func == "answer":
                    trace.append(f"{st.span.line}: answer -> {_short(self.ctx.answer)}")
        if not self.ctx.answered:
            self.fail(D.NO_ANSWER, "the program finished without calling answer(...)", None, "end with answer(value)")
        value = self.ctx.answer
        return RunResult(plain(value), answer_text(value), type_name(value), tuple(trace),
                         tuple(self.ctx.images), self.steps, time.perf_counter() - t0)

    # ------------------------------------------------------------ evaluation
    def evaluate(self, node: ast.Node) -> Any:
        self.steps += 1
        if self.steps > self.limits.max_steps:
            self.fail(D.STEP_LIMIT, f"the program used more than {self.limits.max_steps} steps", node.span,
                      "simplify the program")
        return _DISPATCH[type(node)](self, node)

    def e_num(self, node: ast.Num) -> Quantity:
        return Quantity(node.value, "none")

    def e_str(self, node: ast.Str) -> str:
        return node.value

    def e_bool(self, node: ast.BoolLit) -> bool:
        return node.value

    def e_name(self, node: ast.Name) -> Any:
        try:
            return self.env[node.id]
        except KeyError:
            self.fail(D.UNDEFINED_NAME, f"'{node.id}' is used before it is assigned", node.span, "assign it first")

    def e_list(self, node: ast.ListExpr) -> tuple[Any, ...]:
        return tuple(self.evaluate(i) for i in node.items)

    def e_attr(self, node: ast.Attribute) -> Any:
        base = self.evaluate(node.value)
        a = ATTRIBUTES.get((kind_of(base), node.attr))
        if a is None:
            self.fail(D.UNKNOWN_ATTRIBUTE, f"{type_name(base)} has no attribute '{node.attr}'", node.attr_span)
        return self._guard(node, a.impl, self.ctx, base)

    def e_index(self, node: ast.Index) -> Any:
        base, idx = self.evaluate(node.value), self.evaluate(node.index)
        seq = base.items if isinstance(base, ObjectSet) else base
        self._finite(node.index, idx)
        i = int(idx.value)
        if i != idx.value or not -len(seq) <= i < len(seq):
            self.fail(D.OUT_OF_RANGE, f"index {idx.value:g} is out of range for {len(seq)} items", node.index.span,
                      f"use 0..{len(seq) - 1} (or -1 for the last)")
        return seq[i]

    def e_unary(self, node: ast.Unary) -> Any:
        v = self.evaluate(node.operand)
        if node.op == "not":
            return not v
        return self._finite(node, Quantity(-v.value, v.unit) if node.op == "-" else v)

    def _finite(self, node: ast.Node, q: Any) -> Any:
        """``q`` unchanged when it is a finite number (or not a number); otherwise an ``R409`` diagnostic."""
        if isinstance(q, Quantity) and not math.isfinite(q.value):
            self.fail(D.NOT_FINITE, f"the result is not a finite number ({q.value})", node.span,
                      "keep numbers in a sensible range; check for overflowing products or huge literals")
        return q

    def e_binop(self, node: ast.BinOp) -> Quantity:
        return self._finite(node, self._binop(node))

    def _binop(self, node: ast.BinOp) -> Quantity:
        a, b = self.evaluate(node.left), self.evaluate(node.right)
        op = node.op
        try:
            if op == "+":
                return Quantity(a.value + b.value, add_unit(a.unit, b.unit))
            if op == "-":
                return Quantity(a.value - b.value, add_unit(a.unit, b.unit))
            if op == "*":
                return Quantity(a.value * b.value, mul_unit(a.unit, b.unit))
            if b.value == 0:
                self.fail(D.ARITHMETIC, "division by zero", node.span, "check the divisor first")
            return Quantity(a.value / b.value, div_unit(a.unit, b.unit))
        except ValueError as exc:
            self.fail(D.UNIT, f"unit mismatch: {exc}", node.span)

    def e_compare(self, node: ast.Compare) -> bool:
        a, b = self.evaluate(node.left), self.evaluate(node.right)
        if isinstance(a, Quantity) and isinstance(b, Quantity):
            try:
                compare_unit(a.unit, b.unit)
            except ValueError as exc:
                self.fail(D.UNIT, f"unit mismatch: {exc}", node.span)
            a, b = a.value, b.value
        op = node.op
        if op == "==":
            return a == b
        if op == "!=":
            return a != b
        if op == "<":
            return a < b
        if op == "<=":
            return a <= b
        if op == ">":
            return a > b
        return a >= b

    def e_boolop(self, node: ast.BoolOp) -> bool:
        left = self.evaluate(node.left)
        if node.op == "and":
            return bool(left) and bool(self.evaluate(node.right))
        return bool(left) or bool(self.evaluate(node.right))

    def e_call(self, node: ast.Call) -> Any:
        op = OPS.get(node.func)
        if op is None:
            self.fail(D.UNKNOWN_OP, f"unknown operation '{node.func}'", node.func_span)
        if time.perf_counter() > self.ctx.deadline:
            self.fail(D.TIME_LIMIT, f"the program ran longer than {self.limits.max_seconds:g} s", node.span,
                      "simplify the program")
        values = [p.default for p in op.params]
        for i, a in enumerate(node.args):
            values[i] = self.evaluate(a)
        for k in node.kwargs:
            values[op.param_index[k.name]] = self.evaluate(k.value)
        self._arguments(node, op, values)
        return self._guard(node, op.impl, self.ctx, *values)

    def _arguments(self, node: ast.Call, op: Op, values: list[Any]) -> None:
        """Runtime checks of the declared constraints: finite numbers, choices and ranges."""
        for p, v in zip(op.params, values):
            for q in v if isinstance(v, tuple) else (v,):
                self._finite(node, q)
            if p.choices and v not in p.choices:
                self.fail(D.BAD_ARGUMENT, f"{p.name}={v!r} is not allowed for {op.name}()", node.span,
                          f"choose one of: {', '.join(p.choices)}")
            if p.range is not None and isinstance(v, Quantity) and v.value not in p.range:
                self.fail(D.TOO_LARGE if p.range.resource else D.BAD_ARGUMENT,
                          f"{p.name}={v.value:g} is outside {p.range}", node.span, f"e.g. {op.example}")

    def _guard(self, node: ast.Node, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Fail as f:
            self.fail(f.code, f.message, node.span, f.hint)
        except ProgramRuntimeError:
            raise
        except (ValueError, ArithmeticError, IndexError, KeyError, TypeError, AttributeError) as exc:
            self.fail(D.BAD_ARGUMENT, f"the operation failed: {exc}", node.span, "check the argument values and types")


_DISPATCH: dict[type[ast.Node], Callable[[_Runner, Any], Any]] = {
    ast.Num: _Runner.e_num, ast.Str: _Runner.e_str, ast.BoolLit: _Runner.e_bool, ast.Name: _Runner.e_name,
    ast.ListExpr: _Runner.e_list, ast.Attribute: _Runner.e_attr, ast.Index: _Runner.e_index,
    ast.Unary: _Runner.e_unary, ast.BinOp: _Runner.e_binop, ast.Compare: _Runner.e_compare,
    ast.BoolOp: _Runner.e_boolop, ast.Call: _Runner.e_call,
}


def _short(v: object) -> str:
    if isinstance(v, ObjectInstance):
        return f"{v.category} #{v.id}"
    if isinstance(v, Quantity):
        return f"{answer_text(v)} {v.unit}" if v.unit != "none" else answer_text(v)
    text = answer_text(v)
    return text if len(text) <= 80 else text[:77] + "..."


def run_checked(program: ast.Program, memory: SceneMemory, limits: Limits | None = None) -> RunResult:
    """Run a program that has already passed :func:`spatialmem.dsl.check.check` for ``memory``.

    Raises:
        ProgramRuntimeError: with one runtime diagnostic (code ``R4xx``) at the failing expression.
    """
    return _Runner(program, memory, limits or Limits()).run()
