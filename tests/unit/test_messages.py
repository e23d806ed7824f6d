"""Messages: validation (ValidationError) and size limits (LimitError), with field names."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from chat_core import (
    ChatMessage,
    Conversation,
    GenerationParams,
    LimitError,
    ValidationError,
    build_conversation,
    parse_history,
)
from chat_core.messages import (
    MAX_HISTORY_ITEMS,
    MAX_MESSAGE_CHARS,
    MAX_SYSTEM_CHARS,
    MAX_TOKENS_LIMIT,
    MAX_TOTAL_CHARS,
)


@contextlib.contextmanager
def refused(exc_type: type[ValidationError], field: str) -> Iterator[None]:
    """Expect exactly ``exc_type`` (not a subclass) naming ``field``."""
    with pytest.raises(exc_type) as info:
        yield
    assert type(info.value) is exc_type
    assert info.value.field == field


def test_build_conversation_appends_the_prompt_to_history() -> None:
    conv = build_conversation(
        "and now?", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    )
    assert conv.messages == (
        ChatMessage("user", "hi"),
        ChatMessage("assistant", "hello"),
        ChatMessage("user", "and now?"),
    )
    assert conv.prompt == "and now?"


def test_history_may_be_messages_or_a_generator() -> None:
    past = (ChatMessage("user", "a"), ChatMessage("assistant", "b"))
    assert build_conversation("c", past).messages[:2] == past
    assert build_conversation("c", (m for m in past)).messages[:2] == past


def test_to_openai_puts_the_system_prompt_first() -> None:
    conv = build_conversation("hi")
    assert conv.to_openai("be brief") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert conv.to_openai() == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("message", "field"), [(None, "message"), (42, "message"), ("", "message"), ("  \n", "message")]
)
def test_bad_prompt(message: object, field: str) -> None:
    with refused(ValidationError, field):
        build_conversation(message)


def test_prompt_over_the_limit() -> None:
    build_conversation("x" * MAX_MESSAGE_CHARS)
    with refused(LimitError, "message"):
        build_conversation("x" * (MAX_MESSAGE_CHARS + 1))


@pytest.mark.parametrize(
    ("history", "field"),
    [
        ("[]", "history"),
        ({"role": "user", "content": "hi"}, "history"),
        ([["user", "hi"]], "history[0]"),
        ([{"role": "user", "content": "ok"}, {"role": "robot", "content": "x"}], "history[1].role"),
        ([{"role": "user", "content": 5}], "history[0].content"),
        ([{"role": "user"}], "history[0].content"),
        ([{"role": "user", "content": "x", "name": "bob"}], "history[0]"),
    ],
)
def test_bad_history(history: object, field: str) -> None:
    with refused(ValidationError, field):
        build_conversation("hi", history)


def test_history_limits() -> None:
    with refused(LimitError, "history[0].content"):
        parse_history([{"role": "user", "content": "x" * (MAX_MESSAGE_CHARS + 1)}])
    too_many = [{"role": "user", "content": "x"}] * (MAX_HISTORY_ITEMS + 1)
    with refused(LimitError, "history"):
        parse_history(too_many)
    assert len(parse_history(too_many[:-1])) == MAX_HISTORY_ITEMS


def test_conversation_total_size_limit() -> None:
    big = MAX_MESSAGE_CHARS
    count = MAX_TOTAL_CHARS // big + 1
    history = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "x" * big} for i in range(count)
    ]
    with refused(LimitError, "history"):
        build_conversation("hi", history)


def test_conversation_shape() -> None:
    with refused(ValidationError, "message"):
        Conversation(())
    with refused(ValidationError, "message"):
        Conversation((ChatMessage("user", "hi"), ChatMessage("assistant", "hello")))
    too_long = tuple(ChatMessage("user", "x") for _ in range(MAX_HISTORY_ITEMS + 2))
    with refused(LimitError, "history"):
        Conversation(too_long)


def test_generation_params_defaults_and_limits() -> None:
    params = GenerationParams()
    assert (params.model, params.temperature, params.max_tokens, params.system) == (
        None,
        0.7,
        1000,
        None,
    )
    GenerationParams(temperature=0, max_tokens=MAX_TOKENS_LIMIT, system="s" * MAX_SYSTEM_CHARS)


@pytest.mark.parametrize(
    ("kwargs", "exc_type", "field"),
    [
        ({"model": ""}, ValidationError, "model"),
        ({"model": "m" * 201}, ValidationError, "model"),
        ({"temperature": True}, ValidationError, "temperature"),
        ({"temperature": "hot"}, ValidationError, "temperature"),
        ({"temperature": 2.5}, ValidationError, "temperature"),
        ({"temperature": -0.1}, ValidationError, "temperature"),
        ({"max_tokens": 0}, ValidationError, "max_tokens"),
        ({"max_tokens": 10.0}, ValidationError, "max_tokens"),
        ({"max_tokens": True}, ValidationError, "max_tokens"),
        ({"max_tokens": MAX_TOKENS_LIMIT + 1}, ValidationError, "max_tokens"),
        ({"system": "s" * (MAX_SYSTEM_CHARS + 1)}, LimitError, "system"),
    ],
)
def test_bad_generation_params(
    kwargs: dict[str, object], exc_type: type[ValidationError], field: str
) -> None:
    with refused(exc_type, field):
        GenerationParams(**kwargs)  # type: ignore[arg-type]


def test_limit_error_is_a_validation_error() -> None:
    # Callers that map ValidationError to 422 must check LimitError (413) first.
    assert issubclass(LimitError, ValidationError)
    err = LimitError("history", "too long")
    assert (err.field, err.message, str(err)) == ("history", "too long", "too long")
