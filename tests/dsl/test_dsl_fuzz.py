"""Fuzzing the query language on fixed seeds: parse + check + run never lets a foreign exception out.

Three generators, all deterministic (``random.Random(seed)``):

* grammar-directed programs built from the op declarations (:data:`spatialmem.dsl.ops.OPS` and
  :data:`~spatialmem.dsl.ops.ATTRIBUTES`): random operations with arguments of the right and wrong
  kinds, keyword arguments (unknown, repeated, misplaced), weird string and number literals;
* mutants of the compliance-suite programs (``tests/dsl/cases``): characters and tokens deleted,
  inserted, duplicated and swapped;
* nesting through every argument position of every operation (positional, extra positional,
  keyword, unknown keyword, list item) to depths 40 and 400, which must always be refused with the
  nesting diagnostic (``E300``, "nested deeper than ...").

Every program goes through :func:`parse`, :func:`check` and :func:`run_checked` with the normal
:class:`Limits` over the shared fixture memories. Only :class:`~spatialmem.errors.ProgramError`
(and its runtime subclass) may come out of parse and run; ``check`` returns diagnostics with
declared codes and raises nothing. Counts of generated cases and of each outcome have floors, so
the test cannot pass on an empty or degenerate sample.
"""

from __future__ import annotations

import json
import random
import re
import traceback
from collections import Counter
from pathlib import Path

import pytest
from lark.exceptions import UnexpectedEOF, UnexpectedToken

from spatialmem.dsl import Limits, check, parse
from spatialmem.dsl import diagnostics as D
from spatialmem.dsl import parser as dsl_parser
from spatialmem.dsl import types as T
from spatialmem.dsl.check import MAX_DEPTH
from spatialmem.dsl.interpreter import run_checked
from spatialmem.dsl.lalr import Rejected
from spatialmem.dsl.ops import ATTRIBUTES, OPS, Op
from spatialmem.dsl.parser import MAX_SOURCE_CHARS
from spatialmem.dsl.types import Kind
from spatialmem.errors import ProgramError

CASES_DIR = Path(__file__).parent / "cases"
MEMORY_WEIGHTS = {"living": 6, "points": 2, "empty": 1, "boxes_only": 1}
NESTING_MESSAGE = f"nested deeper than {MAX_DEPTH} levels"

# ------------------------------------------------------------------ literal pools
CATEGORIES = ["sofa", "tv", "bed", "door", "table", "chair", "lamp", "trash bin", "refrigerator", "box", "ball"]
WEIRD_TEXT = [
    "", " ", "Sofa ", "chairs", "trash_bin", "sofá", "ñandú", "椅子", "🛋️", "\u202etv", "zero\u200bwidth",
    "a" * 300, "x\tY", "\\ud800", "\\udfff\\ud800", "\\x00", "\\u0000", "\\N{BOGUS}", "\\N{GREEK SMALL LETTER ALPHA}",
    "\\", "\\q", "'", '\\"', "#not a comment", "A. left", "left_right", "answer(1)",
]
NUMBERS = [  # in-range sizes stay small: render(width=2000) is valid but slow on a shared machine
    "0", "1", "2", "3", "7", "16", "17.5", "64", "100", "0.5", ".5", "5.", "1e3", "1E-3", "00012", "0.0",
    "1e308", "1.7976931348623157e308", "1e309", "1e-400", "9" * 400, "4.9e-324", "2049",
    "123456789012345678901234567890",
]
WEIRD_CHARS = list("()[]{},.=:;\"'#\\\n\t +-*/<>!_aZ09") + ["é", "\u200b", "\ud800", "\x00", "𝔘", "\r", "\x0c", "…"]


def _quote(rng: random.Random, text: str) -> str:
    q = rng.choice(['"', "'"])
    return q + text.replace(q, "\\" + q) + q


