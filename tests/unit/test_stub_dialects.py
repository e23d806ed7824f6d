"""The stub's dialects: picked by model name; reshaping keeps the plan's timing."""

from __future__ import annotations

import pytest

from chat_core import Done, GenerationParams, OfflineBackend, TextDelta, build_conversation
from chat_core.openai_stub.dialects import (
    FILTERED_AFTER_TOKENS,
    REFUSAL,
    dialect_for,
    reshape,
    strict_refusal,
)


@pytest.mark.parametrize(
    ("model", "dialect"),
    [
        ("gpt-4o-mini", "openai"),
        ("offline-scripted", "openai"),
        ("gpt-5-mini", "strict"),
        ("o3", "strict"),
        ("my-strict-deployment", "strict"),
        ("magistral-small-2509", "magistral"),
        ("deepseek-reasoner", "reasoning_content"),
        ("qwen-plus", "reasoning_content"),
        ("grok-3-mini", "reasoning_content"),
        ("groq/llama", "reasoning"),
        ("openai/gpt-oss-120b", "reasoning"),
        ("r1-think", "think"),
        ("refusal-demo", "refusal"),
        ("tool-demo", "tool"),
        ("azure-gpt-4o", "filter"),
        ("sonar-pro", "usage_every_chunk"),
    ],
)
def test_dialect_by_model_name(model: str, dialect: str) -> None:
    assert dialect_for(model) == dialect


def plan(prompt: str) -> list[tuple[float, object]]:
    backend = OfflineBackend(tokens_per_second=10)
    return list(backend.plan(build_conversation(prompt), GenerationParams()))


def test_refusal_and_filter_reshape_the_text_not_the_clock() -> None:
    original = plan("/echo " + "word " * 30)
    refused = reshape("refusal", original)  # type: ignore[arg-type]
    text = [e.text for _, e in refused if isinstance(e, TextDelta)]  # type: ignore[attr-defined]
    assert "".join(text) == REFUSAL and refused[0][0] == original[0][0]
    filtered = reshape("filter", original)  # type: ignore[arg-type]
    assert sum(isinstance(e, TextDelta) for _, e in filtered) == FILTERED_AFTER_TOKENS
    assert filtered[-1][1] == Done("content_filter")
    assert filtered[-1][0] <= filtered[FILTERED_AFTER_TOKENS - 1][0]  # it stops at the cut
    assert reshape("openai", original) is original  # type: ignore[arg-type]


def test_strict_refusals() -> None:
    assert strict_refusal({"max_completion_tokens": 5, "temperature": 1}) is None
    assert strict_refusal({"max_tokens": 5})[1] == "max_tokens"  # type: ignore[index]
    assert strict_refusal({"temperature": 0})[2] == "unsupported_value"  # type: ignore[index]
    responses = strict_refusal({"temperature": 0.2}, responses=True)
    assert responses is not None and responses[2] == "unsupported_parameter"
