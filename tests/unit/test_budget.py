"""The visitor budget: the pure policy, its setting, and the back end that enforces it."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from chat_core import (
    BudgetedBackend,
    ChatStore,
    ConfigError,
    Done,
    GenerationParams,
    OfflineBackend,
    StreamError,
    TextDelta,
    Usage,
    VisitorBudget,
    budget_applies,
    build_conversation,
    check_budget,
    load_settings,
)
from chat_core.chat.budget import budget_window
from chat_core.settings import parse_visitor_budget

NOW = datetime(2026, 12, 1, 10, 37, 20, tzinfo=UTC)
PERSON = "browser:" + "a" * 32
PARAMS = GenerationParams()


# -- the setting -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30/50000", VisitorBudget(30, 50000)),
        (" 30 / 50000 ", VisitorBudget(30, 50000)),
        ("0/50000", VisitorBudget(0, 50000)),  # tokens only
        ("30/0", VisitorBudget(30, 0)),  # requests only
        ("0/0", None),
        ("off", None),
        ("", None),
    ],
)
def test_budget_setting_format(raw, expected):
    assert parse_visitor_budget(raw) == expected


@pytest.mark.parametrize("raw", ["30", "30/", "/5", "-1/5", "30/5/1h", "thirty/5", "1.5/5"])
def test_a_malformed_budget_is_a_config_error_naming_the_setting(raw):
    with pytest.raises(ConfigError, match="CHAT_VISITOR_BUDGET"):
        load_settings(env={"CHAT_VISITOR_BUDGET": raw}, dotenv_path=None, secrets={})


def test_budget_is_read_from_secrets_and_environment():
    settings = load_settings(env={"CHAT_VISITOR_BUDGET": "30/50000"}, dotenv_path=None, secrets={})
    assert settings.visitor_budget == VisitorBudget(30, 50000)
    assert load_settings(env={}, dotenv_path=None, secrets={}).visitor_budget is None


# -- the policy --------------------------------------------------------------------------------
def test_the_window_is_the_clock_hour():
    start, end = budget_window(NOW)
    assert start == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert end == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)


def test_under_the_budget_is_allowed():
    verdict = check_budget(29, 49_999, VisitorBudget(30, 50_000), NOW)
    assert verdict.allowed and verdict.message == ""


def test_past_requests_says_when_it_resets():
    verdict = check_budget(30, 10, VisitorBudget(30, 50_000), NOW)
    assert not verdict.allowed
    assert verdict.resets_at == datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert "30 requests per hour" in verdict.message
    assert "11:00 UTC" in verdict.message and "in 23 min" in verdict.message  # 22:40 rounded up


def test_past_tokens_is_refused_too():
    verdict = check_budget(1, 50_000, VisitorBudget(30, 50_000), NOW)
    assert not verdict.allowed and "50,000 tokens per hour" in verdict.message


def test_a_zero_part_is_no_limit():
    assert check_budget(10_000, 0, VisitorBudget(0, 50_000), NOW).allowed
    assert check_budget(0, 10**9, VisitorBudget(30, 0), NOW).allowed


def test_a_second_before_the_hour_still_says_one_minute():
    verdict = check_budget(30, 0, VisitorBudget(30, 0), NOW.replace(minute=59, second=59))
    assert "in 1 min" in verdict.message


@pytest.mark.parametrize(
    ("backend", "visitor_key", "visitor_endpoint", "applies"),
    [
        ("openai", False, False, True),  # the owner's key
        ("remote", False, False, True),  # the owner's gateway
        ("offline", False, False, False),
        ("openai", True, False, False),  # the visitor's own key
        ("openai", False, True, False),  # the visitor's own server
        ("remote", False, True, False),
    ],
)
def test_only_the_owners_key_is_budgeted(backend, visitor_key, visitor_endpoint, applies):
    assert (
        budget_applies(backend, visitor_key=visitor_key, visitor_endpoint=visitor_endpoint)
        is applies
    )


# -- the back end that enforces it ---------------------------------------------------------------
class CountingBackend:
    """A fake upstream: counts the streams it was asked for; optionally reports no usage."""

    name = "counting"

    def __init__(self, usage: bool = True) -> None:
        self.calls = 0
        self.usage = usage

    def list_models(self) -> list[str]:
        return ["m"]

    def _events(self):
        self.calls += 1
        events = [TextDelta("x" * 40)]
        if self.usage:
            events.append(Usage(prompt_tokens=100, completion_tokens=25))
        return [*events, Done("stop")]

    def stream(self, conversation, params):
        yield from self._events()

    async def astream(self, conversation, params):
        for event in self._events():
            yield event


def collect(backend, prompt="hello"):
    async def run():
        return [e async for e in backend.astream(build_conversation(prompt, []), PARAMS)]

    return asyncio.run(run())


@pytest.fixture
def store(tmp_path):
    with ChatStore(f"sqlite:///{tmp_path / 'chats.sqlite3'}") as store:
        yield store


def test_each_answer_records_one_request_and_its_reported_tokens(store):
    inner = CountingBackend()
    backend = BudgetedBackend(inner, store, PERSON, VisitorBudget(30, 50_000), clock=lambda: NOW)
    events = collect(backend)
    assert [type(e) for e in events] == [TextDelta, Usage, Done]
    assert store.usage_since(PERSON, NOW - timedelta(minutes=1)) == (1, 125)
    assert store.usage_since("browser:" + "b" * 32, NOW - timedelta(hours=1)) == (0, 0)


def test_past_the_budget_nothing_goes_upstream(store):
    inner = CountingBackend()
    backend = BudgetedBackend(inner, store, PERSON, VisitorBudget(2, 0), clock=lambda: NOW)
    collect(backend)
    collect(backend)
    refused = collect(backend)
    assert inner.calls == 2
    assert isinstance(refused[0], StreamError) and refused[0].code == "rate_limit"
    assert "resets at 11:00 UTC" in refused[0].message and not refused[0].retryable
    assert refused[-1] == Done("error") and len(refused) == 2
    assert not backend.check().allowed
    assert store.usage_since(PERSON, NOW - timedelta(hours=1))[0] == 2  # the refusal is free


def test_the_budget_resets_with_the_next_hour(store):
    clock = [NOW]
    inner = CountingBackend()
    backend = BudgetedBackend(inner, store, PERSON, VisitorBudget(1, 0), clock=lambda: clock[0])
    collect(backend)
    assert not backend.check().allowed
    clock[0] = NOW.replace(hour=11, minute=0, second=1)
    assert backend.check().allowed
    collect(backend)
    assert inner.calls == 2


def test_the_token_budget_counts_estimates_when_no_usage_is_reported(store):
    inner = CountingBackend(usage=False)
    backend = BudgetedBackend(inner, store, PERSON, VisitorBudget(0, 10), clock=lambda: NOW)
    collect(backend, "p" * 40)  # ~10 tokens sent + ~10 received
    assert store.usage_since(PERSON, NOW - timedelta(hours=1)) == (1, 20)
    assert collect(backend)[0].code == "rate_limit"
    assert inner.calls == 1


def test_usage_survives_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'chats.sqlite3'}"
    budget = VisitorBudget(1, 0)
    with ChatStore(url) as store:
        collect(BudgetedBackend(CountingBackend(), store, PERSON, budget, clock=lambda: NOW))
    with ChatStore(url) as store:  # a new process on the same database
        inner = CountingBackend()
        refused = collect(BudgetedBackend(inner, store, PERSON, budget, clock=lambda: NOW))
    assert inner.calls == 0 and refused[0].code == "rate_limit"


def test_the_blocking_twin_enforces_the_same_budget(store):
    inner = CountingBackend()
    backend = BudgetedBackend(inner, store, PERSON, VisitorBudget(1, 0), clock=lambda: NOW)
    conversation = build_conversation("hi", [])
    assert list(backend.stream(conversation, PARAMS))[-1] == Done("stop")
    refused = list(backend.stream(conversation, PARAMS))
    assert refused[0].code == "rate_limit" and inner.calls == 1


def test_a_real_back_end_passes_through_unchanged(store):
    backend = BudgetedBackend(OfflineBackend(5000), store, PERSON, VisitorBudget(5, 0))
    plain = collect(OfflineBackend(5000), "/echo same words")
    budgeted = collect(backend, "/echo same words")
    assert budgeted == plain and backend.name == "offline"


def test_answers_started_at_once_never_overrun_the_last_request(store):
    """Compare starts its lanes together: each admission is checked and counted as one step."""
    inner = CountingBackend()
    budget = VisitorBudget(3, 0)
    lanes = [BudgetedBackend(inner, store, PERSON, budget, clock=lambda: NOW) for _ in range(4)]

    async def run_all():
        async def one(backend):
            return [e async for e in backend.astream(build_conversation("hi", []), PARAMS)]

        return await asyncio.gather(*(one(b) for b in lanes))

    results = asyncio.run(run_all())
    refused = [r for r in results if isinstance(r[0], StreamError)]
    assert inner.calls == 3 and len(refused) == 1
    assert store.usage_since(PERSON, NOW - timedelta(hours=1))[0] == 3
