"""The chat: a session's turns and its streaming answer, and how answers look on a page.

backend_cache   the page's back end, built once per settings
chrome    what the page says around answers: setting sources, dates, captions
starters  the prompts an empty chat offers, fitted to the back end (own ``__all__``)
live      answers streaming in this process, by message id (re-attaching)
session   ``ChatSession``: a session's state plus what users do (send, retry, edit, stop,
          switch versions, fork)
session_state  ``SessionState``: the fields, the answer's phase, the stored conversation shown
answering how an answer starts (run, stored row, finish callback) and ends as a turn
saving    saves while the database fails: backoff, retries, the "Not saved" notices
turns     ``ChatTurn``: one message as shown, text and chrome apart
render    a run as frames of markdown for ``st.write_stream``; inert markdown
thinking  a run's reasoning, live, under the same render rules, until the answer begins
notes     why an answer ended (filter, tool call, token limit), in words for beside it
pricing   an editable price table and usage totals
status    one table of status badges
identity  whose chats these are: the logged-in user, else the browser's private token
login     requiring login, a login that came back refused, the browser's chats at login
          (its own surface, ``chat_core.chat.login``)
budget    the visitor budget on the owner's key: the policy and the back end that enforces it
visitor   the sidebar's endpoint fields for visitors (``CHAT_VISITOR_ENDPOINTS``)
"""

from __future__ import annotations

from chat_core.chat.backend_cache import BackendCache
from chat_core.chat.budget import BudgetCheck, BudgetedBackend, budget_applies, check_budget
from chat_core.chat.chrome import (
    SEARCH_FROM,
    matching_titles,
    model_caption,
    name_the_source,
    relative_age,
)
from chat_core.chat.history_window import HISTORY_WINDOW, earlier_label, history_start
from chat_core.chat.identity import (
    COOKIE_MAX_AGE_S,
    COOKIE_NAME,
    Identity,
    browser_token,
    choose_identity,
    new_browser_token,
)
from chat_core.chat.live import LiveAnswer, waiting_label, waiting_seconds
from chat_core.chat.notes import FinishNote, finish_note
from chat_core.chat.pricing import (
    ModelPrice,
    UsageSummary,
    default_price_table,
    estimate_cost,
    format_cost,
    parse_price_rows,
    price_rows,
)
from chat_core.chat.render import NEW_BLOCK, answer_blocks, render_run, safe_markdown, user_markdown
from chat_core.chat.saving import save_problem
from chat_core.chat.session import ChatSession
from chat_core.chat.status import answer_badge, status_badge
from chat_core.chat.thinking import (
    ReasoningStream,
    reasoning_blocks,
    reasoning_first,
    render_reasoning,
    thinking_label,
)
from chat_core.chat.turns import ChatTurn
from chat_core.chat.visitor import EndpointFields, endpoint_fields, with_listening_address

__all__ = [
    "COOKIE_MAX_AGE_S",
    "COOKIE_NAME",
    "HISTORY_WINDOW",
    "NEW_BLOCK",
    "SEARCH_FROM",
    "BackendCache",
    "BudgetCheck",
    "BudgetedBackend",
    "ChatSession",
    "ChatTurn",
    "EndpointFields",
    "FinishNote",
    "Identity",
    "LiveAnswer",
    "ModelPrice",
    "ReasoningStream",
    "UsageSummary",
    "answer_badge",
    "answer_blocks",
    "browser_token",
    "budget_applies",
    "check_budget",
    "choose_identity",
    "default_price_table",
    "earlier_label",
    "endpoint_fields",
    "estimate_cost",
    "finish_note",
    "format_cost",
    "history_start",
    "matching_titles",
    "model_caption",
    "name_the_source",
    "new_browser_token",
    "parse_price_rows",
    "price_rows",
    "reasoning_blocks",
    "reasoning_first",
    "relative_age",
    "render_reasoning",
    "render_run",
    "safe_markdown",
    "save_problem",
    "status_badge",
    "thinking_label",
    "user_markdown",
    "waiting_label",
    "waiting_seconds",
    "with_listening_address",
]
