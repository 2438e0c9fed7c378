"""The shape of the code: who may import what, and whose private names stay private.

- Front ends (the web app, the command line) go through one door,
  ``indexer.archive``, and the errors it raises.
- Benchmarks are front ends too, and may also use the engine's stated API
  (``indexer.engine``) and its query language (``whoosh.query``), to state
  their own baselines over the same index.
- The engine (``indexer/engine/``) is the only code below Whoosh's public API:
  nothing else imports Whoosh's readers, searchers, codecs, writers or files,
  nor any engine module but the package, nor touches an underscore attribute
  of another module's objects.
- ``indexer`` never needs Flask.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import warnings
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from .conftest import ROOT

FRONT_DOOR = {"indexer.archive", "indexer.errors"}
FRONT_ENDS = sorted(
    [
        ROOT / "indexer" / "cli.py",
        ROOT / "indexer" / "__main__.py",
        *(ROOT / "archive").glob("*.py"),
    ]
)
BENCHES = sorted((ROOT / "bench").glob("*.py"))
ENGINE = ROOT / "indexer" / "engine"
ANALYSIS = ROOT / "indexer" / "analysis"
LIBRARY = sorted(p for p in (ROOT / "indexer").rglob("*.py") if "migrations" not in p.parts)
# What of Whoosh code outside the engine may use: query trees, the weighting
# they are scored with, and (in analysis) the tokenizer interface.
WHOOSH_PUBLIC = {"whoosh", "whoosh.query", "whoosh.scoring"}
# Underscore names that are public by convention (namedtuple's API).
CONVENTIONAL = {"_replace", "_asdict", "_fields", "_make"}


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


@cache
def tree(path: Path) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Whoosh's own source has invalid escapes
        return ast.parse(path.read_text(encoding="utf-8"))


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            # ``from indexer import store`` imports a module too.
            if node.module.split(".")[0] == "indexer":
                modules.update(f"{node.module}.{alias.name}" for alias in node.names)
    return modules


def is_module(name: str) -> bool:
    """Whether ``indexer.x.y`` names a module or package of ours (not a name inside one)."""
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def our_modules(path: Path) -> set[str]:
    return {m for m in imported_modules(path) if m.startswith("indexer") and is_module(m)}


@pytest.mark.parametrize("path", FRONT_ENDS, ids=rel)
def test_front_ends_go_through_the_door(path):
    below = our_modules(path) - FRONT_DOOR - {"indexer", "indexer.cli"}
    assert not below, f"{rel(path)} reaches past Archive into {sorted(below)}"


@pytest.mark.parametrize("path", BENCHES, ids=rel)
def test_benchmarks_use_the_door_and_the_stated_engine(path):
    below = our_modules(path) - FRONT_DOOR - {"indexer", "indexer.engine"}
    assert not below, f"{rel(path)} reaches into {sorted(below)}"
    whoosh = {m for m in imported_modules(path) if m.split(".")[0] == "whoosh"}
    assert whoosh <= WHOOSH_PUBLIC, f"{rel(path)} imports {sorted(whoosh - WHOOSH_PUBLIC)}"


@pytest.mark.parametrize("path", [p for p in LIBRARY if ENGINE not in p.parents], ids=rel)
def test_only_the_engine_reads_below_whooshs_public_api(path):
    allowed = WHOOSH_PUBLIC | ({"whoosh.analysis"} if ANALYSIS in path.parents else set())
    whoosh = {m for m in imported_modules(path) if m.split(".")[0] == "whoosh"}
    assert whoosh <= allowed, f"{rel(path)} imports {sorted(whoosh - allowed)}"
    inside = {m for m in our_modules(path) if m.startswith("indexer.engine.")}
    assert not inside, f"{rel(path)} imports {sorted(inside)}: use the package, indexer.engine"
    if ANALYSIS not in path.parents:
        parts = {m for m in our_modules(path) if m.startswith("indexer.analysis.")}
        assert not parts, f"{rel(path)} imports {sorted(parts)}: use indexer.analysis"


def private_names(path: Path) -> set[str]:
    """The underscore names a module defines: functions, classes, globals, attributes of self."""
    names = set()
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {n for n in names if n.startswith("_") and not n.startswith("__")}


OURS = [*LIBRARY, *sorted((ROOT / "archive").glob("*.py")), *BENCHES]
TESTS = sorted((ROOT / "tests").glob("*.py"))


@cache
def defined_by() -> dict[str, set[Path]]:
    found: dict[str, set[Path]] = defaultdict(set)
    for path in OURS:
        for name in private_names(path):
            found[name].add(path)
    return found


@cache
def whooshs() -> set[str]:
    """The underscore names Whoosh's own modules define (its private attributes)."""
    import whoosh

    return {n for p in Path(whoosh.__file__).parent.rglob("*.py") for n in private_names(p)}


def is_ours(module: str) -> bool:
    return module.split(".")[0] in ("indexer", "archive", "bench") or not module.split(".")[0]


def private_reaches(path: Path) -> list[str]:
    """Underscore names ``path`` takes from elsewhere: imported, or read off another's object."""
    own = private_names(path)
    ours = defined_by()
    engine = ENGINE in path.parents
    test = path not in OURS
    found = []
    for node in ast.walk(tree(path)):
        if isinstance(node, ast.ImportFrom):
            # Whoosh's private names are the engine's to import (and the tests' oracles').
            if not is_ours(node.module or "") and (engine or test):
                continue
            found += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name.startswith("_") and not a.name.startswith("__")
            ]
        elif isinstance(node, ast.Attribute):
            name = node.attr
            if not name.startswith("_") or name.startswith("__") or name in CONVENTIONAL:
                continue
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            if name in own:
                continue
            # Whoosh's private attributes are the engine's business (and the tests'
            # oracles'); another module's of ours are nobody's.
            if engine or test:
                if name in ours and name not in whooshs():
                    found.append(f"line {node.lineno}: .{name}")
            else:
                found.append(f"line {node.lineno}: .{name}")
    return found


@pytest.mark.parametrize("path", OURS + TESTS, ids=rel)
def test_no_module_reaches_into_another_ones_private_names(path):
    assert not private_reaches(path), f"{rel(path)}: {private_reaches(path)}"


def test_the_guards_see_a_reach(tmp_path):
    sneaky = tmp_path / "views.py"
    sneaky.write_text(
        "from indexer import store\nimport indexer.search\n"
        "from indexer.engine.snapshot import Snapshot\nfrom indexer.importing import _x\n"
        "snapshot._leaves\narchive._search.understand('x')\n",
        encoding="utf-8",
    )
    assert {"indexer.store", "indexer.search", "indexer.engine.snapshot"} <= imported_modules(
        sneaky
    )
    reaches = private_reaches(sneaky)
    assert any("import _x" in r for r in reaches)
    assert any("._leaves" in r for r in reaches) and any("._search" in r for r in reaches)


def test_indexer_never_imports_flask():
    code = "import sys, indexer.cli, indexer.archive; print('flask' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
