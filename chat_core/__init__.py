"""chat_core: streaming LLM chat without the UI.

Back ends yield typed events; runs buffer them so answers survive reruns and
disconnects; the chat package and the wire protocol turn them into what users
see. Importable without Streamlit. The tree, by the data path:

    events, errors, messages, settings (+ settings_sources), metrics, logs    foundations
    tree          conversations as trees: paths, versions, leaf choice (pure)  foundations
    backends/     offline, openai, remote (+ directives): a conversation -> events
    runs/         a generation that outlives its consumer
    wire/         protocol v1: encode, decode, status, the SSE response
    chat/         session, turns, render, pricing, status badges, identity, visitor budget
    storage/      conversations in SQL
    gateway/, openai_stub/, diagnostics/     servers and tools over the above
"""

from __future__ import annotations

from chat_core.backends import Backend, OfflineBackend, make_backend
from chat_core.backends.directives import Directives, parse_directives
from chat_core.backends.endpoints import url_problem
from chat_core.backends.models import model_name_problem, model_options
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend, WireRecord
from chat_core.chat import (
    COOKIE_MAX_AGE_S,
    COOKIE_NAME,
    HISTORY_WINDOW,
    NEW_BLOCK,
    SEARCH_FROM,
    BackendCache,
    BudgetCheck,
    BudgetedBackend,
    ChatSession,
    ChatTurn,
    EndpointFields,
    Identity,
    LiveAnswer,
    ModelPrice,
    answer_badge,
    answer_blocks,
    browser_token,
    budget_applies,
    check_budget,
    choose_identity,
    default_price_table,
    earlier_label,
    endpoint_fields,
    estimate_cost,
    format_cost,
    history_start,
    matching_titles,
    model_caption,
    name_the_source,
    new_browser_token,
    parse_price_rows,
    price_rows,
    reasoning_blocks,
    reasoning_first,
    relative_age,
    render_reasoning,
    render_run,
    safe_markdown,
    save_problem,
    status_badge,
    thinking_label,
    user_markdown,
    waiting_label,
    waiting_seconds,
    with_listening_address,
)
from chat_core.chat.chrome import waiting_line
from chat_core.chat.model_choice import ModelChoice, choose_model, connection_report
from chat_core.chat.pricing import applicable_prices
from chat_core.chat.prompt_view import prompt_preview
from chat_core.chat.starters import Starter, directive_list, starters_for
from chat_core.errors import (
    BackendError,
    CapacityError,
    ChatError,
    ConfigError,
    EndpointRefusedError,
    LimitError,
    ValidationError,
)
from chat_core.events import (
    Done,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
    answer_text,
    reasoning_text,
)
from chat_core.messages import (
    ChatMessage,
    Conversation,
    GenerationParams,
    build_conversation,
    parse_history,
)
from chat_core.metrics import SessionStats, StreamMetrics, answer_status, measure
from chat_core.runs import Run, RunRegistry, start_run
from chat_core.settings import (
    BACKEND_CHOICES,
    Settings,
    VisitorBudget,
    VisitorInput,
    load_settings,
)
from chat_core.settings_sources import SETTING_NAMES
from chat_core.storage import (
    LEGACY_OWNER,
    SHARED_OWNER,
    ChatStore,
    NotFoundError,
    StoreError,
    export_filename,
    export_json,
    export_markdown,
    import_json,
    open_store,
    same_chat,
    search_conversations,
)

__all__ = [
    "BACKEND_CHOICES",
    "COOKIE_MAX_AGE_S",
    "COOKIE_NAME",
    "HISTORY_WINDOW",
    "LEGACY_OWNER",
    "NEW_BLOCK",
    "SEARCH_FROM",
    "SETTING_NAMES",
    "SHARED_OWNER",
    "Backend",
    "BackendCache",
    "BackendError",
    "BudgetCheck",
    "BudgetedBackend",
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
    "EndpointFields",
    "EndpointRefusedError",
    "GenerationParams",
    "Identity",
    "LimitError",
    "LiveAnswer",
    "ModelPrice",
    "NotFoundError",
    "OfflineBackend",
    "OpenAIBackend",
    "ReasoningDelta",
    "RemoteBackend",
    "Run",
    "RunRegistry",
    "SessionStats",
    "Settings",
    "Starter",
    "StoreError",
    "StreamError",
    "StreamEvent",
    "StreamMetrics",
    "TextDelta",
    "ToolCallDelta",
    "Usage",
    "ValidationError",
    "VisitorBudget",
    "VisitorInput",
    "WireRecord",
    "answer_badge",
    "answer_blocks",
    "answer_status",
    "answer_text",
    "browser_token",
    "budget_applies",
    "build_conversation",
    "check_budget",
    "choose_identity",
    "default_price_table",
    "directive_list",
    "earlier_label",
    "endpoint_fields",
    "estimate_cost",
    "export_filename",
    "export_json",
    "export_markdown",
    "format_cost",
    "history_start",
    "import_json",
    "load_settings",
    "make_backend",
    "matching_titles",
    "measure",
    "model_caption",
    "model_options",
    "name_the_source",
    "new_browser_token",
    "open_store",
    "parse_directives",
    "parse_history",
    "parse_price_rows",
    "price_rows",
    "prompt_preview",
    "reasoning_blocks",
    "reasoning_first",
    "reasoning_text",
    "relative_age",
    "render_reasoning",
    "render_run",
    "safe_markdown",
    "same_chat",
    "save_problem",
    "search_conversations",
    "start_run",
    "starters_for",
    "status_badge",
    "thinking_label",
    "user_markdown",
    "waiting_label",
    "waiting_seconds",
    "with_listening_address",
]
# The Model field, the endpoint checks of the settings panel, the prices that apply.
__all__ += [
    "ModelChoice",
    "applicable_prices",
    "choose_model",
    "connection_report",
    "model_name_problem",
    "url_problem",
    "waiting_line",
]
