"""Wire protocol v1: encode, decode, and the event-stream parser with bytes split anywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from httpx_sse import EventSource

from chat_core.errors import BackendError
from chat_core.events import Done, ReasoningDelta, StreamError, StreamEvent, TextDelta, Usage
from chat_core.wire import (
    PING,
    SSEComment,
    SSEMessage,
    SSEParser,
    decode_data,
    decode_payload,
    encode_comment,
    encode_event,
    encode_marker,
    parse_event_id,
    payload_json,
)

NASTY = [
    "Hel",
    "lo \u2028 line\u2029sep",
    "crlf\r\nand cr\r and lf\n",
    "emoji 😀👩‍👩‍👧 and é, 한국어",
    '\n\ndata: {"done": true}\n\n',
    "id: forged:99\nretry: 1\n: comment",
    "\x00nul \x1b esc \ufeff bom",
    "",
]
EVENTS: list[StreamEvent] = [
    ReasoningDelta("The user asks \u2028 about"),
    ReasoningDelta('\n\ndata: {"chunk": "forged"}\n\n'),
    *(TextDelta(t) for t in NASTY),
    Usage(12, 7),
    Usage(12, 9, reasoning_tokens=4),
    StreamError("rate_limit", "Slow down \u2028 now", True),
    Done("error"),
]


def wire(stream_id: str = "7f3c", events: list[StreamEvent] = EVENTS) -> bytes:
    parts = [
        encode_event(stream_id, seq, e, retry_ms=1000 if seq == 1 else None)
        for seq, e in enumerate(events, 1)
    ]
    parts.insert(3, PING)
    return b"".join(parts)


def parse_all(chunks: Iterator[bytes] | list[bytes]) -> tuple[list[SSEMessage], SSEParser]:
    parser = SSEParser()
    out: list[SSEMessage] = []
    for chunk in chunks:
        out += [m for m in parser.feed(chunk) if isinstance(m, SSEMessage)]
    return out, parser


def test_exact_bytes_of_the_design_example() -> None:
    assert encode_event("7f3c", 1, TextDelta("Hel"), retry_ms=1000) == (
        b'retry: 1000\nid: 7f3c:1\ndata: {"chunk": "Hel"}\n\n'
    )
    assert encode_event("7f3c", 3, Usage(12, 2)) == (
        b'id: 7f3c:3\ndata: {"usage": {"prompt_tokens": 12, "completion_tokens": 2}}\n\n'
    )
    assert encode_event("7f3c", 4, Done("stop")) == (
        b'id: 7f3c:4\ndata: {"done": true, "finish_reason": "stop"}\n\n'
    )
    assert encode_event("s", 2, StreamError("server", "Boom", True)) == (
        b'id: s:2\ndata: {"error": {"code": "server", "message": "Boom", "retryable": true}}\n\n'
    )
    assert encode_comment() == PING == b": ping\n"
    assert encode_marker("s", 0, retry_ms=5) == b"retry: 5\nid: s:0\n\n"


def test_encoded_bytes_are_ascii_with_no_stray_line_breaks() -> None:
    data = wire()
    data.decode("ascii")  # raises if anything was not escaped
    events = data.split(b"\n\n")
    # each event is its own lines: no model text produced a line break
    for block in events[:-1]:
        for line in block.split(b"\n"):
            assert line.split(b":")[0] in (b"id", b"data", b"retry", b"")
    assert b"\r" not in data
    assert b"\xe2\x80\xa8" not in data


def test_payload_round_trip_for_every_event_kind() -> None:
    for event in EVENTS:
        assert decode_data(payload_json(event)) == event
        assert json.loads(payload_json(event)) == json.loads(
            json.dumps(json.loads(payload_json(event)), ensure_ascii=True)
        )


@pytest.mark.parametrize("step", [1, 2, 3, 7])
def test_our_parser_reads_the_stream_split_at_every_offset(step: int) -> None:
    data = wire()
    expected, parser = parse_all([data])
    assert [decode_data(m.data) for m in expected] == EVENTS
    assert [m.id for m in expected] == [f"7f3c:{i}" for i in range(1, len(EVENTS) + 1)]
    assert parser.retry_ms == 1000
    for cut in range(len(data) + 1):
        for chunks in (
            [data[:cut], data[cut:]],
            [data[i : i + step] for i in range(0, len(data), step)],
        ):
            got, _ = parse_all(chunks)
            assert got == expected, cut


def test_httpx_sse_reads_the_stream_split_at_every_offset() -> None:
    """A standard client (httpx-sse, the one a seed-style Python client would use) agrees."""
    data = wire()
    for cut in range(0, len(data) + 1, 1):
        response = httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=iter([data[:cut], data[cut:]]),
        )
        sse = list(EventSource(response).iter_sse())
        assert [decode_data(s.data) for s in sse] == EVENTS, cut
        assert sse[-1].id == f"7f3c:{len(EVENTS)}"


def test_seed_client_reading_only_chunk_and_done_gets_the_text() -> None:
    """What the seed's onmessage handler does: JSON.parse, append chunk, stop at done."""
    parser = SSEParser()
    text, done = "", 0
    for message in parser.feed(wire()):
        if isinstance(message, SSEMessage):
            payload = json.loads(message.data)
            text += payload.get("chunk", "")
            done += bool(payload.get("done"))
    assert text == "".join(NASTY)
    assert done == 1


