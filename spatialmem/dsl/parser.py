"""Parsing: program text -> :class:`~spatialmem.dsl.ast.Program` (frozen nodes with spans).

The syntax lives only in ``grammar.lark``; one LALR parser instance is built lazily and cached.
Programs are parsed by the fast driver of :mod:`spatialmem.dsl.lalr` over that parser's own table and
callbacks; on any failure lark's parser parses again, so every error is lark's.
Syntax errors raise :class:`~spatialmem.errors.ProgramError` carrying one ``E100``/``E101``/``E300``
:class:`~spatialmem.dsl.diagnostics.Diagnostic` with the source line, a caret and a repair hint.
"""

from __future__ import annotations

import ast as _pyast
import functools
import math
import re
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.lexer import Lexer

from spatialmem.dsl import ast
from spatialmem.dsl.diagnostics import Diagnostic, make
from spatialmem.dsl.lalr import Driver, LightToken
from spatialmem.errors import ProgramError

MAX_SOURCE_CHARS = 20_000
_GRAMMAR = Path(__file__).with_name("grammar.lark")
_OPEN, _CLOSE = {"LPAR", "LSQB"}, {"RPAR", "RSQB"}
_UNSUPPORTED = {
    "for": "loops are not part of the language; use objects(...), count(...), where(...), sort_by(...)",
    "while": "loops are not part of the language; write the steps one after the other",
    "if": "conditionals are not part of the language; compute the value and use choose(...) or comparisons",
    "import": "imports are not allowed; every operation is already available by name",
    "from": "imports are not allowed; every operation is already available by name",
    "def": "functions cannot be defined; assign intermediate values to names instead",
    "lambda": "lambdas are not part of the language; use sort_by(objs, key=...) or where(...)",
    "class": "classes are not part of the language",
    "return": "there is no return; end the program with answer(value)",
    "with": "'with' is not part of the language",
    "try": "exceptions are not part of the language",
    "print": "print is not available; end the program with answer(value)",
}
_FRIENDLY = {
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "COMMA": "','", "DOT": "'.'",
    "EQUAL": "'='", "NAME": "a name", "NUMBER": "a number", "STRING": "a string", "_NL": "a new line",
    "SEMICOLON": "';'", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'", "COMP_OP": "a comparison",
    "$END": "the end of the program", "TRUE": "true", "FALSE": "false", "NOT": "'not'", "AND": "'and'",
    "OR": "'or'",
}


_SURROGATE = re.compile("[\ud800-\udfff]")
_STRINGS = re.compile(r'"([^"\\\n]|\\.)*"?|\'([^\'\\\n]|\\.)*\'?')
_KEYWORDS = re.compile(r"(?<![\w.])(" + "|".join(k for k in _UNSUPPORTED if k != "print") + r")(?![\w(])")


class _NumberOutOfRange(Exception):
    """Raised from the number callback for a literal that is not a finite float."""

    def __init__(self, token: Token) -> None:
        super().__init__(str(token))
        self.token = token


class _BadString(Exception):
    """Raised from the string callback for a literal whose escapes do not make text (a lone surrogate)."""

    def __init__(self, token: Token, why: str) -> None:
        super().__init__(why)
        self.token = token


