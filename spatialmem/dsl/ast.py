"""Frozen AST nodes of the query language; every node carries its source :class:`Span`.

The parser (:mod:`spatialmem.dsl.parser`) builds these from the lark parse tree; the checker and
the interpreter walk them. Nodes are plain frozen dataclasses (hashable, comparable, immutable);
a :class:`Span` is a named tuple (a parse builds dozens of them: a tuple costs a fifth of a frozen dataclass).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Span(NamedTuple):
    """1-based source position: start (line, column) and end (end_line, end_column, exclusive)."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Node:
    span: Span


# ------------------------------------------------------------------ expressions
@dataclass(frozen=True)
class Num(Node):
    """A number literal (dimensionless until combined with a unit-carrying value)."""

    value: float
    is_int: bool = False


@dataclass(frozen=True)
class Str(Node):
    value: str


@dataclass(frozen=True)
class BoolLit(Node):
    value: bool


@dataclass(frozen=True)
class Name(Node):
    id: str


@dataclass(frozen=True)
class ListExpr(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Keyword(Node):
    name: str
    value: Node


@dataclass(frozen=True)
class Call(Node):
    """``func(args..., name=value...)``; ``func_span`` covers the operation name only."""

    func: str
    args: tuple[Node, ...]
    kwargs: tuple[Keyword, ...]
    func_span: Span


@dataclass(frozen=True)
class Attribute(Node):
    """``value.attr``; ``attr_span`` covers the attribute name."""

    value: Node
    attr: str
    attr_span: Span


@dataclass(frozen=True)
class Index(Node):
    """``value[index]`` (0-based, negative counts from the end)."""

    value: Node
    index: Node


@dataclass(frozen=True)
class Unary(Node):
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Node


@dataclass(frozen=True)
class BinOp(Node):
    """Arithmetic ``+ - * /``."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Compare(Node):
    """``< <= > >= == !=`` (not chained)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class BoolOp(Node):
    """``and`` / ``or``."""

    op: str
    left: Node
    right: Node


# ------------------------------------------------------------------ statements
@dataclass(frozen=True)
class Assign(Node):
    target: str
    value: Node
    target_span: Span


@dataclass(frozen=True)
class ExprStmt(Node):
    expr: Node


#: A statement: ``name = expr`` or a bare expression.
Statement = Assign | ExprStmt


@dataclass(frozen=True)
class Program:
    """A parsed program: its statements and the source text they came from."""

    statements: tuple[Statement, ...]
    source: str


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-nodes of ``node`` in source order."""
    if isinstance(node, Call):
        return node.args + tuple(k.value for k in node.kwargs)
    if isinstance(node, ListExpr):
        return node.items
    if isinstance(node, Attribute):
        return (node.value,)
    if isinstance(node, Index):
        return (node.value, node.index)
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, (BinOp, Compare, BoolOp)):
        return (node.left, node.right)
    if isinstance(node, Assign):
        return (node.value,)
    if isinstance(node, ExprStmt):
        return (node.expr,)
    if isinstance(node, Keyword):
        return (node.value,)
    return ()
