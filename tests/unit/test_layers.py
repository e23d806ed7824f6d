"""The import layers, checked over the ``ast`` import graph of chat_core and the pages.

foundations <- backends <- runs <- wire / chat <- pages and servers; wire imports only
events and errors; storage imports neither runs nor chat; chat_core never imports
Streamlit (settings_sources may, lazily, to read st.secrets); pages import public surfaces only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FOUNDATIONS = {
    "events",
    "errors",
    "messages",
    "settings",
    "settings_sources",
    "metrics",
    "logs",
    "tree",
}
# layer -> the layers it may import (itself always allowed)
ALLOWED: dict[str, set[str]] = {
    "foundations": set(),
    "wire": {"events", "errors"},
    "attachments": {"foundations"},
    "tools": {"foundations"},
    "backends": {"foundations", "wire", "attachments", "tools"},
    "runs": {"foundations", "backends"},
    # Titles skip the offline model's directive lines: the grammar is pure, no back end.
    "storage": {"foundations", "chat_core.backends.directives", "attachments"},
    "chat": {"foundations", "backends", "runs", "wire", "storage", "attachments", "tools"},
    "gateway": {"foundations", "backends", "runs", "wire", "attachments", "tools"},
    "openai_stub": {"foundations", "backends", "wire", "attachments", "tools"},
    "diagnostics": {"foundations", "backends", "runs", "wire", "chat"},
    "workbench": {"foundations", "backends", "tools"},
    "sharing": {"foundations", "storage"},
    "compare": {"foundations", "backends", "runs", "chat", "storage"},
}
PUBLIC_SURFACES = {
    "chat_core",
    "chat_core.diagnostics",
    "chat_core.chat.login",
    "chat_core.workbench",
    "chat_core.attachments",
    "chat_core.sharing",
    "chat_core.compare",
    "chat_core.tools",
}


def layer_of(module: str) -> str:
    """``chat_core.wire.encode`` -> ``wire``; a foundation module -> ``foundations``."""
    parts = module.split(".")
    if len(parts) < 2:
        return "package"
    return "foundations" if parts[1] in FOUNDATIONS else parts[1]


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported module, line, at module level) for every import in a file."""
    tree = ast.parse(path.read_text(), str(path))
    top_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, id(node) in top_level
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno, id(node) in top_level


def violations(graph: dict[str, list[tuple[str, int, bool]]]) -> list[str]:
    """Every import in ``graph`` (module -> its imports) that crosses a layer."""
    found = []
    for module, imports in graph.items():
        here = layer_of(module)
        for target, line, top in imports:
            if target.split(".")[0] == "streamlit":
                if not (module == "chat_core.settings_sources" and not top):
                    found.append(f"{module}:{line} imports streamlit")
                continue
            if not target.startswith("chat_core.") or here == "package":
                continue
            there = layer_of(target)
            if there == here:
                continue
            allowed = ALLOWED[here]
            name = target.split(".")[1]
            if there not in allowed and name not in allowed and target not in allowed:
                found.append(f"{module}:{line} ({here}) imports {target} ({there})")
    return found


def chat_core_graph() -> dict[str, list[tuple[str, int, bool]]]:
    return {
        module_name(path): list(imports_of(path)) for path in (ROOT / "chat_core").rglob("*.py")
    }


def test_chat_core_keeps_its_layers() -> None:
    assert violations(chat_core_graph()) == []


def test_every_package_has_a_layer() -> None:
    packages = {p.name for p in (ROOT / "chat_core").iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in (ROOT / "chat_core").glob("*.py")} - {"__init__"}
    assert packages <= set(ALLOWED), packages - set(ALLOWED)
    assert modules <= FOUNDATIONS, modules - FOUNDATIONS
    assert len(modules) <= 10, "at most 10 modules at chat_core's top level"


@pytest.mark.parametrize("page", sorted((ROOT / "app_pages").glob("*.py")), ids=lambda p: p.name)
def test_pages_import_only_public_surfaces(page: Path) -> None:
    internal = [
        f"{page.name}:{line} imports {target}"
        for target, line, _top in imports_of(page)
        if target.startswith("chat_core") and target not in PUBLIC_SURFACES
    ]
    assert internal == []


@pytest.mark.parametrize(
    ("module", "target", "top"),
    [
        ("chat_core.wire.encode", "chat_core.runs.run", True),
        ("chat_core.storage.store", "chat_core.chat.session", True),
        ("chat_core.backends.remote", "chat_core.runs", True),
        ("chat_core.events", "chat_core.backends.base", True),
        ("chat_core.runs.run", "streamlit", False),
        ("chat_core.settings_sources", "streamlit", True),
        ("chat_core.settings", "streamlit", False),
    ],
)
def test_a_crossed_layer_is_reported(module: str, target: str, top: bool) -> None:
    assert violations({module: [(target, 7, top)]}) == [
        f"{module}:7 imports streamlit"
        if target == "streamlit"
        else f"{module}:7 ({layer_of(module)}) imports {target} ({layer_of(target)})"
    ]


def test_allowed_imports_are_not_reported() -> None:
    graph = {
        "chat_core.wire.decode": [("chat_core.events", 1, True), ("chat_core.errors", 2, True)],
        "chat_core.chat.session": [("chat_core.runs", 1, True), ("chat_core.storage", 2, True)],
        "chat_core.settings_sources": [("streamlit", 3, False)],
    }
    assert violations(graph) == []
