"""Login's edges: the gate, what became of a login, which of the browser's chats to offer."""

from datetime import UTC, datetime, timedelta

import pytest

from chat_core import ValidationError
from chat_core.chat.login import (
    chats_to_offer,
    gate,
    kept_text,
    login_outcome,
    login_started,
    move_offer_text,
    moved_text,
)
from chat_core.storage.records import ConversationSummary

NOW = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("require_login", "auth_configured", "logged_in", "expected"),
    [
        (False, False, False, "open"),
        (False, True, False, "open"),
        (True, True, True, "open"),
        (True, True, False, "login"),
        (True, False, False, "unconfigured"),  # fail closed: nobody could ever log in
    ],
)
def test_the_gate_opens_only_for_whom_it_should(
    require_login, auth_configured, logged_in, expected
):
    verdict = gate(
        require_login=require_login, auth_configured=auth_configured, logged_in=logged_in
    )
    assert verdict == expected


def test_a_login_that_started_moments_ago_came_back_logged_in_or_refused():
    started = login_started(NOW - timedelta(seconds=20))
    assert login_outcome(started, now=NOW, logged_in=True) == "logged_in"
    assert login_outcome(started, now=NOW, logged_in=False) == "denied"


@pytest.mark.parametrize(
    "started",
    [
        None,  # no login started in this browser
        login_started(NOW - timedelta(hours=1)),  # given up long ago
        login_started(NOW + timedelta(minutes=1)),  # a clock that went back: not trusted
        "yesterday",
        12345,
        {"at": "2026-12-04"},
    ],
)
def test_no_recent_login_means_no_outcome(started):
    assert login_outcome(started, now=NOW, logged_in=False) is None
    assert login_outcome(started, now=NOW, logged_in=True) is None


def test_login_started_needs_an_aware_time():
    with pytest.raises(ValidationError, match="timezone-aware"):
        login_started(datetime(2026, 12, 4, 18, 0))


def chat(updated_at: str) -> ConversationSummary:
    return ConversationSummary("c-" + updated_at, "A chat", updated_at, updated_at, 2)


def test_every_browser_chat_is_offered_until_the_person_keeps_them():
    chats = [chat("2026-12-04T10:00:00.000000Z"), chat("2026-12-04T11:00:00.000000Z")]
    assert chats_to_offer([], None) == 0
    assert chats_to_offer(chats, None) == 2
    kept = "2026-12-04T11:00:00.000000Z"  # the newest chat when "keep" was chosen
    assert chats_to_offer(chats, kept) == 0
    # A chat made in the browser since then: the offer comes back, for all of them.
    newer = [*chats, chat("2026-12-04T12:00:00.000000Z")]
    assert chats_to_offer(newer, kept) == 3
    assert chats_to_offer(chats, 42) == 2  # a damaged note is no choice


def test_the_words_count_right():
    assert "1 chat from before" in move_offer_text(1)
    assert "3 chats from before" in move_offer_text(3)
    assert moved_text(1) == "Moved 1 chat from this browser into your account."
    assert kept_text(1).startswith("The chat stays with this browser")
    assert "see it again" in kept_text(1)
    assert kept_text(2).startswith("The 2 chats stay") and "see them again" in kept_text(2)


def test_the_login_surface_is_its_all():
    import chat_core.chat.login as login

    namespace: dict[str, object] = {}
    exec("from chat_core.chat.login import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(login.__all__)
    assert not [name for name in login.__all__ if name.startswith("_")]
