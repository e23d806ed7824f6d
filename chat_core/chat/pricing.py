"""A small editable price table and cost estimates from token counts.

Prices are USD per million tokens, input (prompt) and output (completion). The
defaults below are examples to edit, not a promise of what a provider bills:
check the provider's price page. A cost is estimated only for a model that is
in the table (exact name), otherwise it is None and the page shows no cost.

Which table applies depends on where answers come from (``applicable_prices``):
the defaults are OpenAI's prices, so they apply on OpenAI's own endpoint only; a
local or other server is free unless a price was entered for it (``CHAT_PRICES``
by the owner, or a row added or changed in the session's table). A local model
named ``gpt-4o-mini`` is not billed at OpenAI's rates.

    table = default_price_table()                        # a fresh dict per session, editable
    rows = edited = st.data_editor(price_rows(table), num_rows="dynamic")
    table = parse_price_rows(edited)                     # ValidationError naming the row
    estimate_cost("gpt-4o-mini", 1200, 300, table)       # -> 0.00036
    usage = conversation_usage(conversation.messages, table)

Token counts come from an answer's stored metrics (``StreamMetrics.to_dict()``):
``prompt_tokens`` (None when the back end reported no usage) and ``tokens``
(the completion, estimated when ``tokens_estimated`` is true).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, TypeGuard

from chat_core.backends.openai_params import is_openai_endpoint
from chat_core.errors import ValidationError
from chat_core.messages import MAX_MODEL_CHARS
from chat_core.settings import Settings

MAX_PRICE_USD_PER_MTOK = 10_000.0
MAX_PRICE_ROWS = 100


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per million tokens in (prompt) and out (completion)."""

    input_usd_per_mtok: float
    output_usd_per_mtok: float


# Examples to edit: list prices of the OpenAI API as published in 2025; yours may differ.
DEFAULT_PRICES: Mapping[str, ModelPrice] = MappingProxyType(
    {
        "gpt-4o-mini": ModelPrice(0.15, 0.60),
        "gpt-4o": ModelPrice(2.50, 10.00),
        "gpt-4.1": ModelPrice(2.00, 8.00),
        "gpt-4.1-mini": ModelPrice(0.40, 1.60),
        "gpt-4.1-nano": ModelPrice(0.10, 0.40),
        "o4-mini": ModelPrice(1.10, 4.40),
        "gpt-3.5-turbo": ModelPrice(0.50, 1.50),
    }
)


def default_price_table() -> dict[str, ModelPrice]:
    """A fresh copy of the defaults, for one session to edit."""
    return dict(DEFAULT_PRICES)


def applicable_prices(table: Mapping[str, ModelPrice], settings: Settings) -> dict[str, ModelPrice]:
    """The prices for answers from ``settings``' endpoint: the table's on its provider's only."""
    owner = {
        p.model: ModelPrice(p.input_usd_per_mtok, p.output_usd_per_mtok) for p in settings.prices
    }
    name, visitor = settings.resolved_backend, settings.visitor
    base_url = visitor.openai_base_url or settings.openai_base_url
    if name == "openai" and is_openai_endpoint(base_url):
        return {**table, **owner}
    entered = {m: p for m, p in table.items() if DEFAULT_PRICES.get(m) != p}
    return {**entered, **owner}


def estimate_cost(
    model: str | None,
    prompt_tokens: int,
    completion_tokens: int,
    table: Mapping[str, ModelPrice] | None = None,
) -> float | None:
    """The estimated cost in USD, or None when the model is not in the table."""
    for name, count in (("prompt_tokens", prompt_tokens), ("completion_tokens", completion_tokens)):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValidationError(name, f"{name} must be a whole number from 0")
    price = (DEFAULT_PRICES if table is None else table).get(model or "")
    if price is None:
        return None
    return (
        prompt_tokens * price.input_usd_per_mtok + completion_tokens * price.output_usd_per_mtok
    ) / 1e6


