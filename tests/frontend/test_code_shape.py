"""The frontend's shape: imports at the top of each module (an import cycle shows up at
import time instead of hiding in a function), no function over 60 lines, and pure chart
builders (no Django)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
MODULES = sorted(path for path in FRONTEND.rglob("*.py") if "migrations" not in path.parts)
MAX_LINES = 60
PURE = ("charts.py", "cohort_charts.py")


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]


def _name(path: Path) -> str:
    return str(path.relative_to(FRONTEND.parent))


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_imports_are_at_module_level(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hidden = [
        f"{function.name}:{node.lineno}"
        for function in _functions(tree)
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert not hidden, f"imports inside functions in {_name(path)}: {hidden}"


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_functions_are_short(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{node.name} ({(node.end_lineno or node.lineno) - node.lineno + 1} lines)"
        for node in _functions(tree)
        if (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_LINES
    ]
    assert not long, f"functions over {MAX_LINES} lines in {_name(path)}: {long}"


@pytest.mark.parametrize("name", PURE)
def test_chart_builders_import_no_django(name: str) -> None:
    tree = ast.parse((FRONTEND / name).read_text(encoding="utf-8"))
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {module for module in modules if module.split(".")[0] in ("django", "rest_framework")}
