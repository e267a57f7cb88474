"""The question-type table is declared once, in the leaf module spatialmem.question_types."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import spatialmem
from spatialmem import question_types as Q
from spatialmem.agent import fewshot
from spatialmem.geometry.directions import SCHEMES
from spatialmem.synth import templates as T

PACKAGE = Path(spatialmem.__file__).parent


def test_the_table_is_consistent():
    assert len(Q.QUESTION_TYPES) == len(set(Q.QUESTION_TYPES)) == 10
    assert set(Q.NUMERIC_TYPES).isdisjoint(Q.MC_TYPES)
    assert len(Q.TASKS) == len(set(Q.TASKS)) == 8 and set(Q.TASKS) == {Q.task_of(t) for t in Q.QUESTION_TYPES}
    assert set(Q.DIRECTION_SCHEMES.values()) <= set(SCHEMES)
    assert set(T.DIRECTION_TEMPLATES) == set(Q.REL_DIRECTION_TYPES)
    assert {t for t in Q.QUESTION_TYPES if fewshot.infer_type(fewshot.sibling_questions(
        t, {"chair": 1, "table": 1, "sofa": 1, "lamp": 1, "tv": 1, "bed": 1})[0].text) == t} == set(Q.QUESTION_TYPES)


def test_the_module_is_a_leaf():
    code = ("import sys, spatialmem.question_types; "
            "print(sorted(m for m in sys.modules if m.startswith('spatialmem.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['spatialmem.question_types']"


def _type_lists(tree: ast.AST):
    """Tuple/list/set displays and dict keys holding three or more question-type names."""
    types = set(Q.QUESTION_TYPES) | set(Q.TASKS)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        names = [e.value for e in items if isinstance(e, ast.Constant) and e.value in types]
        if len(names) >= 3:
            yield node.lineno, names


def test_no_module_declares_question_types_again():
    """Only the dispatch tables that map every type to its implementation may name many types;
    lists of types are declared in question_types.py alone."""
    dispatch = {("synth/questions.py", "_GENERATORS"), ("agent/template.py", "_parsers")}
    found = []
    checked = 0
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if rel == "question_types.py":
            continue
        checked += 1
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    name = t.id if isinstance(t, ast.Name) else getattr(t, "attr", "")
                    if (rel, name) in dispatch:
                        allowed.add(node.value.lineno)
        found += [(rel, line, names) for line, names in _type_lists(tree) if line not in allowed]
    assert checked > 50 and not found, found