def format_cost(usd: float | None) -> str:
    """'$0.0123', '<$0.0001', or '' when there is no estimate."""
    if usd is None:
        return ""
    if 0 < usd < 0.0001:
        return "<$0.0001"
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


# -- editing -----------------------------------------------------------------------------------
def price_rows(table: Mapping[str, ModelPrice]) -> list[dict[str, Any]]:
    """The table as rows for ``st.data_editor``."""
    return [
        {
            "model": model,
            "input_usd_per_mtok": price.input_usd_per_mtok,
            "output_usd_per_mtok": price.output_usd_per_mtok,
        }
        for model, price in table.items()
    ]


def parse_price_rows(rows: Iterable[Mapping[str, Any]]) -> dict[str, ModelPrice]:
    """Validate edited rows back into a table; rows without a model name are skipped."""
    table: dict[str, ModelPrice] = {}
    for i, row in enumerate(rows):
        model = row.get("model")
        if model is None or (isinstance(model, float) and math.isnan(model)):
            continue  # the blank row data_editor adds
        if not isinstance(model, str):
            raise ValidationError(f"rows[{i}].model", f"row {i + 1}: the model must be text")
        model = model.strip()
        if not model:
            continue
        if len(model) > MAX_MODEL_CHARS:
            raise ValidationError(f"rows[{i}].model", f"row {i + 1}: the model name is too long")
        if model in table:
            raise ValidationError(f"rows[{i}].model", f"row {i + 1}: {model} is listed twice")
        if len(table) >= MAX_PRICE_ROWS:
            raise ValidationError("rows", f"the table has more than {MAX_PRICE_ROWS} models")
        prices = [
            _price(row.get(key), i, key) for key in ("input_usd_per_mtok", "output_usd_per_mtok")
        ]
        table[model] = ModelPrice(*prices)
    return table


def _price(value: object, i: int, key: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().lstrip("$"))
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise ValidationError(f"rows[{i}].{key}", f"row {i + 1}: {key} must be a number")
    if not 0 <= value <= MAX_PRICE_USD_PER_MTOK:
        raise ValidationError(
            f"rows[{i}].{key}", f"row {i + 1}: {key} must be from 0 to {MAX_PRICE_USD_PER_MTOK:g}"
        )
    return float(value)


# -- usage -------------------------------------------------------------------------------------
class _Answer(Protocol):
    @property
    def role(self) -> str: ...
    @property
    def model(self) -> str | None: ...
    @property
    def metrics(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """Tokens and estimated cost over a conversation's answers."""

    prompt_tokens: int
    completion_tokens: int
    estimated: bool  # some count was estimated or missing, so totals are approximate
    cost_usd: float | None  # over the priced answers; None when no answer was priced
    unpriced_answers: int  # answers whose model is not in the table

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def answer_tokens(metrics: Mapping[str, Any]) -> tuple[int, int, bool]:
    """(prompt, completion, estimated) from an answer's stored metrics; missing counts are 0."""
    prompt, completion = metrics.get("prompt_tokens"), metrics.get("tokens")
    estimated = (
        bool(metrics.get("tokens_estimated")) or not _count(prompt) or not _count(completion)
    )
    return (
        prompt if _count(prompt) else 0,
        completion if _count(completion) else 0,
        estimated,
    )


def conversation_usage(
    messages: Iterable[_Answer], table: Mapping[str, ModelPrice] | None = None
) -> UsageSummary:
    """Sum tokens and cost over the assistant messages of a conversation."""
    prompt = completion = unpriced = 0
    estimated = False
    cost: float | None = None
    for message in messages:
        if message.role != "assistant" or not message.metrics:
            continue
        p, c, approx = answer_tokens(message.metrics)
        prompt, completion, estimated = prompt + p, completion + c, estimated or approx
        one = estimate_cost(message.model, p, c, table)
        if one is None:
            unpriced += 1
        else:
            cost = (cost or 0.0) + one
    return UsageSummary(prompt, completion, estimated, cost, unpriced)


def _count(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
