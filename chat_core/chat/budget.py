"""The visitor budget: how much of the owner's key one person may spend per hour.

``CHAT_VISITOR_BUDGET`` (``REQUESTS/TOKENS``, e.g. ``30/50000``) counts per
person (browser or logged-in user) and clock hour (UTC), from the store's usage
ledger, so it survives an app restart and holds across app processes. A fixed
hour rather than a sliding one lets the message say exactly when it resets.

It applies only when the owner pays: not for the offline model, nor when the
visitor typed their own key or endpoint. ``check_budget`` is the pure policy;
``BudgetedBackend`` enforces it for every way an answer is asked for (send,
regenerate, edit, continue) and records what each answer spent: one request
when it starts (so parallel tabs cannot overrun it), its tokens when it ends.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from chat_core.attachments import estimated_tokens
from chat_core.backends.base import Backend
from chat_core.events import Done, StreamError, StreamEvent, TextDelta, Usage
from chat_core.messages import Conversation, GenerationParams
from chat_core.metrics import estimate_tokens
from chat_core.settings import VisitorBudget

WINDOW = timedelta(hours=1)
_ADMIT_LOCK = threading.Lock()  # one process's admissions, one at a time


class UsageLedger(Protocol):
    """The two ledger methods of ``ChatStore`` the budget needs."""

    def add_usage(
        self, identity: str, *, requests: int, tokens: int, at: datetime | None = None
    ) -> None: ...

    def usage_since(self, identity: str, since: datetime) -> tuple[int, int]: ...


@dataclass(frozen=True)
class BudgetCheck:
    """The verdict: allowed, or a short message saying when the budget resets."""

    allowed: bool
    resets_at: datetime
    message: str = ""


def budget_window(now: datetime) -> tuple[datetime, datetime]:
    """The clock hour (UTC) that ``now`` falls in: (start, end)."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return start, start + WINDOW


def budget_applies(backend: str, *, visitor_key: bool, visitor_endpoint: bool) -> bool:
    """Only the owner's key is budgeted: not offline, not a visitor's own key or endpoint."""
    return backend != "offline" and not visitor_key and not visitor_endpoint


def check_budget(
    used_requests: int, used_tokens: int, budget: VisitorBudget, now: datetime
) -> BudgetCheck:
    """Whether one more request fits this hour's budget, given what was used this hour."""
    _, resets_at = budget_window(now)
    over = []
    if budget.requests_per_hour and used_requests >= budget.requests_per_hour:
        over.append(f"{budget.requests_per_hour} requests")
    if budget.tokens_per_hour and used_tokens >= budget.tokens_per_hour:
        over.append(f"{budget.tokens_per_hour:,} tokens")
    if not over:
        return BudgetCheck(True, resets_at)
    minutes = max(1, -(-int((resets_at - now).total_seconds()) // 60))  # rounded up
    message = (
        f"You have used this app's hourly allowance ({' and '.join(over)} per hour). "
        f"It resets at {resets_at:%H:%M} UTC, in {minutes} min. "
        "Your own API key in the sidebar is not limited."
    )
    return BudgetCheck(False, resets_at, message)


def _now() -> datetime:
    return datetime.now(UTC)


class BudgetedBackend:
    """A back end that refuses past the budget (nothing goes upstream) and records usage."""

    def __init__(
        self,
        inner: Backend,
        ledger: UsageLedger,
        person: str,
        budget: VisitorBudget,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.inner, self.ledger, self.person, self.budget = inner, ledger, person, budget
        self.name = inner.name
        self._clock = clock

    def check(self) -> BudgetCheck:
        """The verdict for one more request now."""
        now = self._clock()
        start, _ = budget_window(now)
        return check_budget(*self.ledger.usage_since(self.person, start), self.budget, now)

    def list_models(self) -> list[str]:
        return self.inner.list_models()

    def _admit(self) -> StreamError | None:
        # Check and count as one step: Compare starts 2-4 lanes at once, each admitted on its
        # own worker thread, and two checks before either count overran the last request.
        with _ADMIT_LOCK:
            verdict = self.check()
            if not verdict.allowed:
                return StreamError("rate_limit", verdict.message, retryable=False)
            self.ledger.add_usage(self.person, requests=1, tokens=0, at=self._clock())
        return None

    def _record(self, conversation: Conversation, text: str, usage: Usage | None) -> None:
        if usage is not None:
            tokens = usage.prompt_tokens + usage.completion_tokens
        else:  # a back end that reports no usage: estimate, never count it as free
            sent = sum(estimated_tokens(m) for m in conversation.messages)  # files too
            tokens = sent + estimate_tokens(text)
        if tokens:
            self.ledger.add_usage(self.person, requests=0, tokens=tokens, at=self._clock())

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        """Stream the answer, blocking; past the budget only an error and ``Done``."""
        refusal = self._admit()
        if refusal is not None:
            yield refusal
            yield Done("error")
            return
        text: list[str] = []
        usage: Usage | None = None
        try:
            for event in self.inner.stream(conversation, params):
                text, usage = _tally(event, text, usage)
                yield event
        finally:
            self._record(conversation, "".join(text), usage)

    async def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        """Stream the answer, async; the ledger's database calls run in a worker thread."""
        refusal = await asyncio.to_thread(self._admit)
        if refusal is not None:
            yield refusal
            yield Done("error")
            return
        text: list[str] = []
        usage: Usage | None = None
        source = self.inner.astream(conversation, params)
        try:
            async for event in source:
                text, usage = _tally(event, text, usage)
                yield event
        finally:
            await _aclose(source)
            await asyncio.to_thread(self._record, conversation, "".join(text), usage)


def _tally(
    event: StreamEvent, text: list[str], usage: Usage | None
) -> tuple[list[str], Usage | None]:
    if isinstance(event, TextDelta):
        text.append(event.text)
    elif isinstance(event, Usage):
        usage = event
    return text, usage


async def _aclose(source: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(source, "aclose", None)
    if aclose is not None:
        await aclose()
