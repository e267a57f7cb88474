"""Decoding grammars for LLM servers, generated from the DSL's one grammar file (``dsl/grammar.lark``).

Two texts are produced from the same character-level intermediate form, never written by hand:

* :func:`gbnf` - llama.cpp's GBNF (the ``grammar`` field of its OpenAI-compatible server and of
  llama-cpp-python's server);
* :func:`lark_ebnf` - a self-contained lark grammar (for vLLM's ``guided_grammar`` / SGLang's grammar
  backends), with no lexer tricks: whitespace, comments and line joins are explicit rules.

How the conversion works: lark compiles ``grammar.lark`` into plain BNF rules (``Lark.rules``) and
terminal patterns (``Lark.terminals``); each regex terminal is turned into character classes and
repetitions (via Python's own regex parser); ignored terminals become an explicit ``ws`` rule placed
after every token; the parser's post-lexer rule (newlines are dropped inside ``()`` and ``[]``) is
kept by emitting a second, "inside brackets" copy of each rule whose ``ws`` also takes newlines;
immediate left recursion (``sum: sum ADD_OP term | term``) is rewritten as repetition, since GBNF
engines cannot run left-recursive rules. Keyword tokens that look like names (``and``, ``or``,
``not``) need a blank on both sides, so that ``aand b`` is not read as ``a and b``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from spatialmem.errors import SpatialMemError

GRAMMAR_FILE = Path(__file__).resolve().parent.parent / "dsl" / "grammar.lark"
# the parser's post-lexer (spatialmem.dsl.parser): newline tokens are dropped inside these brackets
BRACKET_OPEN = ("LPAR", "LSQB")
BRACKET_CLOSE = ("RPAR", "RSQB")
NEWLINE_TERMINAL = "_NL"
KEYWORD_OPERATORS = ("and", "or", "not")  # word-like tokens that need a blank around them
# ignored terminals a model may not write under constrained decoding: a comment takes any text to the end
# of the line, and a small model held to the grammar wrote prose (or '####...') there until max-tokens
DECODE_EXCLUDES = ("COMMENT",)


class GrammarExportError(SpatialMemError):
    """The DSL grammar uses a construct the exporter cannot translate (names the construct)."""


# ---------------------------------------------------------------- intermediate form
@dataclass(frozen=True)
class Lit:
    """A literal string."""

    text: str


@dataclass(frozen=True)
class Chars:
    """One character from inclusive code-point ranges (``negate``: any character not in them)."""

    ranges: tuple[tuple[int, int], ...]
    negate: bool = False


@dataclass(frozen=True)
class Ref:
    """A reference to another rule."""

    name: str


@dataclass(frozen=True)
class Group:
    """``( alt | alt ... )`` with a quantifier: ``""``, ``"?"``, ``"*"`` or ``"+"``."""

    alts: tuple[tuple, ...]
    quant: str = ""


Seq = tuple  # a tuple of Lit | Chars | Ref | Group


# ---------------------------------------------------------------- regex -> items
def _regex_items(pattern: str) -> Seq:
    """A Python regex (the subset used by grammar.lark) as a sequence of items."""
    import re._constants as C  # noqa: N812 (stdlib module)
    import re._parser as P  # noqa: N812

    def cls_ranges(items) -> tuple[tuple[tuple[int, int], ...], bool]:
        ranges: list[tuple[int, int]] = []
        negate = False
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                ranges.append((av, av))
            elif op is C.RANGE:
                ranges.append(av)
            elif op is C.CATEGORY and av is C.CATEGORY_DIGIT:
                ranges.append((48, 57))
            elif op is C.CATEGORY and av is C.CATEGORY_SPACE:
                ranges += [(9, 13), (32, 32)]
            elif op is C.CATEGORY and av is C.CATEGORY_WORD:
                ranges += [(48, 57), (65, 90), (95, 95), (97, 122)]
            else:
                raise GrammarExportError(f"regex class item {op} in /{pattern}/ is not supported")
        return tuple(ranges), negate

    def seq(parsed) -> Seq:
        out: list = []
        for op, av in parsed:
            if op is C.LITERAL:
                out.append(Lit(chr(av)))
            elif op is C.NOT_LITERAL:
                out.append(Chars(((av, av),), True))
            elif op is C.ANY:
                out.append(Chars(((10, 10),), True))
            elif op is C.IN:
                out.append(Chars(*cls_ranges(av)))
            elif op is C.SUBPATTERN:
                out.append(Group((seq(av[-1]),)))
            elif op is C.BRANCH:
                out.append(Group(tuple(seq(b) for b in av[1])))
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT):
                lo, hi, sub = av
                body = Group((seq(sub),))
                if hi is C.MAXREPEAT:
                    out += [body] * max(0, lo - 1) + [Group(body.alts, "*" if lo == 0 else "+")]
                else:
                    out += [body] * lo + [Group(body.alts, "?")] * (hi - lo)
            else:
                raise GrammarExportError(f"regex construct {op} in /{pattern}/ is not supported")
        return _merge_literals(out)

    return seq(P.parse(pattern))


def _merge_literals(items: list) -> Seq:
    out: list = []
    for it in items:
        if isinstance(it, Lit) and out and isinstance(out[-1], Lit):
            out[-1] = Lit(out[-1].text + it.text)
        else:
            out.append(it)
    return tuple(out)


# ---------------------------------------------------------------- lark BNF -> rules
@dataclass(frozen=True)
class Grammar:
    """Character-level rules: ``rules[name]`` is a tuple of alternatives (each a Seq); ``root`` starts it."""

    rules: dict
    root: str


def _rule_name(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "rule"


@functools.lru_cache(maxsize=1)
def build_grammar(text: str | None = None) -> Grammar:
    """The character-level grammar of the DSL (from ``grammar.lark`` unless ``text`` is given)."""
    from lark import Lark
    from lark.lexer import PatternStr

    lk = Lark(text if text is not None else GRAMMAR_FILE.read_text(encoding="utf-8"), parser="lalr")
    terms = {t.name: t for t in lk.terminals}
    bnf: dict[str, list[list]] = {}
    for r in lk.rules:
        bnf.setdefault(r.origin.name, []).append(list(r.expansion))
    word = terms.get("NAME")
    word_re = re.compile(word.pattern.to_regexp()) if word is not None else None

    def term_items(name: str) -> Seq:
        pat = terms[name].pattern
        if isinstance(pat, PatternStr):
            return (Lit(pat.value),)
        return _regex_items(pat.to_regexp())

    def is_keyword(name: str) -> bool:
        pat = terms[name].pattern
        return (isinstance(pat, PatternStr) and pat.value in KEYWORD_OPERATORS
                and word_re is not None and bool(word_re.fullmatch(pat.value)))

    rules: dict[str, tuple] = {}
    ignore = [_unplus(term_items(n)) for n in lk.ignore_tokens if n not in DECODE_EXCLUDES]
    rules["ws"] = ((Group(tuple(ignore), "*"),),)
    nl_alts = tuple(ignore) + (_unplus(term_items(NEWLINE_TERMINAL)),)
    rules["ws-in"] = ((Group(nl_alts, "*"),),)
    # at least one blank, then any whitespace: the separation a keyword token needs from a name
    rules["blank"] = ((Chars(((9, 9), (12, 12), (32, 32))), Ref("ws")),)
    rules["blank-in"] = ((Chars(((9, 10), (12, 12), (32, 32))), Ref("ws-in")),)
    pending: list[tuple[str, bool]] = [("start", False)]
    done: set[tuple[str, bool]] = set()
    names = {}

    def ref(rule: str, inside: bool) -> Ref:
        key = (rule, inside)
        if key not in names:
            names[key] = _rule_name(rule) + ("-in" if inside else "")
            pending.append(key)
        return Ref(names[key])

    names[("start", False)] = "program"
    for name in terms:
        names[("T", name)] = "tok-" + _rule_name(name)
    while pending:
        key = pending.pop()
        if key in done:
            continue
        done.add(key)
        rule, inside = key
        alts = []
        for expansion in bnf[rule]:
            depth = 0
            items: list = []
            for sym in expansion:
                ctx = inside or depth > 0
                if not sym.is_term:
                    items.append(ref(sym.name, ctx))
                    continue
                if sym.name in BRACKET_OPEN:
                    depth += 1
                elif sym.name in BRACKET_CLOSE:
                    depth -= 1
                    if depth < 0:
                        raise GrammarExportError(f"rule {rule!r} closes a bracket it does not open")
                after = inside or depth > 0
                ws = Ref("ws-in" if after else "ws")
                if is_keyword(sym.name):
                    blank = Ref("blank-in" if ctx else "blank")
                    items += ([] if terms[sym.name].pattern.value == "not" else [blank]) + [
                        Lit(terms[sym.name].pattern.value), Ref("blank-in" if after else "blank")]
                    continue
                items.append(_term_ref(rules, names, sym.name, term_items))
                items.append(ws)
            if depth != 0:
                raise GrammarExportError(f"rule {rule!r} opens a bracket it does not close")
            alts.append(_merge_literals(items))
        rules[names[key]] = _left_factor(_remove_left_recursion(names[key], alts))
    rules["root"] = ((Ref("ws"), Ref("program")),)
    _check_no_left_recursion(rules)
    return Grammar(rules, "root")


def _unplus(items: Seq) -> Seq:
    """``(x)+`` as an alternative of a ``*`` group is just ``x`` (and far less ambiguous for a GBNF engine)."""
    if len(items) == 1 and isinstance(items[0], Group) and items[0].quant == "+" and len(items[0].alts) == 1:
        return items[0].alts[0]
    return items


def _term_ref(rules: dict, names: dict, term: str, term_items) -> Ref | Lit:
    """A token: a literal inline, a pattern as its own ``tok-...`` rule."""
    items = term_items(term)
    if len(items) == 1 and isinstance(items[0], Lit):
        return items[0]
    rname = names[("T", term)]
    rules.setdefault(rname, (items,))
    return Ref(rname)


def _remove_left_recursion(name: str, alts: list) -> tuple:
    """``A: A x | A y | b | c`` -> ``A: (b | c) (x | y)*`` (immediate left recursion only)."""
    rec = [a[1:] for a in alts if a and a[0] == Ref(name)]
    if not rec:
        return tuple(alts)
    base = [a for a in alts if not (a and a[0] == Ref(name))]
    if not base:
        raise GrammarExportError(f"rule {name!r} is only left-recursive")
    return ((Group(tuple(base)), Group(tuple(rec), "*")),)


def _left_factor(alts) -> tuple:
    """Alternatives with a common first item merged: ``a b c | a b | a d | e`` -> ``a (b c? | d) | e``.

    A GBNF engine keeps one parse stack per live alternative; unfactored, ``program`` (ten alternatives
    sharing prefixes) and the argument lists multiply the stacks the sampler tracks at every token.
    The language is unchanged; groups are factored too.
    """
    alts = [tuple(Group(_left_factor(it.alts), it.quant) if isinstance(it, Group) else it for it in a)
            for a in alts]
    firsts: dict = {}
    for a in alts:
        firsts.setdefault(a[0] if a else None, []).append(a)
    out = []
    for first, members in firsts.items():
        if first is None or len(members) == 1:
            out += members[:1] if first is None else members
            continue
        tails = _left_factor([m[1:] for m in members])
        rest = tuple(t for t in tails if t)
        if not rest:
            out.append((first,))
        elif len(rest) == 1 and len(rest) == len(tails):
            out.append((first,) + rest[0])
        else:
            out.append((first, Group(rest, "" if len(rest) == len(tails) else "?")))
    return tuple(out)


def _first_refs(seq: Seq, nullable: set[str]) -> set[str]:
    out: set[str] = set()
    for it in seq:
        if isinstance(it, Ref):
            out.add(it.name)
            if it.name not in nullable:
                return out
        elif isinstance(it, Group):
            for a in it.alts:
                out |= _first_refs(a, nullable)
            if it.quant not in ("*", "?") and not any(_seq_nullable(a, nullable) for a in it.alts):
                return out
        else:
            return out
    return out


def _seq_nullable(seq: Seq, nullable: set[str]) -> bool:
    for it in seq:
        if isinstance(it, Ref) and it.name in nullable:
            continue
        if isinstance(it, Group) and (it.quant in ("*", "?") or any(_seq_nullable(a, nullable) for a in it.alts)):
            continue
        return False
    return True


def _check_no_left_recursion(rules: dict) -> None:
    nullable: set[str] = set()
    changed = True
    while changed:
        changed = False
        for n, alts in rules.items():
            if n not in nullable and any(_seq_nullable(a, nullable) for a in alts):
                nullable.add(n)
                changed = True
    first = {n: set().union(*(_first_refs(a, nullable) for a in alts)) for n, alts in rules.items()}
    for n in rules:
        seen, stack = set(), list(first[n])
        while stack:
            m = stack.pop()
            if m == n:
                raise GrammarExportError(f"rule {n!r} is left-recursive through other rules; GBNF cannot run it")
            if m not in seen and m in first:
                seen.add(m)
                stack += first[m]


# ---------------------------------------------------------------- emitters
def _char(cp: int, extra: str, hexed: str = "") -> str:
    c = chr(cp)
    named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if c in named:
        return named[c]
    if c == "\\" or c in extra:
        return "\\" + c
    if cp < 32 or cp == 127 or c in hexed:
        return f"\\x{cp:02X}"
    return c


def _class_text(ch: Chars, extra: str, hexed: str = "") -> str:
    def one(cp: int) -> str:
        return _char(cp, extra, hexed)

    body = "".join(one(a) if a == b else f"{one(a)}-{one(b)}" for a, b in ch.ranges)
    return "[" + ("^" if ch.negate else "") + body + "]"


def _emit(g: Grammar, lit, cls, name_of, empty: str) -> list[tuple[str, str]]:
    def seq(items: Seq) -> str:
        parts = []
        for it in items:
            if isinstance(it, Lit):
                parts.append(lit(it.text))
            elif isinstance(it, Chars):
                parts.append(cls(it))
            elif isinstance(it, Ref):
                parts.append(name_of(it.name))
            else:
                inner = " | ".join(seq(a) for a in it.alts)
                parts.append(f"({inner}){it.quant}")
        return " ".join(parts) if parts else empty

    order = [g.root] + sorted(n for n in g.rules if n != g.root)
    return [(name_of(n), " | ".join(seq(a) for a in g.rules[n])) for n in order]


def _gbnf_lit(text: str) -> str:
    return '"' + "".join(_char(ord(c), '"') for c in text) + '"'


@functools.lru_cache(maxsize=1)
def gbnf() -> str:
    """The DSL as a llama.cpp GBNF grammar (root rule ``root``)."""
    rows = _emit(build_grammar(), _gbnf_lit, lambda c: _class_text(c, "]", "^-"), lambda n: n, '""')
    head = "# generated from spatialmem/dsl/grammar.lark by spatialmem.agent.grammars; do not edit\n"
    return head + "\n".join(f"{n} ::= {body}" for n, body in rows) + "\n"


@functools.lru_cache(maxsize=1)
def lark_ebnf() -> str:
    """The DSL as a self-contained, character-level lark grammar (start rule ``start``)."""

    def name_of(n: str) -> str:
        return "start" if n == "root" else "r_" + n.replace("-", "_")

    rows = _emit(build_grammar(), _gbnf_lit, lambda c: "/" + _class_text(c, "]^-/") + "/", name_of, "")
    head = "// generated from spatialmem/dsl/grammar.lark by spatialmem.agent.grammars; do not edit\n"
    return head + "\n".join(f"{n}: {body}" for n, body in rows) + "\n"
