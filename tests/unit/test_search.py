"""Searching chats covers titles and message text, owner by owner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chat_core import ChatStore, search_conversations

ME, OTHER = "user:me", "user:other"


@pytest.fixture
def store() -> Iterator[ChatStore]:
    store = ChatStore("sqlite://")
    yield store
    store.close()


def chat(store: ChatStore, owner: str, prompt: str, answer: str) -> str:
    conversation = store.create_conversation(owner)
    store.add_message(owner, conversation.id, "user", prompt)
    store.add_message(owner, conversation.id, "assistant", answer)
    return conversation.id


def test_words_match_titles_and_message_text_in_any_case(store: ChatStore) -> None:
    picnic = chat(store, ME, "Plan a picnic", "Bring SANDWICHES and lemonade.")
    taxes = chat(store, ME, "Taxes for 2026", "File before April.")
    assert search_conversations(store, ME, "picnic") == {picnic}
    assert search_conversations(store, ME, "sandwiches") == {picnic}  # only in the answer
    assert search_conversations(store, ME, "april taxes") == {taxes}  # answer + title
    assert search_conversations(store, ME, "picnic april") == set()  # every word, one chat


def test_blank_query_filters_nothing_and_other_owners_stay_hidden(store: ChatStore) -> None:
    chat(store, OTHER, "Secret picnic", "shh")
    assert search_conversations(store, ME, "   ") is None
    assert search_conversations(store, ME, "picnic") == set()


def test_like_wildcards_are_literal(store: ChatStore) -> None:
    chat(store, ME, "one", "two")
    percent = chat(store, ME, "100% sure", "yes")
    assert search_conversations(store, ME, "%") == {percent}
    assert search_conversations(store, ME, "_") == set()
