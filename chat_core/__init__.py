"""chat_core: streaming LLM chat without the UI.

Back ends yield typed events; runs buffer them so answers survive reruns and
disconnects; render, metrics and protocol turn them into what users see.
Importable without Streamlit.
"""

from __future__ import annotations

from chat_core.backends import Backend, OfflineBackend, make_backend
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend, WireRecord
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
from chat_core.pricing import ModelPrice, default_price_table, estimate_cost
from chat_core.render import NEW_BLOCK, answer_blocks, render_run, safe_markdown, user_markdown
from chat_core.runs import CapacityError, Run, RunRegistry, start_run
from chat_core.session import ChatSession, ChatTurn
from chat_core.settings import Settings, load_settings
from chat_core.store import ChatStore, NotFoundError, StoreError, open_store
from chat_core.transfer import export_json, export_markdown, import_json

__all__ = [
    "NEW_BLOCK",
    "Backend",
    "BackendError",
    "CapacityError",
    "ChatError",
    "ChatMessage",
    "ChatSession",
    "ChatStore",
    "ChatTurn",
    "ConfigError",
    "Conversation",
    "Directives",
    "Done",
    "GenerationParams",
    "LimitError",
    "ModelPrice",
    "NotFoundError",
    "OfflineBackend",
    "OpenAIBackend",
    "RemoteBackend",
    "Run",
    "RunRegistry",
    "SessionStats",
    "Settings",
    "StoreError",
    "StreamError",
    "StreamEvent",
    "StreamMetrics",
    "TextDelta",
    "Usage",
    "ValidationError",
    "WireRecord",
    "answer_blocks",
    "answer_status",
    "answer_text",
    "build_conversation",
    "default_price_table",
    "estimate_cost",
    "export_json",
    "export_markdown",
    "import_json",
    "load_settings",
    "make_backend",
    "measure",
    "open_store",
    "parse_directives",
    "parse_history",
    "render_run",
    "safe_markdown",
    "start_run",
    "user_markdown",
]
