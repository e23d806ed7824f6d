"""Voting on a compare's last turn, and the owner's leaderboard from the store."""

from __future__ import annotations

from chat_core.compare.leaderboard import (
    AnswerSample,
    LeaderRow,
    VoteRecord,
    check_verdict,
    leaderboard,
)
from chat_core.errors import ValidationError
from chat_core.storage.compares import (
    CompareRecord,
    compared_answers,
    owner_votes,
    record_vote,
)
from chat_core.storage.store import ChatStore


def vote(store: ChatStore, owner: str, record: CompareRecord, winner: str) -> int:
    """Store the verdict on the last turn (ValidationError naming the field); returns the turn."""
    if not record.turns:
        raise ValidationError("turn", "nothing to vote on yet")
    winner = check_verdict(winner, len(record.lanes))
    turn = len(record.turns) - 1
    models = [str(lane.get("model")) for lane in record.lanes]
    record_vote(store.db, owner, record.conversation_id, turn, winner, models)
    return turn


def owner_leaderboard(store: ChatStore, owner: str) -> list[LeaderRow]:
    """The owner's leaderboard: their votes, and the speeds of every compared answer."""
    votes = [VoteRecord(tuple(models), winner) for models, winner in owner_votes(store.db, owner)]
    samples = [
        AnswerSample(model or "?", _number(m.get("first_token_s")), _number(m.get("tokens_per_s")))
        for model, m in compared_answers(store.db, owner)
        if m
    ]
    return leaderboard(votes, samples)


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


__all__ = ["owner_leaderboard", "vote"]
