"""Compare's pure parts: lane checks, live health and its best values, the leaderboard, export."""

from __future__ import annotations

import pytest

from chat_core.compare import (
    ALL_BAD,
    TIE,
    AnswerSample,
    LaneSpec,
    VoteRecord,
    best_lanes,
    check_lanes,
    check_prompt,
    check_verdict,
    compare_document,
    compare_markdown,
    default_lanes,
    health_parts,
    lane_frames,
    lane_from_dict,
    lane_name,
    leaderboard,
    live_health,
    stored_health,
)
from chat_core.compare.running import LaneTurn
from chat_core.errors import LimitError, ValidationError
from chat_core.events import Done, ReasoningDelta, StreamError, TextDelta, Usage
from chat_core.messages import MAX_MESSAGE_CHARS
from chat_core.runs import Run
from chat_core.storage.records import StoredMessage

OFFLINE = {"offline": ["offline-scripted", "offline-fast", "offline-slow"]}


def field_of(call) -> str:
    with pytest.raises(ValidationError) as caught:
        call()
    return caught.value.field


# -- lanes ---------------------------------------------------------------------------------------


def test_two_to_four_valid_lanes_give_their_parameters() -> None:
    lanes = [LaneSpec(model="offline-fast", temperature=0.2), LaneSpec(max_tokens=50)]
    params = check_lanes(lanes, OFFLINE)
    assert [p.model for p in params] == ["offline-fast", "offline-scripted"]
    assert params[0].temperature == 0.2 and params[1].max_tokens == 50


def test_lane_counts_outside_two_to_four_are_refused_naming_lanes() -> None:
    assert field_of(lambda: check_lanes([LaneSpec()], OFFLINE)) == "lanes"
    with pytest.raises(LimitError, match="at most 4"):
        check_lanes([LaneSpec()] * 5, OFFLINE)


@pytest.mark.parametrize(
    ("lane", "field"),
    [
        (LaneSpec(model="gpt-imaginary"), "lanes[1].model"),
        (LaneSpec(model=" "), "lanes[1].model"),
        (LaneSpec(backend="openai", model="gpt-4o"), "lanes[1].backend"),  # not configured
        (LaneSpec(backend="carrier-pigeon"), "lanes[1].backend"),
        (LaneSpec(temperature=3.0), "lanes[1].temperature"),
        (LaneSpec(max_tokens=0), "lanes[1].max_tokens"),
        (LaneSpec(reasoning_effort="extreme"), "lanes[1].reasoning_effort"),
        (LaneSpec(system="x" * 9000), "lanes[1].system"),
    ],
)
def test_a_bad_lane_field_is_named(lane: LaneSpec, field: str) -> None:
    assert field_of(lambda: check_lanes([LaneSpec(), lane], OFFLINE)) == field


def test_a_back_end_without_a_list_takes_any_model_name() -> None:
    lanes = [LaneSpec(), LaneSpec(backend="openai", model="my-local-model")]
    assert check_lanes(lanes, {**OFFLINE, "openai": None})[1].model == "my-local-model"


def test_a_crafted_lane_object_is_checked_field_by_field() -> None:
    assert lane_from_dict({"model": "offline-fast"}, 2) == LaneSpec(model="offline-fast")
    assert field_of(lambda: lane_from_dict({"api_key": "sk-x"}, 2)) == "lanes[2].api_key"
    assert field_of(lambda: lane_from_dict(["offline"], 3)) == "lanes[3]"


OVERSIZE = "x" * (MAX_MESSAGE_CHARS + 1)


@pytest.mark.parametrize(
    ("prompt", "error"),
    [
        ("", ValidationError),
        ("  \n", ValidationError),
        (None, ValidationError),
        (OVERSIZE, LimitError),
    ],
)
def test_an_empty_or_oversize_prompt_is_refused_naming_prompt(prompt, error) -> None:
    with pytest.raises(error) as caught:
        check_prompt(prompt)
    assert caught.value.field == "prompt"


