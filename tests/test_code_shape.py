"""The code's shape in every app: imports at the top of each module (an import cycle shows up
at import time instead of hiding in a function) and no function over 60 lines. Which module
may import which is checked by import-linter (``make lint``, contracts in pyproject.toml)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APPS = ("config", "patients", "accounts", "therapies", "assessments", "frontend")
MODULES = sorted(path for app in APPS for path in (ROOT / app).rglob("*.py") if "migrations" not in path.parts)
MAX_LINES = 60


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _project_module(node: ast.Import | ast.ImportFrom) -> bool:
    """Our own modules only: a heavy third-party library (flyr, pywebpush) may load lazily."""
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in APPS
    return any(alias.name.split(".")[0] in APPS for alias in node.names)


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_imports_are_at_module_level(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = [
        f"{function.name}:{node.lineno}"
        for function in _functions(tree)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom) and _project_module(node)
    ]
    assert not hidden, f"project imports inside functions in {_name(path)}: {hidden}"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({(node.end_lineno or node.lineno) - node.lineno + 1} lines)"
        for node in _functions(tree)
        if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_LINES
    ]
    assert not long, f"functions over {MAX_LINES} lines in {_name(path)}: {long}"
