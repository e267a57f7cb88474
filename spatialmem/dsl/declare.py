"""How an operation of the query language is declared: once, with a decorator, where it is implemented.

::

    @op("distance", P("a", T.OBJECT), P("b", T.OBJECT), returns=T.METRES, section=GEOMETRY,
        doc="Closest-point distance ...", example='distance(the("sofa"), the("tv"))')
    def distance(ctx, a, b): ...

The decorator records an :class:`Op` (signature with units, allowed choices and value ranges, doc,
example, implementation) in :data:`OPS`; :func:`attribute` does the same for ``value.name`` attributes
in :data:`ATTRIBUTES`. The checker, the interpreter, ``docs/dsl.md`` and the LLM reference all read
these two tables (through :mod:`spatialmem.dsl.ops`, which imports every section module so the
tables are complete). This module imports only the type system and the value types.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from spatialmem.dsl import types as T
from spatialmem.dsl.types import Kind
from spatialmem.dsl.values import Quantity

F = TypeVar("F", bound=Callable[..., Any])

REQUIRED: Any = object()
MAX_LIST_ITEMS = 64

# sections of the reference, in the order they are documented
OBJECTS = "Objects"
GEOMETRY = "Geometry"
CAMERAS = "Cameras and time"
VIEWPOINTS = "Viewpoints"
RENDERING = "Rendering"
ANSWERS = "Answers"
SECTIONS: tuple[str, ...] = (OBJECTS, GEOMETRY, CAMERAS, VIEWPOINTS, RENDERING, ANSWERS)


@dataclass(frozen=True)
class Range:
    """The allowed closed interval ``lo..hi`` of a number parameter, in the parameter's unit.

    ``what`` names the unit for messages (e.g. ``"pixels"``). ``resource``: the bound protects
    resources (an image size), so breaking it is a limit (``E300`` / ``R412``) rather than a bad
    value (``E204`` / ``R404``).
    """

    lo: float
    hi: float
    what: str = ""
    resource: bool = False

    def __contains__(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def __str__(self) -> str:
        return f"{self.lo:g}..{self.hi:g}" + (f" {self.what}" if self.what else "")


@dataclass(frozen=True)
class Param:
    """One parameter of an operation.

    Attributes:
        name: the keyword name (also the implementation's parameter name).
        type: its static type (units included).
        default: :data:`REQUIRED`, or the value used when it is left out (None = optional).
        category: its text (or list of texts) names memory categories, checked statically.
        choices: the allowed values of a Text parameter.
        max_items: the largest list accepted.
        range: the allowed interval of a Number parameter.
    """

    name: str
    type: T.Type
    default: object = REQUIRED
    category: bool = False
    choices: tuple[str, ...] = ()
    max_items: int = MAX_LIST_ITEMS
    range: Range | None = None

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def P(name: str, type_: T.Type, default: object = REQUIRED, **kw: Any) -> Param:
    """Shorthand for :class:`Param`."""
    return Param(name, type_, default, **kw)


@dataclass(frozen=True)
class Op:
    """One operation: name, parameters, return type, section, one-line doc, example, implementation.

    ``unit_from``: name of a parameter whose number unit (or list element unit) the result takes.
    """

    name: str
    params: tuple[Param, ...]
    returns: T.Type
    section: str
    doc: str
    example: str
    impl: Callable[..., Any]
    unit_from: str | None = None

    def signature(self) -> str:
        """``name(p: Type = default, [optional: Type]) -> Result``, as shown in hints and the reference."""
        parts = []
        for p in self.params:
            if p.default is None:  # optional: may be left out
                shown = [o for o in p.type.options if o.kind is not Kind.NOTHING] if p.type.kind is Kind.UNION \
                    else [p.type]
                parts.append(f"[{p.name}: {' | '.join(str(o) for o in shown)}]")
                continue
            s = f"{p.name}: {p.type}"
            if not p.required:
                s += f" = {literal(p.default)}"
            parts.append(s)
        return f"{self.name}({', '.join(parts)}) -> {self.returns}"

    def constraints(self) -> str:
        """The allowed choices and ranges of its parameters, e.g. ``"scheme: one of a, b; width: 16..2048"``."""
        out = []
        for p in self.params:
            if p.choices:
                out.append(f"{p.name}: one of {', '.join(p.choices)}")
            if p.range is not None:
                out.append(f"{p.name}: {p.range}")
        return "; ".join(out)

    @functools.cached_property
    def param_index(self) -> dict[str, int]:
        """Parameter name -> position (computed once)."""
        return {p.name: i for i, p in enumerate(self.params)}


@dataclass(frozen=True)
class Attribute:
    """``value.name`` for values of kind ``owner``."""

    owner: Kind
    name: str
    type: T.Type
    doc: str
    impl: Callable[..., Any]


def literal(v: object) -> str:
    """How a default value is written in the language."""
    if v is None:
        return "none"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, Quantity):
        return f"{v.value:g}"
    return str(v)


OPS: dict[str, Op] = {}
ATTRIBUTES: dict[tuple[Kind, str], Attribute] = {}


def op(name: str, *params: Param, returns: T.Type, section: str, doc: str, example: str,
       unit_from: str | None = None) -> Callable[[F], F]:
    """Declare the decorated function as the implementation of operation ``name``.

    The function takes the run context first, then the parameters in declared order, named as
    declared (checked here, so a declaration cannot drift from its implementation).
    """
    if section not in SECTIONS:
        raise ValueError(f"operation {name!r}: unknown section {section!r}; use one of {SECTIONS}")
    names = tuple(p.name for p in params)
    if unit_from is not None and unit_from not in names:
        raise ValueError(f"operation {name!r}: unit_from={unit_from!r} is not one of its parameters {names}")

    def register(fn: F) -> F:
        got = tuple(inspect.signature(fn).parameters)[1:]
        if got != names:
            raise TypeError(f"operation {name!r}: {fn.__name__} takes {got} but the declaration says {names}")
        if name in OPS:
            raise ValueError(f"operation {name!r} is declared twice ({OPS[name].impl.__module__} and {fn.__module__})")
        OPS[name] = Op(name, tuple(params), returns, section, doc, example, fn, unit_from)
        return fn

    return register


def attribute(owner: Kind, name: str, type_: T.Type, doc: str) -> Callable[[F], F]:
    """Declare the decorated ``fn(ctx, value)`` as attribute ``value.name`` of values of kind ``owner``."""

    def register(fn: F) -> F:
        if (owner, name) in ATTRIBUTES:
            raise ValueError(f"attribute {owner}.{name} is declared twice")
        ATTRIBUTES[(owner, name)] = Attribute(owner, name, type_, doc, fn)
        return fn

    return register


def attributes_of(kind: Kind) -> list[str]:
    """Attribute names available on values of ``kind``."""
    return [n for (k, n) in ATTRIBUTES if k is kind]
