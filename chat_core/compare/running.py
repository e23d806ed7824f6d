"""A compare's runs: start every lane at once, follow up per lane, stop, find them again.

Each lane's answer is the chat's own (``chat_core.chat.answering.start_answer``): its
own ``Run`` on the background loop, a stored ``streaming`` row, a finish callback
that stores the final answer, an entry in the process's live registry. So lanes are
truly parallel (a slow, stalled, failing or stopped lane holds back no other), and a
rerun, a reload or a second tab finds a live lane by its answer's id, as Chat does.

The first prompt is one message with one answer per lane (siblings); a follow-up is
one prompt per lane, the child of that lane's last answer, so each lane keeps its own
history and "Continue in Chat" is a switch of the active leaf.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chat_core.backends.base import Backend
from chat_core.chat.answering import start_answer, stored_params
from chat_core.chat.live import LIVE_ANSWERS, LiveAnswer, LiveAnswers
from chat_core.compare.lanes import LaneSpec, check_prompt
from chat_core.errors import ValidationError
from chat_core.messages import ChatMessage, build_conversation
from chat_core.storage.compares import (
    CompareRecord,
    Turn,
    add_turn,
    create_compare,
    get_compare,
)
from chat_core.storage.records import StoredMessage
from chat_core.storage.store import ChatStore


@dataclass(frozen=True)
class LaneTurn:
    """One turn of one lane: its prompt, its stored answer, and the live run if it streams."""

    prompt: StoredMessage | None
    answer: StoredMessage | None
    live: LiveAnswer | None


def start_compare(
    store: ChatStore,
    owner: str,
    prompt: str,
    lanes: Sequence[LaneSpec],
    backends: Sequence[Backend],
    *,
    blind: bool = False,
    registry: LiveAnswers = LIVE_ANSWERS,
) -> str:
    """Store a new compare and start one run per lane; returns its conversation id.

    The lanes' parameters are checked by the caller (``check_lanes``); the prompt here.
    """
    check_prompt(prompt)
    conversation = build_conversation(prompt)
    params = [lane.params() for lane in lanes]
    conv_id = store.create_conversation(owner).id
    asked = store.add_message(owner, conv_id, "user", prompt, parent_id=None)
    create_compare(store.db, owner, conv_id, [lane.to_dict() for lane in lanes], blind)
    # Every lane's row first, then every run: the lanes start together, not one write apart.
    rows = [
        store.start_answer(
            owner, conv_id, model=p.model, params=stored_params(p), parent_id=asked.id
        ).id
        for p in params
    ]
    add_turn(store.db, owner, conv_id, [(asked.id, row) for row in rows])
    for backend, lane_params, row in zip(backends, params, rows, strict=True):
        start_answer(
            backend,
            conversation,
            lane_params,
            "new",
            continued=None,
            store=store,
            owner=owner,
            conversation_id=conv_id,
            registry=registry,
            stored_id=row,
        )
    return conv_id


def follow_up(
    store: ChatStore,
    owner: str,
    record: CompareRecord,
    prompt: str,
    backends: Sequence[Backend],
    *,
    registry: LiveAnswers = LIVE_ANSWERS,
) -> int:
    """Send ``prompt`` to every lane after its own last answer; returns the new turn's index.

    Refused (ValidationError naming ``prompt``) while a lane still streams.
    """
    check_prompt(prompt)
    lanes = [LaneSpec(**lane) for lane in record.lanes]
    if any(registry.get(answer) is not None for _p, answer in record.turns[-1]):
        raise ValidationError("prompt", "wait until every lane has finished (or stop them)")
    conversations = [
        build_conversation(prompt, lane_history(store, owner, record, k)) for k in range(len(lanes))
    ]
    turn: Turn = []
    for k, lane in enumerate(lanes):
        conv_id, last_answer = record.conversation_id, record.turns[-1][k][1]
        asked = store.add_message(owner, conv_id, "user", prompt, parent_id=last_answer)
        row = store.start_answer(
            owner,
            conv_id,
            model=lane.model,
            params=stored_params(lane.params()),
            parent_id=asked.id,
        )
        turn.append((asked.id, row.id))
    index = add_turn(store.db, owner, record.conversation_id, turn)
    for k, (lane, backend) in enumerate(zip(lanes, backends, strict=True)):
        start_answer(
            backend,
            conversations[k],
            lane.params(),
            "new",
            continued=None,
            store=store,
            owner=owner,
            conversation_id=record.conversation_id,
            registry=registry,
            stored_id=turn[k][1],
        )
    return index


def lane_history(
    store: ChatStore, owner: str, record: CompareRecord, lane: int
) -> list[ChatMessage]:
    """What lane ``lane`` has said so far: each turn's prompt and that lane's answer."""
    out: list[ChatMessage] = []
    for turn in record.turns:
        prompt_id, answer_id = turn[lane]
        asked, answer = store.get_message(owner, prompt_id), store.get_message(owner, answer_id)
        if asked is not None and answer is not None and answer.content:
            out += [ChatMessage("user", asked.content), ChatMessage("assistant", answer.content)]
    return out


def lane_turns(
    store: ChatStore,
    owner: str,
    record: CompareRecord,
    lane: int,
    registry: LiveAnswers = LIVE_ANSWERS,
) -> list[LaneTurn]:
    """Lane ``lane``'s turns as the page shows them, a live answer with its run."""
    return [
        LaneTurn(
            store.get_message(owner, turn[lane][0]),
            store.get_message(owner, turn[lane][1]),
            registry.get(turn[lane][1]),
        )
        for turn in record.turns
    ]


def live_lanes(record: CompareRecord, registry: LiveAnswers = LIVE_ANSWERS) -> list[LiveAnswer]:
    """The live runs of the compare's last turn (a reload, a second tab: the same runs)."""
    if not record.turns:
        return []
    return [live for _p, a in record.turns[-1] if (live := registry.get(a)) is not None]


def stop_lane(record: CompareRecord, lane: int, registry: LiveAnswers = LIVE_ANSWERS) -> bool:
    """Stop lane ``lane``'s live answer (its partial text is kept, marked stopped)."""
    live = registry.get(record.turns[-1][lane][1]) if record.turns else None
    return live.run.cancel() if live is not None else False


def stop_all(record: CompareRecord, registry: LiveAnswers = LIVE_ANSWERS) -> int:
    """Stop every live lane; returns how many were stopped."""
    return sum(live.run.cancel() for live in live_lanes(record, registry))


def continue_in_chat(store: ChatStore, owner: str, record: CompareRecord, lane: int) -> str:
    """Make lane ``lane``'s last answer the chat's active leaf; returns the conversation id."""
    store.switch_version(owner, record.turns[-1][lane][1])
    return record.conversation_id


def reload(store: ChatStore, owner: str, conversation_id: str) -> CompareRecord | None:
    """The compare as stored now (None: unknown, deleted or another owner's)."""
    return get_compare(store.db, owner, conversation_id)


__all__ = [
    "LaneTurn",
    "continue_in_chat",
    "follow_up",
    "lane_history",
    "lane_turns",
    "live_lanes",
    "reload",
    "start_compare",
    "stop_all",
    "stop_lane",
]
