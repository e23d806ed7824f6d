"""Metrics maths with a fake clock: every event's arrival time is given exactly."""

from __future__ import annotations

import pytest

from chat_core.events import Done, ReasoningDelta, StreamError, StreamEvent, TextDelta, Usage
from chat_core.metrics import (
    STALL_S,
    SessionStats,
    StreamMetrics,
    answer_status,
    chunk_gaps,
    estimate_tokens,
    measure,
    percentile,
    token_timeline,
)

T0 = 1000.0


class FakeClock:
    """Records events at times the test chooses, like a Run does with time.monotonic()."""

    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.events: list[StreamEvent] = []
        self.times: list[float] = []

    def advance(self, seconds: float) -> FakeClock:
        self.now += seconds
        return self

    def emit(self, *events: StreamEvent) -> FakeClock:
        for event in events:
            self.events.append(event)
            self.times.append(self.now)
        return self

    def measure(self, **kwargs: object):
        return measure(T0, self.events, self.times, **kwargs)  # type: ignore[arg-type]


def steady(chunks: int, interval: float, *, first: float = 0.5, usage: bool = True) -> FakeClock:
    clock = FakeClock().advance(first)
    for i in range(chunks):
        if i:
            clock.advance(interval)
        clock.emit(TextDelta("tok "))
    clock.advance(interval)
    if usage:
        clock.emit(Usage(7, chunks))
    return clock.emit(Done("stop"))


# -- percentile ---------------------------------------------------------------------------
def test_percentile_interpolates_between_ranks() -> None:
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 100) == 5.0
    assert percentile([0.0, 10.0], 95) == pytest.approx(9.5)


# -- a steady stream ----------------------------------------------------------------------
def test_steady_stream_with_usage() -> None:
    m = steady(11, 0.1).measure()
    assert m.status == "complete"
    assert m.first_token_s == pytest.approx(0.5)
    assert m.total_s == pytest.approx(0.5 + 1.0 + 0.1)
    assert m.elapsed_s == m.total_s
    assert m.chunks == 11
    assert m.tokens == 11 and not m.tokens_estimated
    assert m.prompt_tokens == 7
    # 10 tokens after the first one, in 1.0 s
    assert m.tokens_per_s == pytest.approx(10.0)
    assert m.gap_p50_s == pytest.approx(0.1)
    assert m.gap_p95_s == pytest.approx(0.1)
    assert m.gap_max_s == pytest.approx(0.1)
    assert m.stalls == 0 and m.reconnects == 0
    assert m.error_code is None


def test_tokens_are_estimated_and_labelled_without_usage() -> None:
    m = steady(3, 0.1, usage=False).measure()
    assert m.tokens == estimate_tokens("tok tok tok ") == 3
    assert m.tokens_estimated
    assert m.prompt_tokens is None
    assert m.tokens_label == "~3"
    assert "~3 tokens" in m.caption()


def test_gap_percentiles_over_uneven_gaps() -> None:
    clock = FakeClock().emit(TextDelta("a"))
    for gap in (0.1, 0.2, 0.3, 0.4):
        clock.advance(gap).emit(TextDelta("b"))
    m = clock.emit(Done()).measure()
    assert m.gap_p50_s == pytest.approx(0.25)
    assert m.gap_p95_s == pytest.approx(0.385)
    assert m.gap_max_s == pytest.approx(0.4)
    assert chunk_gaps(clock.events, clock.times) == pytest.approx([0.1, 0.2, 0.3, 0.4])


# -- edge cases the issue names -----------------------------------------------------------
def test_stream_with_no_text() -> None:
    m = FakeClock().advance(0.3).emit(Usage(5, 0), Done("stop")).measure()
    assert m.status == "complete"
    assert m.first_token_s is None
    assert m.chunks == 0 and m.tokens == 0
    assert m.tokens_per_s is None
    assert (m.gap_p50_s, m.gap_p95_s, m.gap_max_s) == (None, None, None)
    assert m.stalls == 0
    assert m.total_s == pytest.approx(0.3)
    assert m.caption() == "0 tokens · 0.3 s"


def test_stream_with_no_events_at_all() -> None:
    m = measure(T0, [], [])
    assert m.status == "streaming"
    assert m.total_s is None and m.elapsed_s is None and m.first_token_s is None
    assert measure(T0, [], [], now=T0 + 2).elapsed_s == pytest.approx(2.0)


def test_stream_with_one_chunk() -> None:
    m = FakeClock().advance(0.2).emit(TextDelta("Hello there")).advance(0.01).emit(Done()).measure()
    assert m.first_token_s == pytest.approx(0.2)
    assert m.chunks == 1
    assert m.tokens == 3 and m.tokens_estimated
    assert m.tokens_per_s is None  # no time after the first token to measure a rate over
    assert m.gap_max_s is None and m.stalls == 0


