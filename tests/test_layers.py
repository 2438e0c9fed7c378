"""The shape of the code: front ends go through one door, and indexer never needs Flask."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from .conftest import ROOT

# What a front end may import from the library: the door, and the errors it raises.
DOOR = {"indexer.archive", "indexer.errors"}
FRONT_ENDS = sorted(
    [
        ROOT / "indexer" / "cli.py",
        ROOT / "indexer" / "__main__.py",
        *(ROOT / "archive").glob("*.py"),
    ]
)


def imported_modules(path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            # ``from indexer import store`` imports a module too.
            if node.module == "indexer":
                modules.update(f"indexer.{alias.name}" for alias in node.names)
    return modules


@pytest.mark.parametrize("path", FRONT_ENDS, ids=lambda p: str(p.relative_to(ROOT)))
def test_front_ends_import_nothing_below_the_archive(path):
    below = {
        m
        for m in imported_modules(path)
        if m.startswith("indexer.") and m not in DOOR | {"indexer.cli"}
    }
    assert not below, f"{path.name} reaches past Archive into {sorted(below)}"


def test_the_import_reader_sees_a_reach_past_the_door(tmp_path):
    sneaky = tmp_path / "views.py"
    sneaky.write_text("from indexer import store\nimport indexer.search\n", encoding="utf-8")
    assert {"indexer.store", "indexer.search"} <= imported_modules(sneaky)


def test_indexer_never_imports_flask():
    code = "import sys, indexer.cli, indexer.archive; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
