"""Starters fit the back end: directives only for the offline model, shown on the chip."""

from __future__ import annotations

from chat_core import GenerationParams, OfflineBackend, TextDelta, directive_list, starters_for
from chat_core.backends.directives import parse_directives
from chat_core.backends.offline import EXPLAIN_STREAMING_PROMPT
from chat_core.messages import build_conversation
from chat_core.storage.records import title_from_prompt


def test_offline_starters_show_their_directive_and_real_models_get_none() -> None:
    offline = starters_for("offline")
    with_directives = [s for s in offline if parse_directives(s.prompt).lorem is not None]
    assert with_directives, "the offline starters demonstrate a directive"
    for starter in offline:
        if starter.prompt.startswith("/"):
            assert starter.directive and f"`{starter.directive}`" in starter.chip
            assert starter.prompt.startswith(starter.directive)
    for kind in ("openai", "remote"):
        assert not [s for s in starters_for(kind) if "/" in s.prompt.split()[0]]


def test_a_directive_starter_is_titled_by_its_words() -> None:
    for starter in starters_for("offline"):
        assert not title_from_prompt(starter.prompt).startswith("/")


def test_the_offline_model_explains_streaming_when_asked_its_starter() -> None:
    conversation = build_conversation(EXPLAIN_STREAMING_PROMPT, [])
    events = OfflineBackend(tokens_per_second=10_000).stream(conversation, GenerationParams())
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert "token" in text and "st.write_stream" in text and "You wrote" not in text


def test_directive_list_is_inline_code() -> None:
    assert directive_list(("/lorem N", "/think S")) == "`/lorem N`, `/think S`"