class _Lexer(Lexer):
    """The tokenizer: ONE compiled alternation of the grammar's own terminals, in lark's order.

    Built from ``grammar.lark`` (no token is defined here), it does what lark's basic lexer does
    (keywords such as ``true``/``and`` are names re-typed by their exact text; ignored terminals are
    dropped) with one regex scan and one tuple per token (:meth:`scan`, read by the fast driver of
    :mod:`spatialmem.dsl.lalr`; :meth:`lex` wraps them as lark Tokens for lark's own parser), many
    times faster than lark's general lexer. It also drops newlines inside () and [] so calls and
    lists may span several lines. Raises lark's ``UnexpectedCharacters`` where nothing matches.
    """

    __future_interface__ = 0  # lex(text): the custom-lexer interface every lark 1.x accepts

    def __init__(self, conf) -> None:
        terms = sorted(conf.terminals, key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name))
        regex_terms = [t for t in terms if t.pattern.type == "re"]
        self.keywords: dict[tuple[str, str], str] = {}  # (regex terminal, exact text) -> string terminal
        kept = []
        for t in terms:
            if t.pattern.type == "str":
                owner = next((r for r in regex_terms if r.priority == t.priority
                              and re.fullmatch(r.pattern.to_regexp(), t.pattern.value)), None)
                if owner is not None:
                    self.keywords[(owner.name, t.pattern.value)] = str(t.name)  # exact str: fast dict lookups
                    continue
            kept.append(t)
        self.pattern = re.compile("|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in kept),
                                  conf.g_regex_flags)
        self.ignore = frozenset(conf.ignore)
        self.keyword_types = frozenset(name for name, _ in self.keywords)

    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]  # lark's custom lexers take the text
        for t in self.scan(text):
            yield Token(*t)

    def scan(self, text: str) -> Iterator[tuple[str, str, int, int, int, int, int, int]]:
        """Tokens as tuples ``(type, value, start_pos, line, column, end_line, end_column, end_pos)``.

        Lines and columns are 1-based, positions 0-based (lark's ``Token`` fields, in its order).
        """
        ignore, keywords, keyword_types = self.ignore, self.keywords, self.keyword_types
        pos, line, line_start, depth = 0, 1, 0, 0
        for mt in self.pattern.finditer(text):  # lark refuses zero-width terminals: a gap is an unknown character
            start, end = mt.span()
            if start != pos:
                break
            kind, value = mt.lastgroup or "", mt.group()
            start_line, column = line, pos - line_start + 1
            if "\n" in value:
                line += value.count("\n")
                line_start = pos + value.rfind("\n") + 1
            pos = end
            if kind in ignore:
                continue
            if kind in _OPEN:
                depth += 1
            elif kind in _CLOSE:
                depth = max(0, depth - 1)
            elif kind == "_NL":
                if depth:
                    continue
            elif kind in keyword_types:
                kind = keywords.get((kind, value), kind)
            yield kind, value, start, start_line, column, line, end - line_start + 1, end
        if pos < len(text):
            raise UnexpectedCharacters(text, pos, line, pos - line_start + 1)


@functools.lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer=_Lexer,
        transformer=_ToAst(),
        maybe_placeholders=True,
    )


@functools.lru_cache(maxsize=1)
def _fast() -> tuple[Driver, _Lexer]:
    """The fast LALR driver over the lark parser's own table and callbacks, with a tuple tokenizer."""
    lark = _parser()
    return Driver(lark), _Lexer(lark.lexer_conf)


def _parse_statements(source: str) -> Any:
    """The start rule's value (the statements) by the fast driver; lark's parser on any failure.

    On a syntax error, a bad token or a failing callback lark parses again and raises its own
    exception, so every diagnostic is the one lark's parser gives.
    """
    driver, lexer = _fast()
    try:
        return driver.parse(lexer.scan(source))
    except Exception:  # noqa: BLE001  # lark's parse below raises the error to report
        return _parser().parse(source)


def _tspan(tok: Token) -> ast.Span:
    if type(tok) is LightToken:  # the fast driver's tokens: (type, value, start, line, column, end_line, end_col, end)
        return ast.Span(tok[3], tok[4], tok[5], tok[6])
    line, column = tok.line or 1, tok.column or 1  # (lark types positions as optional; our tokens have them)
    return ast.Span(line, column, tok.end_line or line, tok.end_column or column)


def _join(a, b) -> ast.Span:
    """Span from the start of ``a`` to the end of ``b`` (tokens or nodes)."""
    sa = a.span if isinstance(a, ast.Node) else _tspan(a)
    sb = b.span if isinstance(b, ast.Node) else _tspan(b)
    return ast.Span(sa.line, sa.column, sb.end_line, sb.end_column)


