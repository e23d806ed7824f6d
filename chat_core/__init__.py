"""chat_core: streaming LLM chat without the UI.

Back ends yield typed events; runs buffer them so answers survive reruns and
disconnects; render, metrics and protocol turn them into what users see.
Importable without Streamlit.
"""

from __future__ import annotations

from chat_core.backends import Backend, OfflineBackend, make_backend
from chat_core.directives import Directives, parse_directives
from chat_core.errors import BackendError, ChatError, ConfigError, LimitError, ValidationError
from chat_core.events import Done, StreamError, StreamEvent, TextDelta, Usage, answer_text
from chat_core.messages import (
    ChatMessage,
    Conversation,
    GenerationParams,
    build_conversation,
    parse_history,
)
from chat_core.metrics import SessionStats, StreamMetrics, answer_status, measure
from chat_core.render import NEW_BLOCK, render_run, safe_markdown
from chat_core.runs import CapacityError, Run, RunRegistry, start_run
from chat_core.settings import Settings, load_settings

__all__ = [
    "NEW_BLOCK",
    "Backend",
    "BackendError",
    "CapacityError",
    "ChatError",
    "ChatMessage",
    "ConfigError",
    "Conversation",
    "Directives",
    "Done",
    "GenerationParams",
    "LimitError",
    "OfflineBackend",
    "Run",
    "RunRegistry",
    "SessionStats",
    "Settings",
    "StreamError",
    "StreamEvent",
    "StreamMetrics",
    "TextDelta",
    "Usage",
    "ValidationError",
    "answer_status",
    "answer_text",
    "build_conversation",
    "load_settings",
    "make_backend",
    "measure",
    "parse_directives",
    "parse_history",
    "render_run",
    "safe_markdown",
    "start_run",
]