def test_blind_names_and_default_lanes() -> None:
    lanes = default_lanes(3)
    assert len({lane.model for lane in lanes}) == 3
    assert [lane_name(i, lane, blind=True) for i, lane in enumerate(lanes)] == [
        "Lane A",
        "Lane B",
        "Lane C",
    ]
    assert lane_name(0, lanes[0], blind=False) == "offline · offline-fast"


# -- health --------------------------------------------------------------------------------------


def fed_run(events, times) -> Run:
    run = Run()
    run.created_at = 100.0
    for event, at in zip(events, times, strict=True):
        run.append(event)
        run.arrival_times[-1] = at
    return run


def test_live_health_counts_up_while_waiting_then_measures_the_answer() -> None:
    waiting = fed_run([], [])
    health = live_health(waiting, "offline-fast", now=103.0)
    assert health.status == "streaming" and health.waiting_s == pytest.approx(3.0)
    assert health.first_token_s is None and health.elapsed_s == pytest.approx(3.0)
    assert "waiting for the first token 3 s" in health_parts(health)

    events = [TextDelta("a"), TextDelta(" b"), TextDelta(" c"), Usage(5, 3), Done("stop")]
    done = live_health(fed_run(events, [100.5, 101.0, 101.5, 101.5, 101.5]), "gpt-4o-mini")
    assert done.done and done.first_token_s == pytest.approx(0.5)
    assert done.total_s == pytest.approx(1.5) and done.tokens == 3
    assert done.cost_usd is not None and done.cost_usd > 0  # the chat's price table
    assert done.finish_reason == "stop" and done.waiting_s is None


def test_a_failed_lane_shows_its_error_and_a_stall_is_counted() -> None:
    events = [TextDelta("a"), TextDelta("b"), StreamError("server", "boom", True), Done("error")]
    health = live_health(fed_run(events, [100.1, 102.0, 102.0, 102.0]), "offline-fast")
    assert health.status == "error" and health.error == "boom" and health.stalls == 1


def test_reasoning_is_not_the_first_token() -> None:
    events = [ReasoningDelta("hmm"), TextDelta("a"), Done("stop")]
    health = live_health(fed_run(events, [100.1, 101.0, 101.0]), None)
    assert health.first_token_s == pytest.approx(1.0)


def test_the_best_value_of_each_metric_is_marked_only_when_all_are_done() -> None:
    def health(first, rate, total, stalls=0, status="complete"):
        stored = {"first_token_s": first, "tokens_per_s": rate, "total_s": total, "chunks": 3,
                  "tokens": 30, "tokens_estimated": False, "gap_p50_s": None, "gap_p95_s": None,
                  "gap_max_s": None, "stalls": stalls, "reconnects": 0, "status": status,
                  "error_code": None}  # fmt: skip
        return stored_health(stored, "offline-fast")

    a, b, c = health(0.1, 100.0, 2.0), health(0.5, 300.0, 1.0, stalls=2), health(0.1, 50.0, 3.0)
    best = best_lanes([a, b, c])
    assert best["first_token_s"] == {0, 2} and best["tokens_per_s"] == {1}
    assert best["total_s"] == {1} and best["stalls"] == {0, 2}
    assert "**first token 0.10 s** ★" in health_parts(
        a, best["first_token_s"] and {"first_token_s"}
    )
    assert "stalls" not in best_lanes([a, c])  # all alike: no star
    failed = health(0.01, 999.0, 0.1, status="error")
    assert best_lanes([a, failed]) == {}  # one complete lane: a best of one says nothing
    streaming = live_health(fed_run([TextDelta("a")], [100.2]), None, now=101.0)
    assert best_lanes([a, b, streaming]) == {}


# -- leaderboard ---------------------------------------------------------------------------------


