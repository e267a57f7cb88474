"""A tight LALR(1) driver over the parse table lark builds from ``grammar.lark``.

lark's own driver (``lark.parsers.lalr_parser_state``) costs some 10-20 µs a token: every token is a
``Token`` object, and every reduction (about ten per atom, through the expression-precedence chain
``expr -> or_test -> ... -> atom``) goes through a wrapper call. This driver runs the SAME table and
the SAME reduction callbacks (lark's parse-tree builder wrapping our transformer), with three
shortcuts that do not change the result:

* a unit rule whose callback returns its single child unchanged (``?rule: other``) only moves the
  parser state: no call, no value-stack traffic;
* tokens arrive as plain tuples ``(type, value, start_pos, line, column, end_line, end_column,
  end_pos)`` and are shifted as :class:`LightToken` (a tuple with lark's attribute names);
* states are renumbered ``0..n-1`` and each state's actions are one dict: an ``int`` is a shift (or,
  for a rule name, a goto), a tuple ``(size, origin, callback)`` is a reduction.

The driver makes no diagnostics: on input outside the language it raises :class:`Rejected`, and the
caller re-parses with lark to produce lark's own error (errors are not the hot path).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from operator import itemgetter
from typing import Any

from lark import Lark
from lark.parsers.lalr_analysis import Shift


class Rejected(Exception):
    """The tokens are not a sentence of the grammar (lark's parser reports where and why)."""


class LightToken(tuple):
    """A shifted token: a tuple ``(type, value, start_pos, line, column, end_line, end_column, end_pos)``.

    Reads like a lark ``Token`` where the callbacks look (``str(tok)``, ``tok.line``, ``tok.column``,
    ``tok.end_line``, ``tok.end_column``; lines and columns 1-based) at a tenth of its build cost.
    """

    __slots__ = ()
    type = property(itemgetter(0))
    value = property(itemgetter(1))
    start_pos = property(itemgetter(2))
    line = property(itemgetter(3))
    column = property(itemgetter(4))
    end_line = property(itemgetter(5))
    end_column = property(itemgetter(6))
    end_pos = property(itemgetter(7))

    def __str__(self) -> str:
        return self[1]


_END = ("$END",)  # the end of input, fed after the last token
_PASS = object()  # a probe: a unit rule's callback that returns it unchanged is skipped


class Driver:
    """Parses token tuples with the parse table and callbacks of a ``Lark(..., parser="lalr")`` instance."""

    def __init__(self, lark: Lark, start: str = "start") -> None:
        inner = lark.parser.parser.parser  # ParsingFrontend -> LALR_Parser -> lark's table-driven _Parser
        table, callbacks = inner.parse_table, inner.callbacks
        if any(isinstance(key, str) for key in callbacks):
            raise ValueError("terminal callbacks (lexer_callbacks) are not supported by the fast driver")
        # names as exact str: lark's may be Token objects, whose == is a Python call in every dict lookup
        number = {state: i for i, state in enumerate(table.states)}
        reduce: dict[Any, tuple[int, str, Callable[[list], Any] | None]] = {}
        for rule, callback in callbacks.items():
            size = len(rule.expansion)
            passes = size == 1 and _returns_child(rule, callback)
            reduce[rule] = (size, str(rule.origin.name), None if passes else callback)
        actions: list[dict[str, Any]] = [{} for _ in number]
        for state, acts in table.states.items():
            actions[number[state]] = {str(sym): (number[arg] if action is Shift else reduce[arg])
                                      for sym, (action, arg) in acts.items()}
        end = number[table.end_states[start]]
        #: per state, symbol -> action: ``int`` a shift (a goto for a rule name); ``(size, origin,
        #: callback)`` a reduction; ``{state below: state}`` a run of pass-through unit reductions.
        self.actions: list[dict[str, Any]] = [
            {sym: _unit_chain(actions, sym, act[1], end) if type(act) is tuple and act[2] is None else act
             for sym, act in acts.items()} for acts in actions]
        self.start_state = number[table.start_states[start]]
        self.end_state = end
        self.new_token = tuple.__new__

    def parse(self, tokens: Iterable[tuple]) -> Any:
        """The value of the start rule's callback for ``tokens``; raises :class:`Rejected` off the grammar."""
        actions, new_token, end = self.actions, self.new_token, self.end_state
        states: list[int] = [self.start_state]
        values: list[Any] = []
        for tok in chain(tokens, (_END,)):
            kind = tok[0]
            while True:
                act = actions[states[-1]].get(kind)
                if type(act) is int:
                    if tok is _END:  # nothing may follow the end
                        raise Rejected(kind)
                    states.append(act)
                    values.append(new_token(LightToken, tok))
                    break
                if type(act) is dict:  # unit rules passing the child through: only the state moves
                    states[-1] = act[states[-2]]
                elif act is None:
                    raise Rejected(kind)
                else:
                    size, origin, callback = act
                    if size:
                        children = values[-size:]
                        del values[-size:]
                        del states[-size:]
                    else:
                        children = []
                    values.append(callback(children))
                    states.append(actions[states[-1]][origin])
                if tok is _END and states[-1] == end:
                    return values[-1]
        raise AssertionError("unreachable: the end token either completes the parse or is rejected")


def _unit_chain(actions: list[dict[str, Any]], lookahead: str, origin: str, end: int) -> dict[int, int]:
    """Where a run of pass-through unit reductions ends, by the state below the reducing state.

    With ``lookahead`` next, a state reduces the unit rule for ``origin``: the state below
    (unchanged by the run) takes the goto on ``origin``; while the new state again reduces a
    pass-through rule on ``lookahead`` (and is not the ``end`` state), repeat. Below-states without
    that goto cannot occur and are left out (the driver's ``KeyError`` reads as a rejection).
    """
    out = {}
    for below, acts in enumerate(actions):
        state = acts.get(origin)
        seen = 0
        while type(state) is int and seen <= len(actions):
            nxt = actions[state].get(lookahead)
            if state == end or not (type(nxt) is tuple and nxt[2] is None):
                out[below] = state
                break
            state, seen = acts.get(nxt[1]), seen + 1
    return out


def _returns_child(rule, callback: Callable[[list], Any]) -> bool:
    """Whether ``callback`` (a one-symbol rule's) hands back its only child unchanged (``?rule: other``)."""
    if not rule.options.expand1 or rule.alias or any(rule.options.empty_indices):
        return False
    try:
        return callback([_PASS]) is _PASS
    except Exception:  # noqa: BLE001  # the callback needs a real child: it builds something
        return False
