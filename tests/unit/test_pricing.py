"""The editable price table and cost maths."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from chat_core.chat.pricing import (
    DEFAULT_PRICES,
    ModelPrice,
    answer_tokens,
    conversation_usage,
    default_price_table,
    estimate_cost,
    format_cost,
    parse_price_rows,
    price_rows,
)
from chat_core.errors import ValidationError


def test_cost_is_tokens_times_price_per_million() -> None:
    mini = DEFAULT_PRICES["gpt-4o-mini"]
    assert estimate_cost("gpt-4o-mini", 1_000_000, 0) == pytest.approx(mini.input_usd_per_mtok)
    assert estimate_cost("gpt-4o-mini", 0, 1_000_000) == pytest.approx(mini.output_usd_per_mtok)
    table = {"m": ModelPrice(2.0, 8.0)}
    assert estimate_cost("m", 1200, 300, table) == pytest.approx((1200 * 2 + 300 * 8) / 1e6)
    assert estimate_cost("m", 0, 0, table) == 0.0


def test_no_cost_for_models_not_in_the_table() -> None:
    assert estimate_cost("offline-scripted", 100, 100) is None
    assert estimate_cost(None, 100, 100) is None
    assert estimate_cost("gpt-4o-mini-2024-07-18", 100, 100) is None  # exact names only
    assert estimate_cost("gpt-4o-mini", 1, 1, {}) is None


@pytest.mark.parametrize("tokens", [-1, 1.5, True, None, "10"])
def test_token_counts_are_checked(tokens: Any) -> None:
    with pytest.raises(ValidationError) as err:
        estimate_cost("gpt-4o", tokens, 0)
    assert err.value.field == "prompt_tokens"


def test_the_session_copy_is_editable_and_defaults_are_not() -> None:
    table = default_price_table()
    table["gpt-4o"] = ModelPrice(1.0, 1.0)
    table["my-local-model"] = ModelPrice(0.0, 0.0)
    assert DEFAULT_PRICES["gpt-4o"] != ModelPrice(1.0, 1.0)
    assert "my-local-model" not in DEFAULT_PRICES
    with pytest.raises(TypeError):
        DEFAULT_PRICES["x"] = ModelPrice(1, 1)  # type: ignore[index]
    assert estimate_cost("my-local-model", 10, 10, table) == 0.0


def test_rows_round_trip_and_edits() -> None:
    table = default_price_table()
    assert parse_price_rows(price_rows(table)) == table
    rows = [
        {"model": " gpt-4o ", "input_usd_per_mtok": "$2.5", "output_usd_per_mtok": 10},
        {"model": None, "input_usd_per_mtok": None, "output_usd_per_mtok": None},  # editor's blank
        {"model": float("nan"), "input_usd_per_mtok": 1, "output_usd_per_mtok": 1},  # pandas blank
        {"model": "", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1},
    ]
    assert parse_price_rows(rows) == {"gpt-4o": ModelPrice(2.5, 10.0)}


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ({"model": "m", "input_usd_per_mtok": -1, "output_usd_per_mtok": 1}, "input_usd_per_mtok"),
        (
            {"model": "m", "input_usd_per_mtok": 1, "output_usd_per_mtok": "abc"},
            "output_usd_per_mtok",
        ),
        (
            {"model": "m", "input_usd_per_mtok": float("nan"), "output_usd_per_mtok": 1},
            "input_usd_per_mtok",
        ),
        ({"model": "m", "input_usd_per_mtok": 1e9, "output_usd_per_mtok": 1}, "input_usd_per_mtok"),
        (
            {"model": "m", "input_usd_per_mtok": True, "output_usd_per_mtok": 1},
            "input_usd_per_mtok",
        ),
        ({"model": "m", "input_usd_per_mtok": 1}, "output_usd_per_mtok"),
        ({"model": 5, "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}, "model"),
        ({"model": "m" * 201, "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}, "model"),
    ],
)
def test_bad_edits_name_the_row_and_column(row: dict[str, Any], field: str) -> None:
    ok = {"model": "ok", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}
    with pytest.raises(ValidationError) as err:
        parse_price_rows([ok, row])
    assert err.value.field == f"rows[1].{field}"
    assert str(err.value).startswith("row 2:")


def test_duplicate_models_are_refused() -> None:
    row = {"model": "m", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}
    with pytest.raises(ValidationError, match="twice"):
        parse_price_rows([row, dict(row)])


def test_format_cost() -> None:
    assert format_cost(None) == ""
    assert format_cost(0.0) == "$0.0000"
    assert format_cost(0.00004) == "<$0.0001"
    assert format_cost(0.01234) == "$0.0123"
    assert format_cost(1234.5) == "$1,234.50"


@dataclass
class Msg:
    role: str
    model: str | None = None
    metrics: dict[str, Any] = field(default_factory=dict)


def test_answer_tokens_from_stored_metrics() -> None:
    assert answer_tokens({"prompt_tokens": 10, "tokens": 5, "tokens_estimated": False}) == (
        10,
        5,
        False,
    )
    assert answer_tokens({"prompt_tokens": None, "tokens": 5, "tokens_estimated": True}) == (
        0,
        5,
        True,
    )
    assert answer_tokens({"tokens": "5"}) == (0, 0, True)


def test_conversation_usage_sums_answers_and_prices_known_models() -> None:
    table = {"a": ModelPrice(1.0, 2.0), "b": ModelPrice(10.0, 20.0)}
    messages = [
        Msg("user", metrics={"tokens": 999}),  # not an answer: ignored
        Msg("assistant", "a", {"prompt_tokens": 100, "tokens": 50, "tokens_estimated": False}),
        Msg("assistant", "b", {"prompt_tokens": 200, "tokens": 10, "tokens_estimated": False}),
        Msg(
            "assistant",
            "unknown",
            {"prompt_tokens": None, "tokens": 1000, "tokens_estimated": True},
        ),
        Msg("assistant", "a"),  # no metrics (an old or failed answer)
    ]
    usage = conversation_usage(messages, table)
    assert (usage.prompt_tokens, usage.completion_tokens) == (300, 1060)
    assert usage.total_tokens == 1360
    assert usage.cost_usd == pytest.approx((100 * 1 + 50 * 2 + 200 * 10 + 10 * 20) / 1e6)
    assert usage.unpriced_answers == 1
    assert usage.estimated is True  # one answer had no usage from its back end
    exact = conversation_usage(messages[1:3], table)
    assert exact.estimated is False and exact.unpriced_answers == 0
    none = conversation_usage(messages[3:], table)
    assert none.cost_usd is None and none.unpriced_answers == 1


# -- which prices apply where --------------------------------------------------------------------
def test_the_table_applies_on_openai_s_endpoint_only() -> None:
    from chat_core.chat.pricing import applicable_prices
    from chat_core.settings import Settings, VisitorInput

    table = default_price_table()
    assert applicable_prices(table, Settings(openai_api_key="sk-x"))["gpt-4o-mini"]
    local = Settings(openai_base_url="http://127.0.0.1:11434/v1")
    assert applicable_prices(table, local) == {}  # a local server is free
    typed = Settings(visitor=VisitorInput(openai_base_url="http://127.0.0.1:8931/v1"))
    assert applicable_prices(table, typed) == {}
    assert applicable_prices(table, Settings(backend="offline")) == {}


def test_prices_entered_by_the_owner_or_the_person_apply_anywhere() -> None:
    from chat_core.chat.pricing import applicable_prices
    from chat_core.settings import Settings, load_settings

    local = load_settings(
        env={"OPENAI_BASE_URL": "http://127.0.0.1:11434/v1", "CHAT_PRICES": "llama3.2=0.1/0.2"},
        dotenv_path=None,
        secrets={},
    )
    assert applicable_prices({}, local) == {"llama3.2": ModelPrice(0.1, 0.2)}
    edited = {
        **default_price_table(),
        "gpt-4o-mini": ModelPrice(9.0, 9.0),
        "mine": ModelPrice(1, 2),
    }
    assert applicable_prices(edited, Settings(backend="offline")) == {
        "gpt-4o-mini": ModelPrice(9.0, 9.0),
        "mine": ModelPrice(1, 2),
    }
