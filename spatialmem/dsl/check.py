"""Static checking: every problem found before anything runs, as repairable diagnostics.

Checks unknown operations (closest names), arity and keywords, types and units, allowed values
(e.g. direction schemes), use before assignment, a missing ``answer(...)``, category names that are
not in the memory (closest categories and common synonyms), list/program sizes and nesting depth.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection

from spatialmem.dsl import ast
from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import types as T
from spatialmem.dsl.diagnostics import Diagnostic, make
from spatialmem.dsl.ops import ATTRIBUTES, OPS, Op, Param, attributes_of
from spatialmem.dsl.types import Kind, Mismatch
from spatialmem.memory.scene import SceneMemory
from spatialmem.vocab import OP_ALIASES, category_hint, closest_choice

MAX_STATEMENTS = 100
MAX_LIST_LITERAL = 256
MAX_DEPTH = 32


def scan(node: ast.Node, limit: int = MAX_DEPTH) -> tuple[ast.Node | None, list[ast.Call]]:
    """One walk of ``node``: the first node (pre-order) nested more than ``limit`` levels below it (or
    None), and every ``answer(...)`` call in it, in source order.

    Iterative, so it is safe on any depth; it follows every argument position (positional and keyword
    arguments, list items, operands, attribute and index bases) through :func:`spatialmem.dsl.ast.children`.
    """
    deep: ast.Node | None = None
    answers: list[ast.Call] = []
    stack: list[tuple[ast.Node, int]] = [(node, 0)]
    while stack:
        n, depth = stack.pop()
        if depth > limit and deep is None:
            deep = n
        if type(n) is ast.Call and n.func == "answer":
            answers.append(n)
        stack.extend((c, depth + 1) for c in reversed(ast.children(n)))
    return deep, answers


def check(program: ast.Program, memory: SceneMemory | None = None) -> list[Diagnostic]:
    """All static problems of ``program`` (empty list = it may run).

    Args:
        program: a parsed program.
        memory: a SceneMemory; when given, literal category names are checked against it.
    """
    return _Checker(program, memory).run()


class _Checker:
    def __init__(self, program: ast.Program, memory: SceneMemory | None) -> None:
        self.program = program
        self.src = program.source
        self.diags: list[Diagnostic] = []
        self.env: dict[str, T.Type] = {}
        self.cats = memory.categories() if memory is not None else None

    def err(self, code: str, message: str, span: ast.Span | None, hint: str = "") -> T.Type:
        self.diags.append(make(code, message, span, self.src, hint))
        return T.ANY

    # ------------------------------------------------------------ program
    def run(self) -> list[Diagnostic]:
        sts = self.program.statements
        if len(sts) > MAX_STATEMENTS:
            self.err(D.LIMITS, f"the program has {len(sts)} statements; the limit is {MAX_STATEMENTS}",
                     sts[MAX_STATEMENTS].span, "compute only what the question needs")
            return self.diags
        answers: list[ast.Call] = []
        for st in sts:
            deep, found = scan(st.value if isinstance(st, ast.Assign) else st.expr)
            answers += found
            if deep is not None:  # nothing below is walked recursively: the limit holds however it is reached
                self.err(D.LIMITS, f"expression nested deeper than {MAX_DEPTH} levels", deep.span,
                         "assign intermediate results to names")
                if isinstance(st, ast.Assign):
                    self.env[st.target] = T.ANY
                continue
            if isinstance(st, ast.Assign):
                t = self.expr(st.value, 0)
                if st.target in OPS:
                    self.err(D.RESERVED_NAME, f"'{st.target}' is an operation name and cannot be assigned",
                             st.target_span, f"pick another name, e.g. {st.target}_value = ...")
                elif t.kind is Kind.NOTHING:
                    self.err(D.TYPE, f"'{st.target}' would hold nothing: the right side returns no value", st.span,
                             "answer(...) and look(...) return nothing; call them as statements")
                self.env[st.target] = t
            else:
                self.expr(st.expr, 0)
        if not answers:
            last = sts[-1].span if sts else None
            self.err(D.MISSING_ANSWER, "the program never calls answer(...)", last,
                     "end the program with answer(value), e.g. answer(x) or answer(choose(options, x))")
        for extra in answers[1:]:
            self.err(D.MULTIPLE_ANSWERS,
                     f"answer(...) is called {len(answers)} times; a program gives exactly one answer", extra.span,
                     "compute the value first (x = ...) and call answer(x) once, at the end")
        return self.diags

    # ------------------------------------------------------------ expressions
    def expr(self, node: ast.Node, depth: int) -> T.Type:
        if depth > MAX_DEPTH:
            return self.err(D.LIMITS, f"expression nested deeper than {MAX_DEPTH} levels", node.span,
                            "assign intermediate results to names")
        if isinstance(node, ast.Call):
            return self.call(node, depth + 1)
        if isinstance(node, ast.Num):
            return T.PLAIN
        if isinstance(node, ast.Str):
            return T.TEXT
        if isinstance(node, ast.BoolLit):
            return T.BOOL
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.ListExpr):
            return self.list_expr(node, depth + 1)
        if isinstance(node, ast.Attribute):
            return self.attribute(node, depth + 1)
        if isinstance(node, ast.Index):
            return self.index(node, depth + 1)
        if isinstance(node, ast.Unary):
            return self.unary(node, depth + 1)
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth + 1)
        if isinstance(node, ast.Compare):
            return self.compare(node, depth + 1)
        if isinstance(node, ast.BoolOp):
            lt, rt = self.expr(node.left, depth + 1), self.expr(node.right, depth + 1)
            for side, t in ((node.left, lt), (node.right, rt)):
                if T.mismatch(t, T.BOOL):
                    self.err(D.TYPE, f"'{node.op}' needs true/false values, got {t}", side.span,
                             "compare numbers first, e.g. distance(a, b) < 1")
            return T.BOOL
        return self.err(D.SYNTAX, "unsupported expression", node.span)  # pragma: no cover

    def name(self, node: ast.Name) -> T.Type:
        t = self.env.get(node.id)
        if t is not None:
            return t
        if node.id in OPS:
            hint = f"'{node.id}' is an operation: call it, e.g. {OPS[node.id].example}"
        elif self.cats is not None and node.id.replace("_", " ") in self.cats:
            hint = f'to get that object write the("{node.id.replace("_", " ")}") or objects("...")'
        else:
            close = difflib.get_close_matches(node.id, list(self.env), n=3, cutoff=0.6)
            hint = (f"did you mean {', '.join(close)}? " if close else "") + \
                f"assign {node.id} before using it ({node.id} = ...); strings need quotes"
        return self.err(D.UNDEFINED_NAME, f"'{node.id}' is used before it is assigned", node.span, hint)

    def list_expr(self, node: ast.ListExpr, depth: int) -> T.Type:
        if len(node.items) > MAX_LIST_LITERAL:
            self.err(D.LIMITS, f"list of {len(node.items)} items; the limit is {MAX_LIST_LITERAL}", node.span,
                     "use a shorter list")
        elem: T.Type | None = None
        for item in node.items:
            t = self.expr(item, depth)
            if t.kind is Kind.ANY:
                continue
            if elem is None:
                elem = t
                continue
            why = T.mismatch(t, elem)
            if why is Mismatch.UNIT or (why is None and t.kind is Kind.NUMBER and elem.unit == "none"
                                        and t.unit != "none"):
                if why is Mismatch.UNIT:
                    self.err(D.UNIT, f"list mixes {elem} and {t}", item.span,
                             "convert first so every number has the same unit (to_cm / to_m)")
                else:
                    elem = t
            elif why is Mismatch.TYPE:
                self.err(D.TYPE, f"list mixes {elem} and {t}", item.span, "all items of a list must have one type")
        return T.list_of(elem or T.ANY)

    def attribute(self, node: ast.Attribute, depth: int) -> T.Type:
        base = self.expr(node.value, depth)
        if base.kind is Kind.ANY:
            return T.ANY
        a = ATTRIBUTES.get((base.kind, node.attr))
        if a is not None:
            return a.type
        names = attributes_of(base.kind)
        if base.kind is Kind.OBJECTS and ((Kind.OBJECT, node.attr) in ATTRIBUTES):
            hint = "this is a set of objects: pick one first with the(...), first(...), nearest(...)"
        elif node.attr in OPS:
            hint = f"operations are called, not attributes: {OPS[node.attr].example}"
        elif names:
            close = difflib.get_close_matches(node.attr, names, n=1, cutoff=0.5)
            hint = (f"did you mean .{close[0]}? " if close else "") + f"{base} has: {', '.join(names)}"
        else:
            hint = f"{base} has no attributes"
        return self.err(D.UNKNOWN_ATTRIBUTE, f"{base} has no attribute '{node.attr}'", node.attr_span, hint)

    def index(self, node: ast.Index, depth: int) -> T.Type:
        base, it = self.expr(node.value, depth), self.expr(node.index, depth)
        if T.mismatch(it, T.PLAIN):
            self.err(D.TYPE, f"an index must be a plain number, got {it}", node.index.span, "e.g. xs[0]")
        if base.kind is Kind.LIST:
            return base.elem or T.ANY
        if base.kind is Kind.OBJECTS:
            return T.OBJECT
        if base.kind is Kind.ANY:
            return T.ANY
        return self.err(D.TYPE, f"{base} cannot be indexed", node.span, "only lists and object sets take [i]")

    def unary(self, node: ast.Unary, depth: int) -> T.Type:
        t = self.expr(node.operand, depth)
        if node.op == "not":
            if T.mismatch(t, T.BOOL):
                return self.err(D.TYPE, f"'not' needs true/false, got {t}", node.operand.span)
            return T.BOOL
        if t.kind is Kind.ANY:
            return T.ANY
        if t.kind is not Kind.NUMBER:
            return self.err(D.TYPE, f"'{node.op}' needs a number, got {t}", node.operand.span)
        return t

    def binop(self, node: ast.BinOp, depth: int) -> T.Type:
        lt, rt = self.expr(node.left, depth), self.expr(node.right, depth)
        bad = [(s, t) for s, t in ((node.left, lt), (node.right, rt)) if t.kind not in (Kind.NUMBER, Kind.ANY)]
        for side, t in bad:
            self.err(D.TYPE, f"'{node.op}' needs numbers, got {t}", side.span,
                     "use a number attribute or operation, e.g. the(\"sofa\").height or distance(a, b)")
        if bad or Kind.ANY in (lt.kind, rt.kind):
            return T.ANY if bad or lt.kind is Kind.ANY or rt.kind is Kind.ANY else lt
        fn = {"+": T.add_unit, "-": T.add_unit, "*": T.mul_unit, "/": T.div_unit}[node.op]
        try:
            return T.number(fn(lt.unit, rt.unit))
        except ValueError as exc:
            return self.err(D.UNIT, f"unit mismatch: {exc}", node.span,
                            "convert explicitly (to_cm / to_m) or combine quantities of the same kind")

    def compare(self, node: ast.Compare, depth: int) -> T.Type:
        lt, rt = self.expr(node.left, depth), self.expr(node.right, depth)
        if Kind.ANY in (lt.kind, rt.kind):
            return T.BOOL
        if node.op in ("==", "!=") and lt.kind == rt.kind and lt.kind is not Kind.NUMBER:
            return T.BOOL
        if lt.kind is not Kind.NUMBER or rt.kind is not Kind.NUMBER:
            self.err(D.TYPE, f"cannot compare {lt} {node.op} {rt}", node.span,
                     "compare numbers with < <= > >=, or values of one kind with == / !=")
            return T.BOOL
        try:
            T.compare_unit(lt.unit, rt.unit)
        except ValueError as exc:
            self.err(D.UNIT, f"unit mismatch: {exc}", node.span, "compare quantities of the same unit")
        return T.BOOL

    # ------------------------------------------------------------ calls
    def call(self, node: ast.Call, depth: int) -> T.Type:
        op = OPS.get(node.func)
        if op is None:
            for a in node.args:
                self.expr(a, depth)
            for k in node.kwargs:
                self.expr(k.value, depth)
            close = difflib.get_close_matches(node.func, list(OPS), n=3, cutoff=0.6)
            alias = OP_ALIASES.get(node.func)
            if alias and alias not in close:
                close.insert(0, alias)
            hint = (f"did you mean {', '.join(close)}? " if close else "") + \
                "the reference lists every operation; only those can be called"
            return self.err(D.UNKNOWN_OP, f"unknown operation '{node.func}'", node.func_span, hint)
        bound = self.bind(op, node, depth)
        if bound is None:
            return T.ANY
        types: dict[str, T.Type] = {}
        for p in op.params:
            arg = bound.get(p.name)
            if arg is None:
                continue
            t = types[p.name] = self.expr(arg, depth)
            self.argument(op, p, arg, t)
        if op.unit_from and op.returns.kind is Kind.NUMBER:
            src = types.get(op.unit_from, T.ANY)
            if src.kind is Kind.LIST:
                src = src.elem or T.ANY
            return T.number(src.unit) if src.kind is Kind.NUMBER else T.NUM
        return op.returns

    def bind(self, op: Op, node: ast.Call, depth: int) -> dict[str, ast.Node] | None:
        ok = True
        bound: dict[str, ast.Node] = {}
        names = [p.name for p in op.params]
        if len(node.args) > len(op.params):
            self.err(D.ARITY, f"{op.name}() takes {len(op.params)} argument(s) but {len(node.args)} were given",
                     node.args[len(op.params)].span, f"signature: {op.signature()}")
            ok = False
        for p, a in zip(op.params, node.args):
            bound[p.name] = a
        for k in node.kwargs:
            if k.name not in names:
                close = difflib.get_close_matches(k.name, names, n=1, cutoff=0.5)
                hint = (f"did you mean {close[0]}=? " if close else "") + f"signature: {op.signature()}"
                self.err(D.KEYWORD, f"{op.name}() has no parameter '{k.name}'", k.span, hint)
                ok = False
            elif k.name in bound:
                self.err(D.KEYWORD, f"{op.name}() got '{k.name}' twice", k.span, f"signature: {op.signature()}")
                ok = False
            else:
                bound[k.name] = k.value
        for p in op.params:
            if p.required and p.name not in bound:
                self.err(D.ARITY, f"{op.name}() is missing the argument '{p.name}' ({p.type})", node.span,
                         f"signature: {op.signature()}; example: {op.example}")
                ok = False
        if not ok:
            for a in node.args[len(op.params):]:
                self.expr(a, depth)
        return bound if ok else None

    def argument(self, op: Op, p: Param, arg: ast.Node, t: T.Type) -> None:
        if t.kind is Kind.NOTHING:
            inner = f"{arg.func}(...)" if isinstance(arg, ast.Call) else "it"
            self.err(D.TYPE, f"argument '{p.name}' of {op.name}() has no value: {inner} returns nothing", arg.span,
                     "answer(...) and look(...) return nothing; call them as separate statements, "
                     "e.g. look(topdown()) on one line and answer(x) on the next")
            return
        why = T.mismatch(t, p.type)
        if why is Mismatch.UNIT:
            self.err(D.UNIT, f"argument '{p.name}' of {op.name}() must be {p.type}, got {t}", arg.span,
                     f"convert explicitly (to_cm / to_m); signature: {op.signature()}")
            return
        if why is Mismatch.TYPE:
            hint = f"signature: {op.signature()}"
            want = p.type.kinds()
            if t.kind is Kind.TEXT and Kind.OBJECT in want and isinstance(arg, ast.Str):
                hint = f'pass an object, e.g. the("{arg.value}"); ' + hint
            elif t.kind is Kind.OBJECTS and Kind.OBJECT in want:
                hint = "this is a set of objects; pick one with the(...), first(...), nearest(...); " + hint
            elif t.kind is Kind.OBJECT and Kind.OBJECTS in want:
                hint = 'pass a set, e.g. objects("chair"); ' + hint
            elif t.kind is Kind.NOTHING:
                hint = "that call returns nothing; " + hint
            self.err(D.TYPE, f"argument '{p.name}' of {op.name}() must be {p.type}, got {t}", arg.span, hint)
            return
        if p.choices and isinstance(arg, ast.Str) and arg.value not in p.choices:
            close = [c for c in [closest_choice(arg.value, p.choices)] if c]
            self.err(D.BAD_VALUE, f"{p.name}={arg.value!r} is not allowed for {op.name}()", arg.span,
                     (f"did you mean {close[0]!r}? " if close else "") + f"choose one of: {', '.join(p.choices)}")
        if isinstance(arg, ast.ListExpr) and len(arg.items) > p.max_items:
            self.err(D.LIMITS, f"{op.name}() accepts at most {p.max_items} items in '{p.name}', got {len(arg.items)}",
                     arg.span, "pass fewer items")
        if p.range is not None and isinstance(arg, ast.Num) and arg.value not in p.range:
            self.err(D.LIMITS if p.range.resource else D.BAD_VALUE, f"{p.name}={arg.value:g} is outside {p.range}",
                     arg.span, f"e.g. {op.example}")
        if p.category and self.cats is not None:
            lits = [arg] if isinstance(arg, ast.Str) else \
                [i for i in arg.items if isinstance(i, ast.Str)] if isinstance(arg, ast.ListExpr) else []
            for lit in lits:
                self.category(lit, self.cats)

    def category(self, lit: ast.Str, cats: Collection[str]) -> None:
        name = lit.value.strip().lower()
        if name in cats:
            return
        self.err(D.UNKNOWN_CATEGORY, f'category "{lit.value}" is not in this memory', lit.span,
                 category_hint(name, cats))
