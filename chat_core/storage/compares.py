"""Compare rows and votes: a compare's lanes and turns beside its conversation, per owner.

A compare is a conversation (its messages, titles and deletion are the store's) plus
one ``compares`` row: the lanes' settings as JSON and, per turn, each lane's (prompt
id, answer id). Votes are one per turn. Another owner's compare behaves as an unknown
one: None from getters, ``NotFoundError`` from writers. Deleting the conversation
deletes both through the foreign keys' cascade.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update

from chat_core.errors import NotFoundError, StoreError, ValidationError
from chat_core.storage.db import Database
from chat_core.storage.records import now_text
from chat_core.storage.schema import compares, conversations, messages, votes

Turn = list[tuple[int, int]]  # per lane: (prompt id, answer id)


@dataclass(frozen=True)
class CompareRecord:
    """A stored compare: its conversation, lanes (as dicts), turns, blind flag and votes."""

    conversation_id: str
    title: str | None
    lanes: list[dict[str, Any]]
    turns: list[Turn]
    blind: bool
    verdicts: dict[int, str]  # turn -> winner
    updated_at: str


@dataclass(frozen=True)
class CompareSummary:
    conversation_id: str
    title: str | None
    lanes: int
    turns: int
    updated_at: str


def create_compare(
    db: Database, owner: str, conversation_id: str, lanes: Sequence[dict[str, Any]], blind: bool
) -> None:
    """The compare row of an (existing, owned) conversation, with no turns yet."""
    now = now_text()
    with db.write() as conn:
        _owned_conversation(conn, owner, conversation_id)
        conn.execute(
            insert(compares).values(
                conversation_id=conversation_id,
                owner=owner,
                lanes=json.dumps(list(lanes)),
                turns="[]",
                blind=int(blind),
                created_at=now,
                updated_at=now,
            )
        )


def add_turn(db: Database, owner: str, conversation_id: str, turn: Turn) -> int:
    """Append a turn (each lane's prompt and answer ids); returns its index."""
    with db.write() as conn:
        row = _row(conn, owner, conversation_id)
        turns = json.loads(row.turns)
        turns.append([list(pair) for pair in turn])
        conn.execute(
            update(compares)
            .where(compares.c.conversation_id == conversation_id)
            .values(turns=json.dumps(turns), updated_at=now_text())
        )
        return len(turns) - 1


def get_compare(db: Database, owner: str, conversation_id: str) -> CompareRecord | None:
    """The owner's compare, or None (unknown, deleted, or another owner's)."""
    with db.read() as conn:
        row = conn.execute(
            select(compares, conversations.c.title)
            .join(conversations, conversations.c.id == compares.c.conversation_id)
            .where(compares.c.conversation_id == conversation_id, compares.c.owner == owner)
        ).first()
        if row is None:
            return None
        verdicts = {
            turn: winner
            for turn, winner in conn.execute(
                select(votes.c.turn, votes.c.winner).where(
                    votes.c.conversation_id == conversation_id, votes.c.owner == owner
                )
            )
        }
    return CompareRecord(
        row.conversation_id,
        row.title,
        json.loads(row.lanes),
        [[(int(p), int(a)) for p, a in turn] for turn in json.loads(row.turns)],
        bool(row.blind),
        verdicts,
        row.updated_at,
    )


def list_compares(
    db: Database, owner: str, query: str = "", limit: int = 200
) -> list[CompareSummary]:
    """The owner's compares, newest first; ``query`` matches titles and prompts."""
    stmt = (
        select(compares, conversations.c.title)
        .join(conversations, conversations.c.id == compares.c.conversation_id)
        .where(compares.c.owner == owner)
    )
    if query.strip():
        pattern = f"%{query.strip().lower()[:200]}%"
        prompts = select(messages.c.conversation_id).where(
            and_(messages.c.role == "user", func.lower(messages.c.content).like(pattern))
        )
        stmt = stmt.where(
            or_(
                func.lower(conversations.c.title).like(pattern),
                compares.c.conversation_id.in_(prompts),
            )
        )
    with db.read() as conn:
        rows = conn.execute(stmt.order_by(compares.c.updated_at.desc()).limit(limit)).all()
    return [
        CompareSummary(
            r.conversation_id,
            r.title,
            len(json.loads(r.lanes)),
            len(json.loads(r.turns)),
            r.updated_at,
        )
        for r in rows
    ]


def record_vote(
    db: Database, owner: str, conversation_id: str, turn: int, winner: str, models: Sequence[str]
) -> None:
    """Store the verdict of one turn; ValidationError naming ``turn`` when it has one."""
    with db.write() as conn:
        row = _row(conn, owner, conversation_id)
        if not 0 <= turn < len(json.loads(row.turns)):
            raise ValidationError("turn", "no such turn in this compare")
        voted = conn.execute(
            select(votes.c.id).where(
                votes.c.conversation_id == conversation_id, votes.c.turn == turn
            )
        ).first()
        if voted is not None:
            raise ValidationError("turn", "this turn has a vote already")
        conn.execute(
            insert(votes).values(
                conversation_id=conversation_id,
                owner=owner,
                turn=turn,
                winner=winner,
                lane_models=json.dumps(list(models)),
                created_at=now_text(),
            )
        )


def owner_votes(db: Database, owner: str) -> list[tuple[list[str], str]]:
    """Every vote of the owner: (each lane's model, winner)."""
    with db.read() as conn:
        rows = conn.execute(
            select(votes.c.lane_models, votes.c.winner)
            .join(conversations, conversations.c.id == votes.c.conversation_id)
            .where(votes.c.owner == owner)
        ).all()
    return [(json.loads(r.lane_models), r.winner) for r in rows]


def compared_answers(db: Database, owner: str) -> list[tuple[str | None, dict[str, Any]]]:
    """(model, stored metrics) of every answer in the owner's compares."""
    with db.read() as conn:
        ids = [
            answer
            for (turns,) in conn.execute(select(compares.c.turns).where(compares.c.owner == owner))
            for turn in json.loads(turns)
            for _prompt, answer in turn
        ]
        out: list[tuple[str | None, dict[str, Any]]] = []
        for start in range(0, len(ids), 500):
            rows = conn.execute(
                select(messages.c.model, messages.c.metrics).where(
                    messages.c.id.in_(ids[start : start + 500])
                )
            )
            out += [(r.model, json.loads(r.metrics)) for r in rows]
    return out


def _owned_conversation(conn: Any, owner: str, conversation_id: str) -> None:
    found = conn.execute(
        select(conversations.c.id).where(
            conversations.c.id == conversation_id, conversations.c.owner == owner
        )
    ).first()
    if found is None:
        raise NotFoundError("conversation_id", "no such conversation")


def _row(conn: Any, owner: str, conversation_id: str) -> Any:
    row = conn.execute(
        select(compares).where(
            compares.c.conversation_id == conversation_id, compares.c.owner == owner
        )
    ).first()
    if row is None:
        raise NotFoundError("conversation_id", "no such compare")
    return row


__all__ = [
    "CompareRecord",
    "CompareSummary",
    "StoreError",
    "Turn",
    "add_turn",
    "compared_answers",
    "create_compare",
    "get_compare",
    "list_compares",
    "owner_votes",
    "record_vote",
]
