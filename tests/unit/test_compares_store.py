"""Compares on SQLite and PostgreSQL: lanes as sibling answers, follow-ups per lane, votes, Stop."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from chat_core import OfflineBackend
from chat_core.chat.live import LiveAnswers
from chat_core.compare import (
    LaneSpec,
    continue_in_chat,
    follow_up,
    lane_turns,
    list_compares,
    live_lanes,
    owner_leaderboard,
    reload,
    start_compare,
    stop_all,
    stop_lane,
    vote,
)
from chat_core.errors import NotFoundError, ValidationError
from chat_core.storage.store import ChatStore

OWNER = "browser:alice"
LANES = [LaneSpec(model="offline-fast"), LaneSpec(model="offline-scripted")]


@pytest.fixture
def store(store_url: str) -> Iterator[ChatStore]:
    with ChatStore(store_url) as store:
        yield store


def backends(n: int, tps: float = 400.0) -> list[OfflineBackend]:
    return [OfflineBackend(tokens_per_second=tps) for _ in range(n)]


def settle(registry: LiveAnswers, timeout: float = 20.0) -> None:
    """Until every run has ended and stored its final answer (it then leaves the registry)."""
    deadline = time.monotonic() + timeout
    while len(registry) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(registry) == 0


def test_a_compare_is_a_conversation_whose_prompt_has_one_answer_per_lane(
    store: ChatStore,
) -> None:
    registry = LiveAnswers()
    conv = start_compare(store, OWNER, "/lorem 30", LANES, backends(2), registry=registry)
    settle(registry)
    record = reload(store, OWNER, conv)
    assert record is not None and len(record.turns) == 1
    (p0, a0), (p1, a1) = record.turns[0]
    assert p0 == p1  # one prompt...
    stored = store.get_conversation(OWNER, conv)
    assert stored is not None and set(stored.siblings[a1]) == {a0, a1}  # ...answers are siblings
    first, second = (lane_turns(store, OWNER, record, k, registry)[0] for k in range(2))
    assert first.answer.model == "offline-fast" and second.answer.model == "offline-scripted"
    assert first.answer.status == second.answer.status == "complete"
    assert first.answer.content == second.answer.content  # same prompt, same script
    assert first.answer.metrics["first_token_s"] is not None
    assert [s.conversation_id for s in list_compares(store.db, OWNER)] == [conv]
    assert list_compares(store.db, "browser:mallory") == []
    assert reload(store, "browser:mallory", conv) is None


def test_one_lane_fails_alone_and_stop_touches_only_its_lane(store: ChatStore) -> None:
    registry = LiveAnswers()
    lanes = [  # at 40 tok/s: lane 0 fails after 20 tokens (1.25 s), the others take 10 s
        LaneSpec(model="offline-slow", system="/error server after 20"),
        LaneSpec(model="offline-scripted"),
        LaneSpec(model="offline-scripted"),
    ]
    conv = start_compare(store, OWNER, "/lorem 400", lanes, backends(3, 40.0), registry=registry)
    record = reload(store, OWNER, conv)
    assert record is not None and len(live_lanes(record, registry)) == 3
    assert stop_lane(record, 1, registry)
    settle_failed = time.monotonic() + 10
    while registry.get(record.turns[0][0][1]) is not None and time.monotonic() < settle_failed:
        time.sleep(0.02)
    # lane 0 failed on its own, lane 1 stopped, lane 2 still streams
    assert registry.get(record.turns[0][2][1]) is not None
    assert stop_all(record, registry) == 1
    settle(registry)
    statuses = [lane_turns(store, OWNER, record, k, registry)[0].answer.status for k in range(3)]
    assert statuses == ["error", "stopped", "stopped"]
    failed = lane_turns(store, OWNER, record, 0, registry)[0].answer
    assert "server failed" in failed.metrics["error_message"]


def test_follow_ups_go_after_each_lanes_own_answer(store: ChatStore) -> None:
    registry = LiveAnswers()
    lanes = [LaneSpec(model="offline-fast"), LaneSpec(model="offline-slow", max_tokens=3)]
    # at 40 tok/s the fast lane's scripted answer takes a while: still streaming just below
    conv = start_compare(store, OWNER, "Hello there", lanes, backends(2, 40.0), registry=registry)
    record = reload(store, OWNER, conv)
    assert record is not None
    with pytest.raises(ValidationError) as busy:  # not while a lane streams
        follow_up(store, OWNER, record, "And then?", backends(2), registry=registry)
    assert busy.value.field == "prompt"
    settle(registry)
    assert follow_up(store, OWNER, record, "And then?", backends(2), registry=registry) == 1
    settle(registry)
    record = reload(store, OWNER, conv)
    assert record is not None and len(record.turns) == 2
    for k in range(2):
        first, second = lane_turns(store, OWNER, record, k, registry)
        assert second.prompt.parent_id == first.answer.id  # each lane its own branch
        assert second.answer.content.count("after 2 earlier messages") == (k == 0)
    # Continue in Chat: the lane's last answer becomes the chat's active leaf
    assert continue_in_chat(store, OWNER, record, 1) == conv
    chat = store.get_conversation(OWNER, conv)
    assert chat is not None and chat.messages[-1].id == record.turns[1][1][1]
    assert [m.role for m in chat.messages] == ["user", "assistant", "user", "assistant"]
    assert chat.messages[1].id == record.turns[0][1][1]  # lane 1's first answer on the path


def test_votes_once_per_turn_feed_the_owners_leaderboard(store: ChatStore) -> None:
    registry = LiveAnswers()
    conv = start_compare(store, OWNER, "/lorem 20", LANES, backends(2), registry=registry)
    settle(registry)
    record = reload(store, OWNER, conv)
    assert record is not None
    with pytest.raises(ValidationError) as bad:
        vote(store, OWNER, record, "7")
    assert bad.value.field == "winner"
    assert vote(store, OWNER, record, "1") == 0
    with pytest.raises(ValidationError) as twice:
        vote(store, OWNER, record, "0")
    assert twice.value.field == "turn"
    with pytest.raises(NotFoundError):
        vote(store, "browser:mallory", record, "0")
    again = reload(store, OWNER, conv)
    assert again is not None and again.verdicts == {0: "1"}
    rows = {r.model: r for r in owner_leaderboard(store, OWNER)}
    assert (rows["offline-scripted"].won, rows["offline-fast"].lost) == (1, 1)
    assert rows["offline-fast"].median_tokens_per_s is not None
    assert owner_leaderboard(store, "browser:mallory") == []


def test_search_rename_delete_and_a_restart_keep_compares(store_url: str) -> None:
    registry = LiveAnswers()
    with ChatStore(store_url) as store:
        sky = start_compare(store, OWNER, "Why is the sky blue?", LANES, backends(2),
                            registry=registry)  # fmt: skip
        tea = start_compare(store, OWNER, "Tea or coffee", LANES, backends(2), registry=registry)
        settle(registry)
        assert [s.conversation_id for s in list_compares(store.db, OWNER, "SKY")] == [sky]
        store.rename(OWNER, tea, "Morning drinks")
        assert [s.conversation_id for s in list_compares(store.db, OWNER, "drinks")] == [tea]
        assert [s.conversation_id for s in list_compares(store.db, OWNER, "coffee")] == [tea]
    with ChatStore(store_url) as reopened:  # a restart
        assert {s.conversation_id for s in list_compares(reopened.db, OWNER)} == {sky, tea}
        reopened.delete(OWNER, sky)
        assert [s.conversation_id for s in list_compares(reopened.db, OWNER)] == [tea]
        assert reload(reopened, OWNER, sky) is None