def test_stream_with_a_stall() -> None:
    clock = FakeClock().emit(TextDelta("a"))
    for _ in range(4):
        clock.advance(0.1).emit(TextDelta("b"))
    clock.advance(2.0).emit(TextDelta("c"))  # the stall
    for _ in range(4):
        clock.advance(0.1).emit(TextDelta("d"))
    m = clock.advance(0.1).emit(Done()).measure()
    assert m.stalls == 1
    assert m.gap_max_s == pytest.approx(2.0)
    assert m.gap_p50_s == pytest.approx(0.1)
    assert m.caption().endswith("1 stall")


def test_gap_of_exactly_the_threshold_is_not_a_stall() -> None:
    clock = FakeClock().emit(TextDelta("a")).advance(STALL_S).emit(TextDelta("b"), Done())
    assert clock.measure().stalls == 0


def test_silence_before_the_end_is_a_stall() -> None:
    clock = FakeClock().emit(TextDelta("a")).advance(0.1).emit(TextDelta("b"))
    m = clock.advance(1.5).emit(Done()).measure()
    assert m.stalls == 1
    assert m.gap_max_s == pytest.approx(0.1)  # gaps are between chunks only


def test_live_stream_counts_an_ongoing_stall_and_elapsed_time() -> None:
    clock = FakeClock().advance(0.1).emit(TextDelta("a")).advance(0.1).emit(TextDelta("b"))
    quiet = clock.measure(now=T0 + 0.5)
    assert quiet.status == "streaming" and quiet.total_s is None
    assert quiet.elapsed_s == pytest.approx(0.5)
    assert quiet.stalls == 0
    stalled = clock.measure(now=T0 + 1.5)
    assert stalled.stalls == 1
    assert stalled.elapsed_s == pytest.approx(1.5)
    assert clock.measure().elapsed_s == pytest.approx(0.2)  # no clock: up to the last event


def test_waiting_for_the_first_token_is_not_a_stall() -> None:
    m = measure(T0, [], [], now=T0 + 5)
    assert m.stalls == 0 and m.first_token_s is None


def test_stream_with_reconnects() -> None:
    m = steady(5, 0.1).measure(reconnects=2)
    assert m.reconnects == 2
    assert m.caption().endswith("2 reconnects")
    assert steady(5, 0.1).measure(reconnects=1).caption().endswith("1 reconnect")


def test_error_stream_has_code_and_status() -> None:
    clock = FakeClock().emit(TextDelta("part"))
    m = (
        clock.advance(0.1)
        .emit(StreamError("rate_limit", "slow down", True), Done("error"))
        .measure()
    )
    assert m.status == "error" and m.error_code == "rate_limit"
    assert m.total_s == pytest.approx(0.1)
    assert m.tokens_estimated


def test_connection_error_is_interrupted_and_cancel_is_stopped() -> None:
    cut = FakeClock().emit(TextDelta("x"), StreamError("connection", "cut", True), Done("error"))
    assert cut.measure().status == "interrupted"
    assert cut.measure().error_code == "connection"
    stopped = FakeClock().emit(TextDelta("x"), Done("cancelled"))
    assert stopped.measure().status == "stopped"
    assert answer_status([TextDelta("x")]) == "streaming"
    assert answer_status([Done("length")]) == "complete"


def test_a_refused_answer_has_its_own_status() -> None:
    refused = [TextDelta("I can't help with that."), Done("stop", refused=True)]
    assert answer_status(refused) == "refused"
    assert answer_status([TextDelta("x"), Done("tool_calls", tool_names=("f",))]) == "complete"
    assert answer_status([StreamError("server", "x", True), Done("error", refused=True)]) == "error"


def test_empty_deltas_are_not_the_first_token() -> None:
    clock = FakeClock().advance(0.1).emit(TextDelta("")).advance(0.4).emit(TextDelta("hi"))
    m = clock.emit(Done()).measure()
    assert m.first_token_s == pytest.approx(0.5)
    assert m.chunks == 1


def test_events_without_arrival_time_are_ignored() -> None:
    clock = steady(3, 0.1)
    m = measure(T0, clock.events, clock.times[:-1])  # Done appended, its time not yet
    assert m.status == "streaming"
    assert m.chunks == 3


def test_to_dict_round_trips_every_field() -> None:
    m = steady(3, 0.1).measure(reconnects=1)
    d = m.to_dict()
    assert d["chunks"] == 3 and d["reconnects"] == 1 and d["status"] == "complete"
    assert type(m)(**d) == m


def test_caption_of_a_typical_answer() -> None:
    m = steady(41, 0.025, first=0.42).measure()
    assert m.caption() == "first token 0.42 s · 40 tok/s · 41 tokens · 1.4 s"