class ProgramGenerator:
    """Random programs following the grammar, with arguments chosen from the op declarations."""

    def __init__(self, rng: random.Random, max_depth: int = 4) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.names: dict[str, Kind] = {}
        self.wild = 0.1  # how often a leaf is weird or a kind is wrong; set per program
        self.producers: dict[Kind, list[tuple[str, object]]] = {}
        for o in OPS.values():
            for k in o.returns.kinds():
                self.producers.setdefault(k, []).append(("op", o))
        for (owner, name), a in ATTRIBUTES.items():
            for k in a.type.kinds():
                self.producers.setdefault(k, []).append(("attr", (owner, name)))

    # -------------------------------------------------------------- literals
    def number(self) -> str:
        r = self.rng
        if r.random() < self.wild:
            return r.choice(NUMBERS)
        return r.choice(NUMBERS[:9]) if r.random() < 0.7 else f"{r.uniform(-50, 50):.{r.randint(0, 3)}f}"

    def text(self, choices: tuple[str, ...] = ()) -> str:
        r = self.rng
        if r.random() < self.wild:
            return _quote(r, r.choice(WEIRD_TEXT))
        return _quote(r, r.choice(list(choices) or CATEGORIES))

    def literal(self, kind: Kind | None = None) -> str:
        r = self.rng
        kind = kind or r.choice([Kind.NUMBER, Kind.TEXT, Kind.BOOL, Kind.LIST])
        if kind is Kind.NUMBER:
            return self.number()
        if kind is Kind.TEXT:
            return self.text()
        if kind is Kind.BOOL:
            return r.choice(["true", "false", "True", "False"])
        if kind is Kind.LIST:
            items = (self.literal(r.choice([Kind.NUMBER, Kind.TEXT])) for _ in range(r.randint(0, 3)))
            return "[" + ", ".join(items) + "]"
        names = [n for n, k in self.names.items() if k is kind]
        return r.choice(names) if names else self.number()

    # -------------------------------------------------------------- expressions
    def expr(self, want: T.Type | None = None, depth: int = 0) -> str:
        r = self.rng
        if want is None or r.random() < self.wild:  # any kind, or deliberately the wrong one
            want = T.Type(r.choice([k for k in Kind if k not in (Kind.UNION, Kind.ANY, Kind.NOTHING)]))
        if want.kind is Kind.UNION:
            want = r.choice([o for o in want.options if o.kind is not Kind.NOTHING] or [T.ANY])
        kind = want.kind
        if kind is Kind.ANY:
            kind = r.choice([Kind.NUMBER, Kind.OBJECT, Kind.TEXT, Kind.LIST, Kind.VIEW, Kind.BOOL])
        names = [n for n, k in self.names.items() if k is kind]
        if names and r.random() < 0.25:
            return r.choice(names)
        if r.random() < self.wild / 4:
            return r.choice(["undefined_name", "nan", "inf", "None", "objects", "x" * 60])
        if depth >= self.max_depth:
            return self.literal(kind if kind in (Kind.NUMBER, Kind.TEXT, Kind.BOOL, Kind.LIST) else None)
        if kind is Kind.NUMBER and r.random() < 0.5:
            return self._number_expr(depth)
        if kind is Kind.BOOL and r.random() < 0.7:
            return self._bool_expr(depth)
        if kind is Kind.TEXT and r.random() < 0.6:
            return self.text()
        if kind is Kind.LIST and r.random() < 0.6:
            elem = want.elem or T.Type(r.choice([Kind.NUMBER, Kind.TEXT, Kind.OBJECT]))
            n = r.choice([0, 1, 2, 3, 4, 70])  # 70: over the per-argument item limit
            items = [self.expr(elem, depth + 1) for _ in range(n if n < 70 else r.choice([3, 70]))]
            return "[" + ", ".join(items) + (r.choice(["]", ",]"]) if items else "]")
        if r.random() < 0.07:
            return f"({self.expr(want, depth + 1)})"
        if r.random() < 0.07:
            return f"{self.expr(T.Type(Kind.LIST), depth + 1)}[{self.literal(Kind.NUMBER)}]"
        producers = self.producers.get(kind)
        if not producers:
            return self.literal()
        what, target = r.choice(producers)
        if what == "attr":
            owner, name = target
            return f"{self.expr(T.Type(owner), depth + 1)}.{name if r.random() < 0.9 else 'bogus'}"
        return self.call(target, depth + 1)

    def _number_expr(self, depth: int) -> str:
        r = self.rng
        a, b = self.expr(T.NUM, depth + 1), self.expr(T.NUM, depth + 1)
        return r.choice([f"{a} {r.choice('+-*/')} {b}", f"-{a}", f"+{a}", f"{a}/0", f"{a} * 1e308"])

    def _bool_expr(self, depth: int) -> str:
        r = self.rng
        a, b = self.expr(None, depth + 1), self.expr(None, depth + 1)
        op = r.choice(["<", "<=", ">", ">=", "==", "!=", "and", "or"])
        return f"not {a}" if r.random() < 0.15 else f"{a} {op} {b}"

    def argument(self, o: Op, i: int, depth: int) -> str:
        p = o.params[i]
        if p.choices and self.rng.random() < 0.7:
            return self.text(p.choices)
        if p.category and self.rng.random() < 0.5:
            if p.type.kind is Kind.LIST or Kind.LIST in p.type.kinds() and self.rng.random() < 0.5:
                return "[" + ", ".join(self.text() for _ in range(self.rng.randint(0, 4))) + "]"
            return self.text()
        return self.expr(p.type, depth)

    def call(self, o: Op, depth: int) -> str:
        r = self.rng
        n = len(o.params)
        keep = [i for i in range(n) if o.params[i].required or r.random() < 0.5]
        if r.random() < self.wild and keep:
            keep.remove(r.choice(keep))  # a missing argument
        n_pos = r.randint(0, len(keep))
        parts = [self.argument(o, i, depth) for i in keep[:n_pos]]
        kws = [(o.params[i].name, self.argument(o, i, depth)) for i in keep[n_pos:]]
        if r.random() < self.wild:
            kws.append((r.choice(["bogus", "key", "to", "among", "value", "category"]), self.expr(None, depth)))
        if r.random() < self.wild / 2 and kws:
            kws.append(kws[0])  # repeated keyword
        if r.random() < self.wild / 2:
            parts.append(self.expr(None, depth))  # extra positional
        r.shuffle(kws)
        args = parts + [f"{k}={v}" for k, v in kws]
        if r.random() < self.wild / 3 and args:
            args.insert(0, args.pop())  # keyword before positional
        sep = r.choice([", ", ",", " ,\n  "])
        return f"{o.name}({sep.join(args)}{r.choice(['', ',']) if args else ''})"

    # -------------------------------------------------------------- programs
    def program(self) -> str:
        r = self.rng
        self.names = {}
        self.wild = r.choice([0.0, 0.02, 0.05, 0.15])
        lines = []
        for i in range(r.randint(0, 4)):
            kind = r.choice([Kind.OBJECT, Kind.OBJECTS, Kind.VIEW, Kind.NUMBER, Kind.TEXT, Kind.LIST, Kind.CAMERA])
            lines.append(f"x{i} = {self.expr(T.Type(kind))}")
            self.names[f"x{i}"] = kind
        if r.random() < 0.15:
            lines.append(f"look({self.expr(T.IMAGE)})")
        if r.random() < 0.1:
            lines.append(f"{r.choice(list(OPS))} = 1")  # reserved name
        final = r.random()
        if final < 0.8:
            lines.append(f"answer({self.expr(None)})")
        elif final < 0.9:
            lines.append(f'answer(choose(["A. {r.choice(CATEGORIES)}", "B. left", "C. 2"], {self.expr(None)}))')
        elif final < 0.95:
            lines += [f"answer({self.literal()})", f"answer({self.literal()})"]
        sep = r.choice(["\n", "\n", "; ", "\n\n", "  # c\n", " \\\n; "])
        return sep.join(lines)