class _ToAst(Transformer):
    """Parse callbacks (run inline by the LALR parser: no intermediate tree) building frozen AST nodes."""

    def start(self, c):
        return tuple(c)

    def assign(self, c):
        return ast.Assign(_join(c[0], c[1]), str(c[0]), c[1], _tspan(c[0]))

    def expr_stmt(self, c):
        return ast.ExprStmt(c[0].span, c[0])

    def or_op(self, c):
        return ast.BoolOp(_join(c[0], c[1]), "or", c[0], c[1])

    def and_op(self, c):
        return ast.BoolOp(_join(c[0], c[1]), "and", c[0], c[1])

    def not_op(self, c):
        return ast.Unary(_join(c[0], c[1]), "not", c[1])

    def compare(self, c):
        return ast.Compare(_join(c[0], c[2]), str(c[1]), c[0], c[2])

    def binop(self, c):
        return ast.BinOp(_join(c[0], c[2]), str(c[1]), c[0], c[2])

    def unary(self, c):
        return ast.Unary(_join(c[0], c[1]), str(c[0]), c[1])

    def call(self, c):
        args, kwargs = [], []
        for a in c[2] or ():
            (kwargs if isinstance(a, ast.Keyword) else args).append(a)
        return ast.Call(_join(c[0], c[3]), str(c[0]), tuple(args), tuple(kwargs), _tspan(c[0]))

    def arguments(self, c):
        return c

    def kwarg(self, c):
        return ast.Keyword(_join(c[0], c[1]), str(c[0]), c[1])

    def attr(self, c):
        return ast.Attribute(_join(c[0], c[1]), c[0], str(c[1]), _tspan(c[1]))

    def index(self, c):
        return ast.Index(_join(c[0], c[3]), c[0], c[2])

    def number(self, c):
        text = str(c[0])
        try:
            value = float(text)  # correctly rounded, like float(int(text)), without the int digit limit
        except (ValueError, OverflowError):
            value = math.inf
        if not math.isfinite(value):
            raise _NumberOutOfRange(c[0])
        return ast.Num(_tspan(c[0]), value, text.isdigit())

    def string(self, c):
        value = _unquote(str(c[0]))
        if not value.isascii() and _SURROGATE.search(value):
            raise _BadString(c[0], "an escape such as \\ud800 makes a lone surrogate, which is not text")
        return ast.Str(_tspan(c[0]), value)

    def true(self, c):
        return ast.BoolLit(_tspan(c[0]), True)

    def false(self, c):
        return ast.BoolLit(_tspan(c[0]), False)

    def name(self, c):
        return ast.Name(_tspan(c[0]), str(c[0]))

    def list(self, c):
        return ast.ListExpr(_join(c[0], c[2]), tuple(c[1] or ()))

    def items(self, c):
        return c

    def paren(self, c):
        return c[1]


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    try:
        with warnings.catch_warnings():  # an unknown escape such as \q stays as written, without a warning
            warnings.simplefilter("ignore")
            return str(_pyast.literal_eval(text))
    except (ValueError, SyntaxError):  # an odd escape: keep the text as written
        return body


@functools.lru_cache(maxsize=256)
def _parse_cached(source: str) -> ast.Program:
    return _parse_uncached(source)


def _parse_uncached(source: str) -> ast.Program:
    try:
        statements = _parse_statements(source)
    except _NumberOutOfRange as exc:
        raise ProgramError(*_number_error(exc.token, source)) from None
    except _BadString as exc:
        d = make("E100", f"bad string literal: {exc}", _tspan(exc.token), source,
                 hint="write plain text; to mean a backslash, write \\\\")
        raise ProgramError(d.render(), (d,)) from None
    except VisitError as exc:  # a callback failed: an out-of-range number or a malformed string escape
        if isinstance(exc.orig_exc, _NumberOutOfRange):
            raise ProgramError(*_number_error(exc.orig_exc.token, source)) from None
        d = Diagnostic("E100", f"bad string literal: {exc.orig_exc}", hint="write plain quoted text, e.g. \"sofa\"")
        raise ProgramError(d.render(), (d,)) from None
    return ast.Program(tuple(cast("list[ast.Statement]", statements)), source)


def _number_error(tok: Token, source: str) -> tuple[str, tuple[Diagnostic]]:
    shown = str(tok) if len(str(tok)) <= 24 else str(tok)[:20] + "..."
    d = make("E300", f"number out of range: {shown} is not a finite number", _tspan(tok), source,
             hint=f"numbers must stay below about {sys.float_info.max:.1e}; write a smaller literal")
    return d.render(), (d,)


