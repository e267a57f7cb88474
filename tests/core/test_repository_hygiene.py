"""Repository rules of issue 14 that no behaviour test would catch: docs, test hygiene, the type checker."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import spatialmem.errors as errors
from spatialmem.dsl.runtime import Context

ROOT = Path(__file__).resolve().parents[2]


def _py(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, folder
    return files


def test_readme_points_to_the_architecture_doc_and_lists_every_exit_code():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "DESIGN.md" not in readme and "docs/architecture.md" in readme
    assert (ROOT / "docs" / "architecture.md").is_file()
    codes = {cls.exit_code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.SpatialMemError) and cls.exit_code != 1}
    line = readme[readme.index("Exit codes:"):]
    line = line[: line.index("\n\n")]
    assert {2, 3, 4, 5, 6, 7, 8, 9, 10} <= codes
    for code in codes | {0}:
        assert re.search(rf"\b{code} ", line), (code, line)


def test_no_test_turns_a_broken_package_import_into_a_skip():
    found = []
    for path in _py("tests"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"importorskip\(\s*[\"']spatialmem", text) or "not complete" + " yet" in text:
            found.append(path.relative_to(ROOT).as_posix())
    assert not found, found


def test_test_files_are_named_after_behaviour():
    names = [p.name for p in _py("tests") if p.name.startswith("test_")]
    assert len(names) > 50
    bad = [n for n in names if re.search(r"review|round_?\d|_r\d+\b|_r\d+_|fixes|misc|issue_?\d", n)]
    assert not bad, bad


def test_the_package_never_hides_a_failed_import_of_its_own_modules():
    """``except ImportError`` may guard optional third-party packages, never spatialmem's own modules."""
    found = []
    for path in _py("spatialmem"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try):
                continue
            catches = any(isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                          or isinstance(h.type, ast.Tuple) and any(getattr(e, "id", "") in ("ImportError",
                                                                                          "ModuleNotFoundError")
                                                                  for e in h.type.elts)
                          for h in node.handlers)
            own = [n for stmt in node.body for n in ast.walk(stmt)
                   if isinstance(n, ast.ImportFrom) and (n.module or "").startswith("spatialmem")
                   or isinstance(n, ast.Import) and any(a.name.startswith("spatialmem") for a in n.names)]
            if catches and own:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, found


def test_the_run_context_has_no_unused_cache():
    assert "cache" not in Context.__dataclass_fields__


def test_make_test_runs_the_type_checker_on_the_core_packages():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint = make[make.index("\nlint:"):]
    lint = lint[: lint.index("\n\n")]
    assert "mypy" in lint and re.search(r"^test:.*\blint\b", make, re.M)
    tomllib = pytest.importorskip("tomllib", reason="the standard library's TOML reader is Python 3.11+")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert any(d.startswith("mypy") for d in project["project"]["optional-dependencies"]["dev"])
    files = set(project["tool"]["mypy"]["files"])
    assert {"spatialmem/dsl", "spatialmem/geometry", "spatialmem/registry.py", "spatialmem/question_types.py",
            "spatialmem/vocab.py", "spatialmem/errors.py"} <= files
    assert all((ROOT / f).exists() for f in files)