# ------------------------------------------------------------------ mutation
_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|\w+|\S')


def _same_class(rng: random.Random, token: str) -> str:
    """Another token of the same class (a name, a number, a string), so the program often stays valid."""
    if token[0] in "\"'":
        return _quote(rng, rng.choice(CATEGORIES + WEIRD_TEXT))
    if token[0].isdigit() or token[0] == ".":
        return rng.choice(NUMBERS)
    if token[0].isalpha() or token[0] == "_":
        return rng.choice(list(OPS) + [n for _, n in ATTRIBUTES] + ["x", "true", "not"])
    return rng.choice(["+", "-", "*", "/", "<", "==", ",", "."])


def mutate(rng: random.Random, src: str) -> str:
    """``src`` with 1..3 random character or token edits (half of them keep the token's class)."""
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        choice = rng.random()
        if choice > 0.5:
            toks = [(m.start(), m.end()) for m in _TOKEN.finditer(src)]
            if toks:
                a0, a1 = rng.choice(toks)
                src = src[:a0] + _same_class(rng, src[a0:a1]) + src[a1:]
            continue
        choice /= 0.5
        if choice < 0.4 or not src:  # character edits
            pos = rng.randrange(len(src) + 1)
            edit = rng.choice(["delete", "insert", "swap"])
            if edit == "insert" or not src:
                src = src[:pos] + rng.choice(WEIRD_CHARS) + src[pos:]
            elif edit == "delete":
                src = src[:pos] + src[pos + 1:]
            elif pos + 1 < len(src):
                src = src[:pos] + src[pos + 1] + src[pos] + src[pos + 2:]
            continue
        toks = [(m.start(), m.end()) for m in _TOKEN.finditer(src)]
        if len(toks) < 2:
            continue
        i, j = sorted(rng.sample(range(len(toks)), 2))
        (a0, a1), (b0, b1) = toks[i], toks[j]
        edit = rng.choice(["delete", "duplicate", "swap", "replace"])
        if edit == "delete":
            src = src[:a0] + src[a1:]
        elif edit == "duplicate":
            src = src[:a1] + " " + src[a0:a1] + src[a1:]
        elif edit == "swap":
            src = src[:a0] + src[b0:b1] + src[a1:b0] + src[a0:a1] + src[b1:]
        else:
            new = rng.choice([rng.choice(list(OPS)), rng.choice(NUMBERS), _quote(rng, rng.choice(WEIRD_TEXT)),
                              "(", ")", "[", "]", ",", "=", "not", "and", ".", "for", "lambda", "\n"])
            src = src[:a0] + new + src[a1:]
    return src


