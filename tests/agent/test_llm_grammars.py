"""The decoding grammars generated from grammar.lark accept exactly what the DSL parser accepts.

The GBNF text (and the generated lark text) is read back by an independent, small reader written here
(rules, strings, character classes, groups, ``* + ?``) and run by a memoised recogniser over every
compliance-suite program: each program the DSL parser accepts must be accepted (with its comments
removed: the decoding grammars leave comments out on purpose, see ``DECODE_EXCLUDES``), each syntax
error (E100 / E101) rejected.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lark import Lark
from lark.exceptions import LarkError

from spatialmem.agent.grammars import DECODE_EXCLUDES, gbnf, lark_ebnf
from spatialmem.dsl import parse
from spatialmem.errors import ProgramError

CASES_DIR = Path(__file__).resolve().parent.parent / "dsl" / "cases"
EXTRA_VALID = [
    'v = stand_at(the("sofa"),\n    facing=the("tv"))\n'
    'answer(choose(["A. left", "B. right"],\n  direction(v, the("lamp"))))',
    "x = 1  # a comment\n\n  y = x + 2; answer(x * y)",
    "answer(not 1 < 2 and true or False)",
    "answer(-1.5e3 + .5 - 2.)",
    "answer(['a', \"b\\\"c\",])",
    "x = 1 + \\\n 2\nanswer(x)",
]
EXTRA_INVALID = ["answer(1", "answer(1))", "x = = 1", "answer(1 2)", "answer(aand b)",
                 "answer('x)", "a.b(1)", "answer(1)\n)", "answer(1 < 2 < 3)"]


_STRING_OR_COMMENT = re.compile(r'''"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|(?P<comment>#[^\n]*)''')


def without_comments(program: str) -> str:
    """``program`` with its ``#`` comments cut (a ``#`` inside a string literal is kept)."""
    return _STRING_OR_COMMENT.sub(lambda m: "" if m.group("comment") else m.group(0), program)


def _cases() -> tuple[list[str], list[str]]:
    accepted, rejected = [], []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            program = json.loads(line)["program"]
            try:
                parse(program)
            except ProgramError as exc:
                if exc.diagnostics and exc.diagnostics[0].code in ("E100", "E101"):
                    rejected.append(program)
                continue
            accepted.append(program)
    return accepted, rejected


ACCEPTED, REJECTED = _cases()


# ------------------------------------------------------------------ an independent grammar reader
# Reads GBNF (``name ::= body``) and the generated lark text (``name: body``, /[class]/ regexes) into
# rules of alternatives; a memoised recursive-descent recogniser (sets of end positions) runs them.
_TOKEN = re.compile(r'\s*(?:(?P<def>::=|:)|(?P<name>[A-Za-z0-9_-]+)|(?P<str>"(?:[^"\\]|\\.)*")|'
                    r'/(?P<rx>\[(?:[^\]\\]|\\.)*\])/|(?P<cls>\[(?:[^\]\\]|\\.)*\])|(?P<op>[()|*+?]))')
_ESC = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "[": "[", "]": "]", "/": "/", "-": "-", "^": "^"}


def _unescape(body: str) -> list[int]:
    out, i = [], 0
    while i < len(body):
        if body[i] == "\\":
            if body[i + 1] == "x":
                out.append(int(body[i + 2:i + 4], 16))
                i += 4
            else:
                out.append(ord(_ESC[body[i + 1]]))
                i += 2
        else:
            out.append(ord(body[i]))
            i += 1
    return out


def _char_class(body: str):
    neg = body.startswith("^")
    items = re.findall(r"\\x[0-9A-Fa-f]{2}|\\.|[^\\]", body[1:] if neg else body)
    ranges, k = [], 0
    while k < len(items):
        a = _unescape(items[k])[0]
        if k + 2 < len(items) and items[k + 1] == "-":
            ranges.append((a, _unescape(items[k + 2])[0]))
            k += 3
        else:
            ranges.append((a, a))
            k += 1
    return ("cls", tuple(ranges), neg)