def test_seed_style_stream_without_ids_in_raw_utf8_with_crlf_split_everywhere() -> None:
    raw = (
        "".join(
            f"data: {json.dumps({'chunk': t}, ensure_ascii=False)}\r\n\r\n"
            for t in ["Hel", "lo ", "😀", "é"]
        )
        + 'data: {"done": true}\r\n\r\n'
    )
    data = raw.encode()
    for cut in range(len(data) + 1):
        for cut2 in range(cut, len(data) + 1, 5):
            got, parser = parse_all([data[:cut], data[cut:cut2], data[cut2:]])
            events = [decode_data(m.data) for m in got]
            assert events == [
                TextDelta("Hel"),
                TextDelta("lo "),
                TextDelta("😀"),
                TextDelta("é"),
                Done("stop"),
            ], (cut, cut2)
            assert all(m.id == "" for m in got)
            assert parser.last_event_id == ""


def test_cut_mid_event_yields_nothing_half_and_keeps_the_last_complete_id() -> None:
    data = wire()
    full, _ = parse_all([data])
    for cut in range(len(data) + 1):
        got, parser = parse_all([data[:cut]])
        assert got == full[: len(got)]
        # the id to resume from is the id of the last whole event, never a later one
        assert parser.last_event_id == (got[-1].id if got else "")


def test_comments_lone_cr_bom_and_multi_line_data() -> None:
    data = "\ufeff: hello\rdata: a\rdata: b\r\rid: x:1\nevent: other\ndata: c\n\n".encode()
    items: list[object] = []
    parser = SSEParser()
    for i in range(len(data)):
        items += parser.feed(data[i : i + 1])
    assert items[0] == SSEComment("hello", 8)
    messages = [m for m in items if isinstance(m, SSEMessage)]
    assert [(m.data, m.id, m.event) for m in messages] == [
        ("a\nb", "", "message"),
        ("c", "x:1", "other"),
    ]


def test_id_without_data_moves_last_event_id_without_an_event() -> None:
    got, parser = parse_all([encode_marker("s", 0, retry_ms=250)])
    assert got == []
    assert parser.last_event_id == "s:0"
    assert parser.retry_ms == 250


def test_decode_payload_seed_and_forward_compatibility() -> None:
    assert decode_payload({"done": True}) == Done("stop")
    assert decode_payload({"done": True, "finish_reason": "mystery"}) == Done("stop")
    assert decode_payload({"something_new": 1}) is None
    assert decode_payload({"error": {"code": "weird", "message": ""}}) == StreamError(
        "server", "The server reported an error.", False
    )
    for bad in ['{"chunk": 3}', "[1]", "not json", '{"usage": {"prompt_tokens": "x"}}']:
        with pytest.raises(BackendError) as info:
            decode_data(bad)
        assert info.value.code == "server"


# Every way a stream can end, as the gateway sends it after a real model's answer.
ENDINGS: list[Done] = [
    Done("stop"),
    Done("stop", refused=True),
    Done("length"),
    Done("content_filter"),
    Done("tool_calls", tool_names=("get_weather", "lookup \u2028 \u00e9")),
    Done("cancelled"),
]


@pytest.mark.parametrize("ending", ENDINGS, ids=lambda d: d.finish_reason)
def test_every_ending_survives_the_stream_split_at_every_offset(ending: Done) -> None:
    events: list[StreamEvent] = [ReasoningDelta("Hmm"), TextDelta("Hi"), Usage(3, 9, 7), ending]
    data = wire("s1", events)
    data.decode("ascii")
    for cut in range(len(data) + 1):
        got, _ = parse_all([data[:cut], data[cut:]])
        assert [decode_data(m.data) for m in got] == events, cut
        response = httpx.Response(
            200,
            headers={"content-type": "text/event-stream"},
            content=iter([data[:cut], data[cut:]]),
        )
        assert [decode_data(s.data) for s in EventSource(response).iter_sse()] == events, cut


def test_done_and_usage_extras_only_when_set() -> None:
    """A plain answer's done and usage stay the seed's shape; the extras appear when set."""
    assert json.loads(payload_json(Done("stop"))) == {"done": True, "finish_reason": "stop"}
    assert json.loads(payload_json(Done("stop", refused=True)))["refused"] is True
    assert json.loads(payload_json(Done("tool_calls", tool_names=("f",)))) == {
        "done": True,
        "finish_reason": "tool_calls",
        "tool_names": ["f"],
    }
    assert "reasoning_tokens" not in json.loads(payload_json(Usage(1, 2)))["usage"]
    assert json.loads(payload_json(Usage(1, 9, 7)))["usage"]["reasoning_tokens"] == 7


def test_decode_of_reasoning_and_the_new_done_fields() -> None:
    assert decode_payload({"reasoning": "x"}) == ReasoningDelta("x")
    assert decode_payload({"done": True, "finish_reason": "content_filter"}) == Done(
        "content_filter"
    )
    # Lenient where a newer server may add things; strict where a type is simply wrong.
    assert decode_payload({"done": True, "refused": "yes", "tool_names": [1, "f"]}) == Done(
        "stop", tool_names=("f",)
    )
    for bad in [
        '{"reasoning": 1}',
        '{"usage": {"prompt_tokens": 1, "completion_tokens": 2, "reasoning_tokens": "7"}}',
    ]:
        with pytest.raises(BackendError):
            decode_data(bad)


def test_parse_event_id() -> None:
    assert parse_event_id("7f3c:12") == ("7f3c", 12)
    assert parse_event_id("a:b:0") == ("a:b", 0)
    for bad in ["", "7f3c", ":1", "7f3c:", "7f3c:-1", "7f3c:1.5", "x:١", "x:1234567890"]:
        with pytest.raises(ValueError):
            parse_event_id(bad)


def test_reasoning_is_its_own_payload_ascii_escaped() -> None:
    data = payload_json(ReasoningDelta("Thinking\u2028about it"))
    assert json.loads(data) == {"reasoning": "Thinking\u2028about it"}
    assert data.isascii() and "chunk" not in data