def _corpus() -> list[str]:
    programs = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                programs.append(json.loads(line)["program"])
    return programs


# ------------------------------------------------------------------ nesting through every argument position
PRELUDE = ('o = the("sofa")\ns = objects("chair")\nv = stand_at(o, facing=the("tv"))\nc = camera(0)\n'
           't = "chair"\nn = 1\nts = ["chair"]\n')
HOLE = "\x00HOLE\x00"


def _filler(p) -> str:
    kinds = p.type.kinds() - {Kind.NOTHING}
    k = next(iter(sorted(kinds, key=lambda k: k.value)))
    if p.choices:
        return f'"{p.choices[0]}"'
    if k is Kind.LIST:
        elem = (p.type if p.type.kind is Kind.LIST else next(o for o in p.type.options if o.kind is Kind.LIST)).elem
        return {Kind.OBJECT: "[o]", Kind.TEXT: "ts"}.get(elem.kind if elem else Kind.ANY, "[n]")
    return {Kind.OBJECT: "o", Kind.OBJECTS: "s", Kind.VIEW: "v", Kind.CAMERA: "c", Kind.TEXT: "t",
            Kind.BOOL: "true", Kind.IMAGE: "topdown()"}.get(k, "n")


def nesting_templates() -> list[tuple[str, str]]:
    """``(label, template)``: one call per argument position of every op, with :data:`HOLE` at that position."""
    out = [("unknown-op", f"frobnicate(n, {HOLE})")]
    for o in OPS.values():
        ps = o.params
        for i, p in enumerate(ps):
            before = [_filler(q) for q in ps[:i]]
            after = [f"{q.name}={_filler(q)}" for q in ps[i + 1:] if q.required]
            out.append((f"{o.name}:{p.name}:positional", f"{o.name}({', '.join(before + [HOLE] + after)})"))
            others = [f"{q.name}={_filler(q)}" for q in ps if q.required and q is not p]
            out.append((f"{o.name}:{p.name}:keyword", f"{o.name}({', '.join(others + [f'{p.name}={HOLE}'])})"))
            out.append((f"{o.name}:{p.name}:list", f"{o.name}({', '.join(before + [f'[{HOLE}]'] + after)})"))
        full = [_filler(q) for q in ps]
        out.append((f"{o.name}:extra-positional", f"{o.name}({', '.join(full + [HOLE])})"))
        out.append((f"{o.name}:unknown-keyword", f"{o.name}({', '.join(full + [f'bogus={HOLE}'])})"))
    return out


