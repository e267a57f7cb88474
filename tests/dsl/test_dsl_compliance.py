"""The data-driven compliance suite: every case in tests/dsl/cases/*.jsonl is one test.

A case is ``{id, fixture, program}`` plus either the expected result (``expect``: the plain
answer value; ``text``: the answer text; ``type``: the value type; ``images``: how many looks;
``tol``: absolute tolerance) or ``error``: a diagnostic code that must be reported (optionally
``line``/``column``/``hint_contains``/``message_contains`` for the first diagnostic with that code).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spatialmem.dsl import run_program
from spatialmem.errors import ProgramError

CASES_DIR = Path(__file__).parent / "cases"


def _load_cases() -> list[dict]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.jsonl")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                case = json.loads(line)
                case["_where"] = f"{path.name}:{n}"
                cases.append(case)
    return cases


CASES = _load_cases()


def test_suite_is_large_and_ids_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 150
    assert len(set(ids)) == len(ids), "duplicate case ids"
    for c in CASES:
        assert ("error" in c) != any(k in c for k in ("expect", "text")), c["id"]


def _same(actual, expected, tol: float) -> bool:
    if isinstance(expected, bool) or expected is None:
        return actual is expected or actual == expected
    if isinstance(expected, (int, float)):
        return isinstance(actual, (int, float)) and not isinstance(actual, bool) and abs(actual - expected) <= tol
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(
            _same(a, e, tol) for a, e in zip(actual, expected))
    return actual == expected


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_case(case, memories):
    memory = memories[case["fixture"]]
    if "error" in case:
        with pytest.raises(ProgramError) as info:
            run_program(case["program"], memory)
        diags = info.value.diagnostics
        codes = [d.code for d in diags]
        assert case["error"] in codes, f"{case['_where']}: expected {case['error']}, got\n" + \
            "\n".join(d.render() for d in diags)
        d = diags[codes.index(case["error"])]
        if "line" in case:
            assert d.line == case["line"], d.render()
        if "column" in case:
            assert d.column == case["column"], d.render()
        if "hint_contains" in case:
            assert case["hint_contains"] in d.hint, d.render()
        if "message_contains" in case:
            assert case["message_contains"] in d.message, d.render()
        assert d.message and d.code in d.render()
        return
    result = run_program(case["program"], memory)
    tol = case.get("tol", 1e-5)
    if "expect" in case:
        assert _same(result.answer, case["expect"], tol), f"{case['_where']}: got {result.answer!r}"
    if "text" in case:
        assert result.answer_text == case["text"], f"{case['_where']}: got {result.answer_text!r}"
    if "type" in case:
        assert result.value_type == case["type"]
    if "images" in case:
        assert len(result.images) == case["images"]
        for im in result.images:
            assert im.ndim == 3 and im.shape[2] == 3 and im.dtype.name == "uint8"