def read_grammar(text: str, comment: str) -> dict:
    """``{rule: ("alt", [seq, ...])}``; a seq is a list of ("str", s) | ("cls", ranges, neg) | ("ref", n)
    | ("grp", alt, quant)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(comment))
    tokens, pos = [], 0
    while text[pos:].strip():
        m = _TOKEN.match(text, pos)
        assert m, f"unreadable grammar text at {text[pos:pos + 40]!r}"
        tokens.append((m.lastgroup, m.group(m.lastgroup)))
        pos = m.end()
    starts = [i for i in range(len(tokens) - 1) if tokens[i][0] == "name" and tokens[i + 1][0] == "def"]
    rules = {}
    for n, i in enumerate(starts):
        body = tokens[i + 2:starts[n + 1] if n + 1 < len(starts) else len(tokens)]
        rules[tokens[i][1]], rest = _alternatives(body, 0)
        assert rest == len(body), f"trailing tokens in rule {tokens[i][1]}"
    return rules


def _alternatives(toks, i):
    alts, seq = [], []
    while i < len(toks) and toks[i] != ("op", ")"):
        kind, val = toks[i]
        if (kind, val) == ("op", "|"):
            alts.append(seq)
            seq = []
            i += 1
            continue
        if (kind, val) == ("op", "("):
            inner, i = _alternatives(toks, i + 1)
            assert toks[i] == ("op", ")")
            item = ("grp", inner, "")
        elif kind == "str":
            item = ("str", "".join(chr(c) for c in _unescape(val[1:-1])))
        elif kind in ("cls", "rx"):
            item = _char_class(val[1:-1])
        elif kind == "name":
            item = ("ref", val)
        else:
            raise AssertionError(f"unexpected {val!r}")
        i += 1
        if i < len(toks) and toks[i][0] == "op" and toks[i][1] in "*+?":
            item = ("grp", item[1] if item[0] == "grp" else ("alt", [[item]]), toks[i][1])
            i += 1
        seq.append(item)
    alts.append(seq)
    return ("alt", alts), i


def recognises(rules: dict, root: str, text: str) -> bool:
    """Whether ``rules`` derive exactly ``text`` from ``root``."""
    memo: dict = {}

    def alt(node, pos) -> frozenset:
        key = (id(node), pos)
        if key not in memo:
            memo[key] = frozenset().union(*(seq(s, 0, pos) for s in node[1]))
        return memo[key]

    def seq(items, k, pos) -> frozenset:
        if k == len(items):
            return frozenset([pos])
        key = (id(items), k, pos)
        if key not in memo:
            memo[key] = frozenset().union(*(seq(items, k + 1, e) for e in item(items[k], pos)))
        return memo[key]

    def item(it, pos) -> frozenset:
        kind = it[0]
        if kind == "str":
            return frozenset([pos + len(it[1])]) if text.startswith(it[1], pos) else frozenset()
        if kind == "cls":
            if pos >= len(text):
                return frozenset()
            inside = any(a <= ord(text[pos]) <= b for a, b in it[1])
            return frozenset([pos + 1]) if inside != it[2] else frozenset()
        if kind == "ref":
            return alt(rules[it[1]], pos)
        inner, quant = it[1], it[2]
        if quant in "*+" and len(inner[1]) == 1 and len(inner[1][0]) == 1 and inner[1][0][0][0] == "cls":
            cls = inner[1][0][0]  # a run of one character class: it may end anywhere along the run
            end = pos
            while end < len(text) and any(a <= ord(text[end]) <= b for a, b in cls[1]) != cls[2]:
                end += 1
            return frozenset(range(pos + (quant == "+"), end + 1)) if end > pos or quant == "*" else frozenset()
        once = alt(inner, pos)
        if quant == "":
            return once
        if quant == "?":
            return once | {pos}
        ends, todo = set(once), [e for e in once if e > pos]
        while todo:  # repetition: keep going while it makes progress
            for e in alt(inner, todo.pop()):
                if e not in ends:
                    ends.add(e)
                    todo.append(e)
        return frozenset(ends | ({pos} if quant == "*" else set()))

    return len(text) in alt(rules[root], 0)


@pytest.fixture(scope="module")
def grammars() -> dict:
    return {"gbnf": (read_grammar(gbnf(), "#"), "root"), "lark": (read_grammar(lark_ebnf(), "//"), "start")}


def _accepts(grammars, which: str, program: str) -> bool:
    rules, root = grammars[which]
    return recognises(rules, root, program)


def test_the_suite_has_both_kinds_of_case():
    assert len(ACCEPTED) >= 250 and len(REJECTED) >= 12
    for program in EXTRA_VALID:
        parse(program)  # the DSL parser itself accepts the extra valid programs
    for program in EXTRA_INVALID:
        with pytest.raises(ProgramError):
            parse(program)


@pytest.mark.parametrize("which", ["gbnf", "lark"])
def test_generated_grammar_accepts_every_valid_program(which, grammars):
    refused = [p for p in ACCEPTED + EXTRA_VALID if not _accepts(grammars, which, without_comments(p))]
    assert refused == []


@pytest.mark.parametrize("which", ["gbnf", "lark"])
def test_decoding_grammars_leave_comments_out(which, grammars):
    assert DECODE_EXCLUDES == ("COMMENT",)
    with_comment = [p for p in ACCEPTED + EXTRA_VALID if without_comments(p) != p]
    assert len(with_comment) >= 3
    assert [p for p in with_comment if _accepts(grammars, which, p)] == []
    assert without_comments('x = "a # b"  # c\nanswer(x)') == 'x = "a # b"  \nanswer(x)'
    assert _accepts(grammars, which, 'answer(["#1", \'#2\'])')


@pytest.mark.parametrize("which", ["gbnf", "lark"])
def test_generated_grammar_rejects_every_syntax_error(which, grammars):
    let_through = [p for p in REJECTED + EXTRA_INVALID if _accepts(grammars, which, p)]
    assert let_through == []


def test_lark_text_is_a_grammar_lark_itself_runs():
    parser = Lark(lark_ebnf(), parser="earley", lexer="dynamic")
    for program in EXTRA_VALID[:3]:
        parser.parse(without_comments(program))
    with pytest.raises(LarkError):
        parser.parse(EXTRA_INVALID[0])


def test_grammars_are_generated_from_the_grammar_file():
    text = gbnf()
    assert text.startswith("# generated from spatialmem/dsl/grammar.lark")
    assert "root ::= ws program" in text
    assert lark_ebnf().splitlines()[1].startswith("start: ")
    # no left recursion survives (llama.cpp refuses left-recursive rules)
    for line in text.splitlines()[1:]:
        name, body = line.split(" ::= ", 1)
        assert not any(alt.strip().split(" ")[0] == name for alt in body.split(" | ")), line
