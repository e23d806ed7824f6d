"""The public surface: chat_core.__all__ is importable, and importing it skips Streamlit."""

from __future__ import annotations

import subprocess
import sys

import pytest

import chat_core


def test_all_is_unique_and_public() -> None:
    assert len(set(chat_core.__all__)) == len(chat_core.__all__)
    assert not [name for name in chat_core.__all__ if name.startswith("_")]


@pytest.mark.parametrize("name", chat_core.__all__)
def test_every_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from chat_core import {name}", namespace)
    assert namespace[name] is getattr(chat_core, name)


def test_star_import_gives_exactly_all() -> None:
    namespace: dict[str, object] = {}
    exec("from chat_core import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(chat_core.__all__)


@pytest.mark.parametrize("module", ["chat_core", "chat_core.openai_stub"])
def test_importing_does_not_import_streamlit(module: str) -> None:
    code = f"import {module}, sys; assert 'streamlit' not in sys.modules, 'streamlit imported'"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