# -- token timeline -----------------------------------------------------------------------
def test_token_timeline_ends_at_the_reported_count() -> None:
    clock = FakeClock().advance(0.1).emit(TextDelta("ab")).advance(0.1).emit(TextDelta("abcdef"))
    clock.emit(Usage(1, 4), Done())
    line = token_timeline(T0, clock.events, clock.times)
    assert [t for t, _ in line] == pytest.approx([0.1, 0.2])
    assert [n for _, n in line] == pytest.approx([1.0, 4.0])
    assert token_timeline(T0, [Done()], [T0]) == []


# -- session aggregates -------------------------------------------------------------------
def test_session_stats_aggregate_statuses_and_codes() -> None:
    stats = SessionStats()
    assert stats.error_rate is None
    stats.add(steady(3, 0.1).measure(reconnects=1))
    stats.add(FakeClock().emit(TextDelta("x"), Done("cancelled")).measure())
    stats.add(FakeClock().emit(StreamError("rate_limit", "m", True), Done("error")).measure())
    stats.add(FakeClock().emit(StreamError("rate_limit", "m", True), Done("error")).measure())
    stats.add(
        FakeClock()
        .emit(TextDelta("x"), StreamError("connection", "c", True), Done("error"))
        .measure(reconnects=2)
    )
    stats.add(FakeClock().emit(Done("error")).measure())  # a failure nobody explained
    assert stats.requests == 6
    assert stats.completions == 1
    assert stats.cancels == 1
    assert stats.reconnects == 3
    assert stats.errors_by_code == {"rate_limit": 2, "connection": 1, "unknown": 1}
    assert stats.errors == 4
    assert stats.error_rate == pytest.approx(4 / 6)
    assert stats.to_dict()["errors_by_code"] == {"connection": 1, "rate_limit": 2, "unknown": 1}


# -- reasoning ---------------------------------------------------------------------------
def test_reasoning_times_and_tokens_apart_from_the_answer() -> None:
    events = [
        ReasoningDelta("Let"),
        ReasoningDelta(" me think"),
        TextDelta("Hi"),
        TextDelta(" there"),
        Usage(5, 12, 10),
        Done(),
    ]
    m = measure(0.0, events, [0.25, 1.0, 3.0, 3.5, 3.5, 3.5])
    assert m.first_reasoning_s == 0.25
    assert m.first_token_s == 3.0  # the first answer token, not the first thought
    assert m.thinking_s == 2.75  # from the first thought until the answer began
    assert m.reasoning_tokens == 10 and m.tokens == 12
    # The rate is of the answer's 2 tokens (12 - 10), one after the first chunk, in 0.5 s.
    assert m.tokens_per_s == 2.0
    assert m.caption().startswith("first thought 0.25 s · first token 3.00 s")
    assert "12 tokens (10 reasoning)" in m.caption()


def test_live_thinking_counts_up_to_now_and_empty_answer_keeps_its_thinking() -> None:
    live = measure(0.0, [ReasoningDelta("Hmm")], [0.5], now=4.0)
    assert live.thinking_s == 3.5 and live.first_token_s is None
    spent = measure(0.0, [ReasoningDelta("Hmm"), Usage(3, 100, 100), Done("length")], [1, 9, 9])
    assert spent.thinking_s == 8.0 and spent.reasoning_tokens == 100
    assert spent.tokens_per_s is None


def test_usage_repeated_in_every_chunk_counts_once_the_last_wins() -> None:
    events = [TextDelta("a"), Usage(3, 1), TextDelta("b"), Usage(3, 2), Usage(3, 2, 0), Done()]
    m = measure(0.0, events, [0.1, 0.1, 0.2, 0.2, 0.3, 0.3])
    assert (m.tokens, m.prompt_tokens, m.reasoning_tokens) == (2, 3, 0)
    assert not m.tokens_estimated


def test_metrics_stored_before_reasoning_still_load() -> None:
    old = measure(0.0, [TextDelta("a"), Done()], [0.1, 0.2]).to_dict()
    for name in ("first_reasoning_s", "thinking_s", "reasoning_tokens"):
        del old[name]
    loaded = StreamMetrics.from_dict(old)
    assert loaded is not None and loaded.first_token_s == 0.1
    assert loaded.reasoning_tokens is None and "thought" not in loaded.caption()
    round_trip = measure(0.0, [ReasoningDelta("x"), TextDelta("a"), Done()], [0.1, 0.2, 0.3])
    assert StreamMetrics.from_dict(round_trip.to_dict()) == round_trip


def test_a_refusal_counts_as_a_completed_answer() -> None:
    stats = SessionStats()
    stats.add(measure(0.0, [TextDelta("No."), Done("stop", refused=True)], [0.1, 0.2]))
    assert (stats.requests, stats.completions, stats.errors) == (1, 1, 0)
