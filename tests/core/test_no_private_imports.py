"""No module reaches into another through a private name (``from x import _y``, ``x._y``, ``x/_mod.py``).

A name another module needs is public (``boxes.BOX_EDGES``, ``rendering.IMAGE_SIDE``); a private module
is used only inside its own package. Scans spatialmem/ and tests/.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: White-box tests allowed to reach into the one module they test, with the reason.
WHITE_BOX = {
    "tests/dsl/test_dsl_parser.py": "the parser's cache and tokenizer are compared with lark's own lexer",
}


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _violations(path: Path, rel: str | None = None) -> list[str]:
    rel = rel or path.relative_to(ROOT).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()  # local names bound to spatialmem modules or objects
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "spatialmem":
            parts = node.module.split(".")
            for i, part in enumerate(parts):
                if _private(part) and not rel.startswith("/".join(parts[:i]) + "/"):
                    out.append(f"{rel}:{node.lineno} imports the private module {node.module}")
            for alias in node.names:
                if _private(alias.name):
                    out.append(f"{rel}:{node.lineno} imports {alias.name} from {node.module}")
                modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "spatialmem":
                    modules.add(alias.asname or alias.name.split(".")[0])
                    if any(_private(p) for p in alias.name.split(".")):
                        out.append(f"{rel}:{node.lineno} imports the private module {alias.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _private(node.attr) and isinstance(node.value, ast.Name) \
                and node.value.id in modules:
            out.append(f"{rel}:{node.lineno} reads {node.value.id}.{node.attr}")
        elif isinstance(node, ast.Call) and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                and node.args[0].id in modules and isinstance(node.args[1], ast.Constant) \
                and isinstance(node.args[1].value, str) and _private(node.args[1].value):
            out.append(f"{rel}:{node.lineno} patches {node.args[0].id}.{node.args[1].value}")
    return out


def test_the_scan_finds_each_form(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from spatialmem.geometry.boxes import _X\nfrom spatialmem.sources._io import read_rgb\n"
                      "import spatialmem.registry as registry\nregistry._REGISTRY\nsetattr(registry, '_y', 1)\n"
                      "from spatialmem import __version__\n")
    found = _violations(sample, "tests/sample.py")
    assert len(found) == 4, found
    inside = _violations(sample, "spatialmem/sources/sample.py")  # the private module's own package may use it
    assert len(inside) == 3 and not any("private module" in f for f in inside), inside


def test_no_private_names_cross_modules():
    files = sorted((ROOT / "spatialmem").rglob("*.py")) + sorted((ROOT / "tests").rglob("*.py"))
    assert len(files) > 150
    found = [v for f in files if f.relative_to(ROOT).as_posix() not in WHITE_BOX for v in _violations(f)]
    assert not found, "\n".join(found)
