"""The sandboxed interpreter: walks a checked AST and dispatches calls ONLY through the op table.

No ``eval``/``exec``, no attribute reflection on user strings (attributes are looked up in
:data:`~spatialmem.dsl.ops.ATTRIBUTES`), no file or network access; a step limit and a wall-time
limit bound every run, and results are deterministic for a given memory.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from spatialmem.dsl import ast
from spatialmem.dsl.diagnostics import make
from spatialmem.dsl.impls import Context, Fail
from spatialmem.dsl.ops import ATTRIBUTES, OPS
from spatialmem.dsl.types import add_unit, compare_unit, div_unit, mul_unit
from spatialmem.dsl.values import ObjectSet, Quantity, answer_text, kind_of, plain, type_name
from spatialmem.errors import ProgramRuntimeError


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
    def __init__(self, program: ast.Program, memory, limits: Limits) -> None:
        self.program = program
        self.ctx = Context(memory)
        self.limits = limits
        self.env: dict[str, object] = {}
        self.steps = 0
        self.deadline = time.perf_counter() + limits.max_seconds
        self.node: ast.Node | None = None

    def fail(self, code: str, message: str, span, hint: str = ""):
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
            self.fail("R408", "the program finished without calling answer(...)", None, "end with answer(value)")
        value = self.ctx.answer
        return RunResult(plain(value), answer_text(value), type_name(value), tuple(trace),
                         tuple(self.ctx.images), self.steps, time.perf_counter() - t0)

    # ------------------------------------------------------------ evaluation
    def evaluate(self, node: ast.Node):
        self.steps += 1
        if self.steps > self.limits.max_steps:
            self.fail("R410", f"the program used more than {self.limits.max_steps} steps", node.span,
                      "simplify the program")
        return _DISPATCH[type(node)](self, node)

    def e_num(self, node: ast.Num):
        return Quantity(node.value, "none")

    def e_str(self, node: ast.Str):
        return node.value

    def e_bool(self, node: ast.BoolLit):
        return node.value

    def e_name(self, node: ast.Name):
        try:
            return self.env[node.id]
        except KeyError:
            self.fail("E220", f"'{node.id}' is used before it is assigned", node.span, "assign it first")

    def e_list(self, node: ast.ListExpr):
        return tuple(self.evaluate(i) for i in node.items)

    def e_attr(self, node: ast.Attribute):
        base = self.evaluate(node.value)
        a = ATTRIBUTES.get((kind_of(base), node.attr))
        if a is None:
            self.fail("E203", f"{type_name(base)} has no attribute '{node.attr}'", node.attr_span)
        return self._guard(node, a.impl, self.ctx, base)

    def e_index(self, node: ast.Index):
        base, idx = self.evaluate(node.value), self.evaluate(node.index)
        seq = base.items if isinstance(base, ObjectSet) else base
        self._finite(node.index, idx)
        i = int(idx.value)
        if i != idx.value or not -len(seq) <= i < len(seq):
            self.fail("R404", f"index {idx.value:g} is out of range for {len(seq)} items", node.index.span,
                      f"use 0..{len(seq) - 1} (or -1 for the last)")
        return seq[i]

    def e_unary(self, node: ast.Unary):
        v = self.evaluate(node.operand)
        if node.op == "not":
            return not v
        return self._finite(node, Quantity(-v.value, v.unit) if node.op == "-" else v)

    def _finite(self, node: ast.Node, q):
        """``q`` unchanged when it is a finite number (or not a number); otherwise an ``R409`` diagnostic."""
        if isinstance(q, Quantity) and not math.isfinite(q.value):
            self.fail("R409", f"the result is not a finite number ({q.value})", node.span,
                      "keep numbers in a sensible range; check for overflowing products or huge literals")
        return q

    def e_binop(self, node: ast.BinOp):
        return self._finite(node, self._binop(node))

    def _binop(self, node: ast.BinOp):
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
                self.fail("R405", "division by zero", node.span, "check the divisor first")
            return Quantity(a.value / b.value, div_unit(a.unit, b.unit))
        except ValueError as exc:
            self.fail("E211", f"unit mismatch: {exc}", node.span)

    def e_compare(self, node: ast.Compare):
        a, b = self.evaluate(node.left), self.evaluate(node.right)
        if isinstance(a, Quantity) and isinstance(b, Quantity):
            try:
                compare_unit(a.unit, b.unit)
            except ValueError as exc:
                self.fail("E211", f"unit mismatch: {exc}", node.span)
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

    def e_boolop(self, node: ast.BoolOp):
        left = self.evaluate(node.left)
        if node.op == "and":
            return bool(left) and bool(self.evaluate(node.right))
        return bool(left) or bool(self.evaluate(node.right))

    def e_call(self, node: ast.Call):
        op = OPS.get(node.func)
        if op is None:
            self.fail("E200", f"unknown operation '{node.func}'", node.func_span)
        if time.perf_counter() > self.deadline:
            self.fail("R411", f"the program ran longer than {self.limits.max_seconds:g} s", node.span,
                      "simplify the program")
        params = op.params
        values = [p.default for p in params]
        for i, a in enumerate(node.args):
            values[i] = self.evaluate(a)
        for k in node.kwargs:
            values[_param_index(op)[k.name]] = self.evaluate(k.value)
        for p, v in zip(params, values):
            for q in v if isinstance(v, tuple) else (v,):
                self._finite(node, q)
            if p.choices and v not in p.choices:
                self.fail("R404", f"{p.name}={v!r} is not allowed for {op.name}()", node.span,
                          f"choose one of: {', '.join(p.choices)}")
        return self._guard(node, op.impl, self.ctx, *values)

    def _guard(self, node, fn, *args):
        try:
            return fn(*args)
        except Fail as f:
            self.fail(f.code, f.message, node.span, f.hint)
        except ProgramRuntimeError:
            raise
        except (ValueError, ArithmeticError, IndexError, KeyError, TypeError, AttributeError) as exc:
            self.fail("R404", f"the operation failed: {exc}", node.span, "check the argument values and types")


_DISPATCH = {
    ast.Num: _Runner.e_num, ast.Str: _Runner.e_str, ast.BoolLit: _Runner.e_bool, ast.Name: _Runner.e_name,
    ast.ListExpr: _Runner.e_list, ast.Attribute: _Runner.e_attr, ast.Index: _Runner.e_index,
    ast.Unary: _Runner.e_unary, ast.BinOp: _Runner.e_binop, ast.Compare: _Runner.e_compare,
    ast.BoolOp: _Runner.e_boolop, ast.Call: _Runner.e_call,
}
_PARAM_INDEX: dict[str, dict[str, int]] = {}


def _param_index(op) -> dict[str, int]:
    idx = _PARAM_INDEX.get(op.name)
    if idx is None:
        idx = _PARAM_INDEX[op.name] = {p.name: i for i, p in enumerate(op.params)}
    return idx


def _short(v) -> str:
    k = kind_of(v)
    if k == "Object":
        return f"{v.category} #{v.id}"
    if k == "Number":
        return f"{answer_text(v)} {v.unit}" if v.unit != "none" else answer_text(v)
    text = answer_text(v)
    return text if len(text) <= 80 else text[:77] + "..."


def run_checked(program: ast.Program, memory, limits: Limits | None = None) -> RunResult:
    """Run a program that has already passed :func:`spatialmem.dsl.check.check` for ``memory``.

    Raises:
        ProgramRuntimeError: with one runtime diagnostic (code ``R4xx``) at the failing expression.
    """
    return _Runner(program, memory, limits or Limits()).run()