def test_votes_count_won_tied_lost_and_speeds_are_medians() -> None:
    votes = [
        VoteRecord(("fast", "slow"), "0"),
        VoteRecord(("fast", "slow"), TIE),
        VoteRecord(("fast", "slow", "thinker"), "2"),
        VoteRecord(("slow", "thinker"), ALL_BAD),
    ]
    samples = [AnswerSample("fast", 0.1, 100.0), AnswerSample("fast", 0.3, 300.0),
               AnswerSample("fast", 0.2, None), AnswerSample("slow", None, None)]  # fmt: skip
    rows = {r.model: r for r in leaderboard(votes, samples)}
    assert (rows["fast"].won, rows["fast"].tied, rows["fast"].lost) == (1, 1, 1)
    assert (rows["slow"].won, rows["slow"].tied, rows["slow"].lost) == (0, 1, 3)
    assert (rows["thinker"].won, rows["thinker"].lost) == (1, 1)
    assert rows["fast"].median_first_token_s == pytest.approx(0.2)
    assert rows["fast"].median_tokens_per_s == pytest.approx(200.0)
    assert rows["slow"].median_first_token_s is None
    assert [r.model for r in leaderboard(votes, samples)] == ["fast", "thinker", "slow"]


def test_a_verdict_must_name_a_lane_a_tie_or_all_bad() -> None:
    assert check_verdict("1", 2) == "1" and check_verdict(TIE, 2) == TIE
    for bad in ("2", "-1", "A", 0, None):
        assert field_of(lambda bad=bad: check_verdict(bad, 2)) == "winner"


# -- render --------------------------------------------------------------------------------------


def test_lane_frames_interleave_lanes_and_keep_reasoning_apart() -> None:
    fast = fed_run([ReasoningDelta("think"), TextDelta("Hello"), Done("stop")], [100.0] * 3)
    slow = Run()
    slow.append(TextDelta("Slow"))
    frames = lane_frames(
        [fast, None, slow], frame_s=0.0, sleep=lambda _s: slow.append(Done("stop"))
    )
    first = next(frames)
    assert [(f.lane, f.reasoning, f.answer, f.finished) for f in first] == [
        (0, ["think"], ["Hello"], True),
        (2, [], ["Slow"], False),
    ]
    assert [(f.lane, f.finished) for f in next(frames)] == [(2, True)]
    assert list(frames) == []


def test_lane_frames_make_images_inert_as_the_chat_does() -> None:
    run = fed_run([TextDelta("![x](http://evil/a.png)"), Done("stop")], [100.0, 100.0])
    frames = list(lane_frames([run], frame_s=0.0, sleep=lambda _s: None))
    assert "".join(c for f in frames[0] for c in f.answer if isinstance(c, str)).startswith("!\\[")


# -- export --------------------------------------------------------------------------------------


def message(mid: int, role: str, content: str, **extra) -> StoredMessage:
    return StoredMessage(
        mid, "c", mid, role, content, extra.get("status", "complete"), extra.get("model"), {},
        extra.get("metrics", {}), 0, "t", "t", extra.get("reasoning", ""),
    )  # fmt: skip


def test_export_has_each_lanes_settings_metrics_and_the_vote() -> None:
    lanes = [LaneSpec(model="offline-fast"), LaneSpec(model="offline-slow", system="Be brief")]
    ask = message(1, "user", "Why is the sky blue?")
    turns = [
        [LaneTurn(ask, message(2, "assistant", "Rayleigh.", metrics={"first_token_s": 0.1,
                                                                     "tokens": 3}), None)],
        [LaneTurn(ask, message(3, "assistant", "Part", status="error",
                               metrics={"error_message": "The model server failed"}), None)],
    ]  # fmt: skip
    doc = compare_document("Sky", lanes, turns, {0: "0"})
    assert doc["lanes"][1]["settings"]["system"] == "Be brief"
    assert doc["lanes"][0]["turns"][0]["metrics"]["first_token_s"] == 0.1
    assert doc["votes"] == {"0": "0"}
    md = compare_markdown(doc)
    assert "> Why is the sky blue?" in md and md.count("> Why is the sky blue?") == 1
    assert "`offline-slow`" in md and "system prompt: 'Be brief'" in md
    assert "first token 0.10 s" in md and "error: The model server failed" in md
    assert "**Vote:** Lane A better" in md
