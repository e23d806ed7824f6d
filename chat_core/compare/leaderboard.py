"""Votes and the leaderboard: per model, votes won, tied and lost, and its median speeds.

Pure. A vote names the winning lane, ``tie`` or ``bad`` (all bad); each lane's model
wins, ties or loses once per vote: the winner's wins and the others lose, a tie ties
them all, all bad loses them all. Speeds are medians over every compared answer of
the model (voted or not), so one slow run does not define it. No Elo: a handful of
votes on a demo deserves counts, not a rating.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from chat_core.errors import ValidationError
from chat_core.metrics import percentile

TIE = "tie"
ALL_BAD = "bad"


@dataclass(frozen=True, slots=True)
class VoteRecord:
    """One vote: the models of the lanes, in order, and the verdict."""

    lane_models: tuple[str, ...]
    winner: str  # a lane index as text ("0".."3"), TIE or ALL_BAD


@dataclass(frozen=True, slots=True)
class AnswerSample:
    """One compared answer's speeds (None when it had no text)."""

    model: str
    first_token_s: float | None
    tokens_per_s: float | None


@dataclass
class LeaderRow:
    """A model's line on the leaderboard."""

    model: str
    won: int = 0
    tied: int = 0
    lost: int = 0
    first_tokens_s: list[float] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)

    @property
    def votes(self) -> int:
        return self.won + self.tied + self.lost

    @property
    def median_first_token_s(self) -> float | None:
        return percentile(self.first_tokens_s, 50)

    @property
    def median_tokens_per_s(self) -> float | None:
        return percentile(self.rates, 50)


def check_verdict(winner: object, lanes: int) -> str:
    """The verdict as stored, or ValidationError naming ``winner``."""
    allowed = [str(i) for i in range(lanes)] + [TIE, ALL_BAD]
    if not isinstance(winner, str) or winner not in allowed:
        raise ValidationError("winner", f"the verdict must be one of {', '.join(allowed)}")
    return winner


def leaderboard(votes: Iterable[VoteRecord], samples: Iterable[AnswerSample]) -> list[LeaderRow]:
    """One row per model: most wins first, then fewest losses, then by name."""
    rows: dict[str, LeaderRow] = {}

    def row(model: str) -> LeaderRow:
        return rows.setdefault(model, LeaderRow(model))

    for vote in votes:
        for i, model in enumerate(vote.lane_models):
            if vote.winner == TIE:
                row(model).tied += 1
            elif vote.winner == str(i):
                row(model).won += 1
            else:  # another lane won, or all were bad
                row(model).lost += 1
    for sample in samples:
        r = row(sample.model)
        if sample.first_token_s is not None:
            r.first_tokens_s.append(sample.first_token_s)
        if sample.tokens_per_s is not None:
            r.rates.append(sample.tokens_per_s)
    return sorted(rows.values(), key=lambda r: (-r.won, r.lost, r.model))


def verdict_label(winner: str, names: Sequence[str]) -> str:
    """'Lane B better', 'Tie', 'All bad'."""
    if winner == TIE:
        return "Tie"
    if winner == ALL_BAD:
        return "All bad"
    return f"{names[int(winner)]} better"


__all__ = [
    "ALL_BAD",
    "TIE",
    "AnswerSample",
    "LeaderRow",
    "VoteRecord",
    "check_verdict",
    "leaderboard",
    "verdict_label",
]
