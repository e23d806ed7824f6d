"""Storage sits beside the chat layer, not above it: it imports neither runs, chat nor Streamlit."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

STORAGE = Path(__file__).resolve().parents[2] / "chat_core" / "storage"
FORBIDDEN = ("chat_core.runs", "chat_core.chat", "chat_core.wire", "chat_core.gateway", "streamlit")


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", sorted(STORAGE.glob("*.py")), ids=lambda p: p.name)
def test_storage_imports_no_higher_layer(module: Path) -> None:
    bad = {n for n in imported_modules(module) if n.startswith(FORBIDDEN)}
    assert bad == set(), f"{module.name} imports {sorted(bad)}"


def test_the_check_sees_imports() -> None:
    assert "chat_core.storage.records" in imported_modules(STORAGE / "store.py")
