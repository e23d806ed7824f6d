"""The Model select: the configured model selected, models that cannot chat hidden."""

from __future__ import annotations

import pytest

from chat_core import model_options
from chat_core.backends.models import is_chat_model

OPENAI_LIST = [
    "babbage-002",
    "chatgpt-4o-latest",
    "dall-e-2",
    "dall-e-3",
    "gpt-4o",
    "gpt-4o-audio-preview",
    "gpt-4o-mini",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-tts",
    "gpt-4o-realtime-preview",
    "gpt-5-mini",
    "gpt-image-1",
    "o4-mini",
    "omni-moderation-latest",
    "text-embedding-3-large",
    "text-embedding-3-small",
    "tts-1",
    "whisper-1",
]


def test_configured_model_is_first_and_non_chat_models_are_hidden() -> None:
    options = model_options(OPENAI_LIST, "gpt-5-mini", "gpt-4o-mini")
    assert options == [
        "gpt-5-mini",
        "babbage-002",
        "chatgpt-4o-latest",
        "gpt-4o",
        "gpt-4o-mini",
        "o4-mini",
    ]


def test_without_a_configured_model_the_default_is_selected() -> None:
    assert model_options(OPENAI_LIST, None, "gpt-4o-mini")[0] == "gpt-4o-mini"
    assert model_options(OPENAI_LIST, "", "gpt-4o-mini")[0] == "gpt-4o-mini"


def test_a_configured_model_the_server_does_not_list_is_still_offered() -> None:
    # Azure deployments and local servers name models freely; free text must stay possible.
    assert model_options(["llama3.1:8b"], "my-deployment", "gpt-4o-mini") == [
        "my-deployment",
        "llama3.1:8b",
    ]


def test_an_empty_list_offers_the_configured_model_alone_without_duplicates() -> None:
    assert model_options([], "gpt-4o", "gpt-4o-mini") == ["gpt-4o"]
    assert model_options(["gpt-4o", "gpt-4o", ""], "gpt-4o", "x") == ["gpt-4o"]


@pytest.mark.parametrize(
    "name",
    ["text-embedding-ada-002", "whisper-1", "tts-1-hd", "dall-e-3", "gpt-image-1",
     "omni-moderation-latest", "gpt-4o-transcribe", "nomic-embed-text"],
)  # fmt: skip
def test_models_that_cannot_chat(name: str) -> None:
    assert not is_chat_model(name)


@pytest.mark.parametrize("name", ["gpt-4.1", "o3", "deepseek-reasoner", "qwen3:32b", "sonar-pro"])
def test_chat_models(name: str) -> None:
    assert is_chat_model(name)