def parse(source: str) -> ast.Program:
    """Parse program text into a frozen :class:`~spatialmem.dsl.ast.Program`.

    Identical sources share one (immutable) Program object (LRU cache of 256 programs).

    Raises:
        ProgramError: with one diagnostic (code ``E100`` syntax, ``E101`` unsupported construct,
            ``E300`` program too long or a number literal out of range).
    """
    if not isinstance(source, str):
        raise ProgramError("program must be text", (Diagnostic("E100", "the program must be a string"),))
    if len(source) > MAX_SOURCE_CHARS:
        d = Diagnostic("E300", f"program is {len(source)} characters long; the limit is {MAX_SOURCE_CHARS}",
                       hint="write a shorter program: a few assignments and one answer(...)")
        raise ProgramError(d.render(), (d,))
    bad = None if source.isascii() else _SURROGATE.search(source)
    if bad is not None:  # e.g. undecodable bytes passed through the command line
        line = source.count("\n", 0, bad.start()) + 1
        column = bad.start() - (source.rfind("\n", 0, bad.start()) + 1) + 1
        d = Diagnostic("E100", f"the program contains a character that is not valid text ({ascii(bad.group())})",
                       line, column, "write the program as UTF-8 text")
        raise ProgramError(d.render(), (d,))
    try:
        return _parse_cached(source)
    except UnexpectedInput as exc:
        d = syntax_diagnostic(exc, source)
        raise ProgramError(d.render(), (d,)) from None


def syntax_diagnostic(exc: UnexpectedInput, source: str) -> Diagnostic:
    """Turn a lark error into an ``E100``/``E101`` diagnostic with a repair hint."""
    lines = source.splitlines() or [""]
    line = getattr(exc, "line", None) or len(lines)
    column = getattr(exc, "column", None) or 1
    text = _STRINGS.sub(lambda mt: " " * len(mt.group(0)), lines[line - 1]) if 0 < line <= len(lines) else ""
    kw = _KEYWORDS.search(text)
    if kw is not None:
        word, col = kw.group(1), kw.start(1) + 1
        span = ast.Span(line, col, line, col + len(word))
        return make("E101", f"'{word}' is not supported in this language", span, source, hint=_UNSUPPORTED[word])
    if isinstance(exc, UnexpectedEOF) or (isinstance(exc, UnexpectedToken) and exc.token.type == "$END"):
        line = len(lines)
        column = len(lines[-1]) + 1
        span = ast.Span(line, column, line, column + 1)
        exp = _expected(exc)
        return make("E100", f"the program ended too early; expected {exp}", span, source,
                    hint="close every '(' , '[' and quote, and finish the last expression")
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        ch = source[pos] if pos < len(source) else ""
        span = ast.Span(line, column, line, column + 1)
        if ch in "\"'":
            return make("E100", "unterminated string", span, source,
                        hint=f"close the string with a matching {ch} on the same line")
        hint = "use only names, numbers, strings, lists [...], calls f(x, key=value), attributes a.b and + - * /"
        if ch == ":":
            hint = "':' is not used (no blocks, dicts or slices); " + hint
        elif ch == "{":
            hint = "dictionaries are not part of the language; " + hint
        return make("E100", f"unexpected character {ch!r}", span, source, hint=hint)
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        span = ast.Span(tok.line, tok.column, tok.end_line or tok.line, tok.end_column or tok.column + 1)
        value = str(tok)
        if tok.type == "NAME" and value in _UNSUPPORTED:
            return make("E101", f"'{value}' is not supported in this language", span, source,
                        hint=_UNSUPPORTED[value])
        shown = "a new line" if tok.type == "_NL" else repr(value)
        hint = "separate statements with new lines or ';'; calls look like op(arg, key=value)"
        if tok.type == "EQUAL" or value == "=":
            hint = "assignments look like name = expression; use == to compare"
        elif tok.type in ("NAME", "STRING", "NUMBER", "LPAR", "LSQB"):
            hint = "a ',' or an operator may be missing before it; " + hint
        return make("E100", f"unexpected {shown}; expected {_expected(exc)}", span, source, hint=hint)
    return Diagnostic("E100", f"syntax error: {exc}", line, column, "", lines[line - 1] if line <= len(lines) else "")


def _expected(exc) -> str:
    names = sorted({_FRIENDLY.get(e, e.lower()) for e in (getattr(exc, "expected", None) or ()) if e != "_NL"})
    if not names:
        return "more input"
    if len(names) > 6:
        names = names[:6] + ["..."]
    return ", ".join(names)
