"""Parser: spans, statement separators, multi-line calls, caching, syntax diagnostics with carets."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from spatialmem.dsl import ast, parse, parser
from spatialmem.dsl.parser import MAX_SOURCE_CHARS, _parse_uncached
from spatialmem.errors import ProgramError


def test_spans_point_at_source_text():
    src = 'v = stand_at(the("sofa"), facing=the("tv"))\nanswer(direction(v, the("lamp")))'
    prog = parse(src)
    assign, stmt = prog.statements
    assert isinstance(assign, ast.Assign) and assign.target == "v"
    call = assign.value
    assert isinstance(call, ast.Call) and call.func == "stand_at"
    assert (call.span.line, call.span.column, call.span.end_column) == (1, 5, 44)
    assert src.splitlines()[0][call.span.column - 1:call.span.end_column - 1] == call_text(src)
    kw = call.kwargs[0]
    assert kw.name == "facing" and kw.value.func == "the"
    inner = stmt.expr.args[0].args[1]
    assert inner.span.line == 2 and src.splitlines()[1][inner.span.column - 1:inner.span.end_column - 1] == \
        'the("lamp")'


def call_text(src: str) -> str:
    return src.splitlines()[0][4:]


def test_nodes_are_frozen():
    prog = parse("answer(1)")
    with pytest.raises(dataclasses.FrozenInstanceError):
        prog.statements[0].expr.func = "other"  # type: ignore[misc]


def test_operator_precedence_and_unary():
    e = parse("answer(-1 + 2 * 3 < 4 and not true or false)").statements[0].expr.args[0]
    assert isinstance(e, ast.BoolOp) and e.op == "or"
    left = e.left
    assert left.op == "and" and isinstance(left.right, ast.Unary) and left.right.op == "not"
    cmp_ = left.left
    assert isinstance(cmp_, ast.Compare) and cmp_.op == "<"
    s = cmp_.left
    assert s.op == "+" and isinstance(s.left, ast.Unary) and s.right.op == "*"


def test_separators_comments_and_multiline():
    src = "# head\n\na = 1;b = 2  # trailing\nanswer(min([\n  a,\n  b,\n]))\n"
    prog = parse(src)
    assert [type(s).__name__ for s in prog.statements] == ["Assign", "Assign", "ExprStmt"]
    assert prog.statements[2].expr.args[0].args[0].items[1].span.line == 6


def test_literals():
    e = parse("answer([1, 2.5, .5, 1e2, 'a\\'b', \"c\", True, false])").statements[0].expr.args[0]
    vals = [i.value for i in e.items]
    assert vals == [1.0, 2.5, 0.5, 100.0, "a'b", "c", True, False]
    assert e.items[0].is_int and not e.items[1].is_int


def test_names_that_start_with_keywords_are_names():
    prog = parse("notable = 1\ntruex = 2\nanswer(notable + truex)")
    assert [s.target for s in prog.statements[:2]] == ["notable", "truex"]


def test_parse_is_cached_and_equal_to_uncached():
    src = 'answer(count(objects("chair")))'
    assert parse(src) is parse(src)
    assert _parse_uncached(src) == parse(src)


@pytest.mark.parametrize(
    "src, code, line, column",
    [
        ("answer(", "E100", 1, 8),
        ("x = 1\nanswer(x +)", "E100", 2, 11),
        ('answer("abc)', "E100", 1, 8),
        ("answer(1 2)", "E100", 1, 10),
        ("for x in y:\n  answer(x)", "E101", 1, 1),
        ("x = 1\nimport os", "E101", 2, 1),
        ("f = lambda x: x", "E101", 1, 5),
        ("answer(a @ b)", "E100", 1, 10),
    ],
)
def test_syntax_diagnostics(src, code, line, column):
    with pytest.raises(ProgramError) as info:
        parse(src)
    (d,) = info.value.diagnostics
    assert (d.code, d.line, d.column) == (code, line, column), d.render()
    text = d.render()
    lines = text.splitlines()
    assert lines[0].startswith(f"{code} {line}:{column}: ")
    assert lines[1] == "  " + src.splitlines()[line - 1]
    assert lines[2].index("^") == column + 1  # caret under the offending column
    assert d.hint and lines[-1].startswith("  hint: ")


def test_keyword_inside_string_is_not_flagged():
    with pytest.raises(ProgramError) as info:
        parse('answer("for" "x")')
    assert info.value.diagnostics[0].code == "E100"


def test_program_length_limit():
    with pytest.raises(ProgramError) as info:
        parse("answer(1)\n" * (MAX_SOURCE_CHARS // 10 + 1))
    assert info.value.diagnostics[0].code == "E300"


def test_non_text_program():
    with pytest.raises(ProgramError):
        parse(b"answer(1)")  # type: ignore[arg-type]


def _lark_tokens(lark, src: str) -> list[tuple]:
    """Tokens of lark's own basic lexer for the grammar, newlines inside () and [] dropped."""
    out, depth = [], 0
    for t in lark.lex(src):
        depth += t.type in ("LPAR", "LSQB")
        depth = max(0, depth - (t.type in ("RPAR", "RSQB")))
        if t.type == "_NL" and depth:
            continue
        out.append((t.type, str(t), t.line, t.column, t.end_line, t.end_column, t.start_pos, t.end_pos))
    return out


def test_tokenizer_matches_lark_lexer_on_the_compliance_programs():
    import json

    from lark import Lark
    from lark.exceptions import UnexpectedCharacters

    lark = Lark(parser._GRAMMAR.read_text(encoding="utf-8"), parser="lalr", lexer="basic")
    lexer = parser._Lexer(parser._parser().lexer_conf)
    progs = [json.loads(line)["program"] for path in sorted((Path(__file__).parent / "cases").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    progs += ["x = [1,\n 2]  # c\nanswer(true and not x or False) ; y = a.b[0] \\\n + 1e-3", "answer(1)\r\n\n"]
    compared = 0
    for src in progs:
        try:
            want = _lark_tokens(lark, src)
        except UnexpectedCharacters as exc:
            with pytest.raises(UnexpectedCharacters) as info:
                list(lexer.lex(src))
            assert (info.value.pos_in_stream, info.value.line, info.value.column) == \
                (exc.pos_in_stream, exc.line, exc.column)
            continue
        got = [(t.type, str(t), t.line, t.column, t.end_line, t.end_column, t.start_pos, t.end_pos)
               for t in lexer.lex(src)]
        assert got == want, src
        compared += 1
    assert compared >= 150


def test_unknown_escape_is_kept_without_a_warning():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prog = parser._parse_uncached('answer("a\\q")')
    assert prog.statements[0].expr.args[0].value == "a\\q"