def nested_program(template: str, depth: int, assign: bool) -> str:
    pre, post = template.split(HOLE)
    expr = pre * depth + "1" + post * depth
    return PRELUDE + (f"x = {expr}\nanswer(x)" if assign else f"answer({expr})")


# ------------------------------------------------------------------ the pipeline under test
def exercise(src: str, memory) -> tuple[str, tuple]:
    """Parse, check and run ``src``; ``(stage that stopped it or "ok", its diagnostics)``.

    Lets any exception other than :class:`ProgramError` escape (parse, run), and any exception at all
    from ``check``, which reports problems only as diagnostics.
    """
    try:
        program = parse(src)
    except ProgramError as exc:
        return "parse", exc.diagnostics
    diags = check(program, memory)
    if diags:
        return "check", tuple(diags)
    try:
        run_checked(program, memory, Limits())
    except ProgramError as exc:
        return "run", exc.diagnostics
    return "ok", ()


def _run_all(programs: list[tuple[str, str]], memories) -> tuple[Counter, list[str]]:
    """Outcome counts and a report of every failure (foreign exception or undeclared diagnostic)."""
    outcomes: Counter = Counter()
    failures = []
    for mem_name, src in programs:
        try:
            stage, diags = exercise(src, memories[mem_name])
        except Exception:  # noqa: BLE001 - the point of the test: report what escaped, with the program
            failures.append(f"--- {mem_name}: {src!r}\n{traceback.format_exc(limit=-4)}")
            continue
        outcomes[stage] += 1
        bad = [d for d in diags if d.code not in D.CODES or not d.message]
        if (stage != "ok" and not diags) or bad:
            failures.append(f"--- {mem_name}: {src!r}\n{stage} without a declared diagnostic: {diags}")
    return outcomes, failures


def _memory_names(rng: random.Random, n: int) -> list[str]:
    return rng.choices(list(MEMORY_WEIGHTS), weights=list(MEMORY_WEIGHTS.values()), k=n)


def test_grammar_directed_programs(memories):
    programs = []
    for seed in range(5):
        rng = random.Random(1000 + seed)
        gen = ProgramGenerator(rng)
        for mem_name in _memory_names(rng, 100):
            programs.append((mem_name, gen.program()))
    assert len(programs) >= 500
    outcomes, failures = _run_all(programs, memories)
    assert failures == [], "\n".join(failures[:5])
    # every stage is reached often enough: the generator exercises the interpreter, not only the parser
    assert min(outcomes[s] for s in ("parse", "check", "run", "ok")) >= 15, outcomes


def test_mutated_compliance_programs(memories):
    corpus = _corpus()
    assert len(corpus) >= 150
    programs = []
    for seed in range(4):
        rng = random.Random(2000 + seed)
        for mem_name, src in zip(_memory_names(rng, len(corpus)), corpus):
            programs.append((mem_name, mutate(rng, src)))
    assert len(programs) >= 800
    outcomes, failures = _run_all(programs, memories)
    assert failures == [], "\n".join(failures[:5])
    floors = {"parse": 100, "check": 50, "run": 5, "ok": 15}
    assert all(outcomes[s] >= n for s, n in floors.items()), outcomes


TEMPLATES = nesting_templates()


def test_nesting_templates_cover_every_argument_position():
    labels = {label for label, _ in TEMPLATES}
    for o in OPS.values():
        for p in o.params:
            assert {f"{o.name}:{p.name}:{form}" for form in ("positional", "keyword", "list")} <= labels
        assert f"{o.name}:extra-positional" in labels
    assert len(TEMPLATES) >= 5 * len(OPS)


# depth 400 on every 17th template (all forms; parsing ~3,000 tokens per program is what costs)
DEEP_SAMPLE = TEMPLATES[::17]


def test_deep_sample_covers_every_form():
    forms = {label.split(":")[-1] for label, _ in DEEP_SAMPLE}
    assert forms == {"unknown-op", "positional", "keyword", "list", "extra-positional", "unknown-keyword"}


@pytest.mark.parametrize(("depth", "templates"), [(MAX_DEPTH + 8, TEMPLATES), (400, DEEP_SAMPLE)],
                         ids=["depth-40-every-position", "depth-400-sample"])
def test_deep_nesting_through_every_argument_position_is_refused(depth, templates, living):
    failures = []
    for n, (label, template) in enumerate(templates):
        src = nested_program(template, depth, assign=n % 2 == 1)
        assert len(src) <= MAX_SOURCE_CHARS, f"{label}: the nesting program must fit the length limit"
        try:
            stage, diags = exercise(src, living)
        except Exception:  # noqa: BLE001
            failures.append(f"{label}: {traceback.format_exc(limit=-3)}")
            continue
        if stage != "check" or not any(d.code == D.LIMITS and NESTING_MESSAGE in d.message for d in diags):
            failures.append(f"{label}: {stage} {[d.code + ' ' + d.message for d in diags][:3]}")
    assert failures == [], "\n".join(failures[:10])


# ------------------------------------------------------------------ the fast LALR driver against lark's own parser
def _outcome(parse_fn, src: str):
    """The AST statements ``parse_fn`` gives for ``src``, or the class of the exception it raises."""
    try:
        return parse_fn(src)
    except Exception as exc:  # noqa: BLE001  # the kind of failure is the outcome compared
        return type(exc)


def test_fast_driver_matches_lark_parser():
    """Same statements from the fast driver as from lark's parser, and a refusal wherever lark refuses.

    Both run the table and callbacks lark builds from grammar.lark; the fast driver skips unit
    reductions and uses tuple tokens. Its syntax refusals (``Rejected``) are re-parsed by lark for
    the diagnostic, so here it only has to refuse the same programs; a failing callback (a number
    out of range, a bad string) must fail the same way in both.
    """
    driver, lexer = dsl_parser._fast()
    lark = dsl_parser._parser()
    corpus = _corpus()
    programs = list(corpus)
    for seed in range(3):
        rng = random.Random(3000 + seed)
        programs += [mutate(rng, src) for src in corpus]
    gen = ProgramGenerator(random.Random(4000))
    programs += [gen.program() for _ in range(200)]
    outcomes: Counter = Counter()
    for src in programs:
        want, got = _outcome(lark.parse, src), _outcome(lambda s: driver.parse(lexer.scan(s)), src)
        if want in (UnexpectedToken, UnexpectedEOF):
            assert got is Rejected, src
        else:
            assert got == want, src
        outcomes["refused" if isinstance(want, type) else "parsed"] += 1
    assert outcomes["parsed"] >= 500 and outcomes["refused"] >= 100, outcomes
