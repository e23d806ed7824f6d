"""Diagnostics without the UI: event log rows, the probe, view values, exports, the load client."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import time
from dataclasses import dataclass

import httpx
import pytest

from chat_core.chat.session import ChatTurn
from chat_core.diagnostics import (
    MAX_LOAD_STREAMS,
    LoadReport,
    LoadResult,
    Probe,
    ProbeTarget,
    aload_test,
    astream_once,
    event_records,
    export_json,
    header,
    histogram,
    load_progress,
    load_values,
    measurement_rows,
    metric_values,
    nice_step,
    readable_rows,
    session_answers,
    session_summary,
    status_badge,
    stream_url,
    to_csv,
    wire_records,
)
from chat_core.diagnostics.probe import REFRESH_S
from chat_core.events import Done, ReasoningDelta, StreamError, TextDelta, Usage
from chat_core.messages import GenerationParams
from chat_core.metrics import SessionStats, measure
from chat_core.runs import Run
from chat_core.wire import encode_event, payload_json

SECRET_PROMPT = "/lorem 30\nmy secret question"


def finished_run(*events: object) -> Run:
    run = Run("r1")
    for event in events:
        run.append(event)  # type: ignore[arg-type]
    return run


def wait_done(probe: Probe, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not probe.finished:
        assert time.monotonic() < deadline, "the probe did not finish"
        probe.run.read(probe.run.last_seq, 0.05)


def wait_for_log(caplog: pytest.LogCaptureFixture, text: str, timeout: float = 5) -> list[str]:
    """The end line is written by the run's loop thread just after ``Done``."""
    deadline = time.monotonic() + timeout
    while not (found := [r.getMessage() for r in caplog.records if text in r.getMessage()]):
        assert time.monotonic() < deadline, f"no log line with {text!r}"
        time.sleep(0.01)
    return found


# -- the event log ---------------------------------------------------------------------
def test_event_records_show_each_event_as_on_the_wire() -> None:
    run = finished_run(TextDelta("Hel"), TextDelta("lo"), Usage(3, 2), Done())
    rows = event_records(run)
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert [r.id for r in rows] == ["r1:1", "r1:2", "r1:3", "r1:4"]
    assert [r.type for r in rows] == ["chunk", "chunk", "usage", "done"]
    assert json.loads(rows[0].data) == {"chunk": "Hel"}
    assert json.loads(rows[3].data) == {"done": True, "finish_reason": "stop"}
    assert rows[1].nbytes == len(encode_event("r1", 2, TextDelta("lo")))
    assert all(r.t_ms >= 0 for r in rows)
    assert [r.t_ms for r in rows] == sorted(r.t_ms for r in rows)


def test_event_records_of_an_error() -> None:
    rows = event_records(finished_run(StreamError("rate_limit", "slow", True), Done("error")))
    assert [r.type for r in rows] == ["error", "done"]
    assert json.loads(rows[0].data)["error"]["code"] == "rate_limit"


@dataclass(frozen=True)
class FakeWire:
    kind: str
    event_id: str | None
    data: str
    nbytes: int
    at: float


def test_wire_records_keep_what_arrived_in_order() -> None:
    wire = [
        FakeWire("connect", None, "POST http://x/api/chat/stream -> 200", 0, 10.01),
        FakeWire("sse", "s:1", '{"chunk": "a"}', 30, 10.02),
        FakeWire("comment", None, "ping", 7, 10.5),
        FakeWire("reconnect", "s:1", "ReadError; retry in 1.00 s", 0, 10.6),
    ]
    rows = wire_records(wire, started_at=10.0)
    assert [r.type for r in rows] == ["connect", "sse", "comment", "reconnect"]
    assert [r.id for r in rows] == ["", "s:1", "", "s:1"]
    assert rows[1].data == '{"chunk": "a"}' and rows[1].nbytes == 30
    assert rows[2].t_ms == pytest.approx(500.0)


# -- the probe -------------------------------------------------------------------------
def test_probe_on_the_offline_back_end_measures_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="chat_core")
    probe = Probe.start(ProbeTarget("offline", offline_tps=5000), SECRET_PROMPT, GenerationParams())
    wait_done(probe)
    m = probe.metrics()
    assert m.status == "complete" and m.chunks == 30 and m.tokens == 30
    assert not m.tokens_estimated and m.first_token_s is not None
    rows = probe.log()
    assert len(rows) == len(probe.run.events) == 32  # 30 chunks, usage, done
    assert rows[-1].type == "done"
    line = probe.timeline()
    assert line["seconds"][0] == 0.0 and line["tokens"][0] == 0.0
    assert line["tokens"][-1] == pytest.approx(30)
    assert len(probe.gaps_ms()) == 29
    end = wait_for_log(caplog, f"probe {probe.run.id} end")
    messages = [r.getMessage() for r in caplog.records]
    assert any(f"probe {probe.run.id} start backend=offline" in msg for msg in messages)
    assert len(end) == 1 and "status=complete" in end[0] and "tokens=30" in end[0]
    assert not any("secret" in msg for msg in messages), "content logged at INFO"


def test_probe_logs_content_only_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="chat_core")
    probe = Probe.start(ProbeTarget("offline", offline_tps=5000), SECRET_PROMPT, GenerationParams())
    wait_done(probe)
    probe.observe(1, probe.run.events[0], now=0.0)
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("secret" in msg for msg in debug)
    assert any(payload_json(probe.run.events[0]) in msg for msg in debug)


def test_probe_refuses_an_empty_prompt_before_starting() -> None:
    from chat_core.errors import ValidationError

    with pytest.raises(ValidationError):
        Probe.start(ProbeTarget("offline"), "   ", GenerationParams())


def test_probe_redraws_at_most_every_refresh_interval_and_always_at_done() -> None:
    probe = Probe(ProbeTarget(), "p", finished_run(Done()), [])
    assert probe.observe(1, TextDelta("a"), now=100.0)  # the first one
    assert not probe.observe(2, TextDelta("b"), now=100.0 + REFRESH_S / 2)
    assert not probe.observe(0, None, now=100.0 + REFRESH_S * 0.9)
    assert probe.observe(0, None, now=100.0 + REFRESH_S)  # idle redraws keep a stall visible
    assert probe.observe(3, Done(), now=100.0 + REFRESH_S + 0.01)


def test_probe_counts_reconnects_from_the_wire() -> None:
    wire = [FakeWire("reconnect", "s:3", "cut", 0, 1.0), FakeWire("sse", "s:4", "{}", 9, 1.1)]
    probe = Probe(ProbeTarget("remote"), "p", finished_run(TextDelta("a"), Done()), wire)
    assert probe.metrics().reconnects == 1
    assert [r.type for r in probe.log()] == ["reconnect", "sse"]


def test_probe_target_keeps_secrets_out_of_repr() -> None:
    target = ProbeTarget("openai", openai_api_key="sk-secret", gateway_token="tok-secret")
    assert "secret" not in repr(target)


# -- view values -----------------------------------------------------------------------
def test_metric_values_of_a_finished_stream() -> None:
    events = [TextDelta("ab"), TextDelta("cd"), StreamError("rate_limit", "m", True), Done("error")]
    m = measure(0.0, events, [0.5, 0.6, 0.7, 0.7])
    values = dict(metric_values(m))
    assert values["First token"] == "0.50 s"
    assert values["Tokens/s"] == "10.0"  # ~2 tokens (one a chunk), one after the first, in 0.1 s
    assert values["Tokens (estimated)"] == "~2"
    assert values["Chunks"] == "2"
    assert values["Total"] == "0.7 s"
    assert values["Gap p50"] == values["Gap max"] == "100 ms"
    assert values["Stalls > 1 s"] == "0"
    assert values["Bytes"] == "—"
    assert status_badge(m) == ":red-badge[:material/error: error · rate_limit]"


def test_metric_values_keep_values_short() -> None:
    clock = [TextDelta("a"), TextDelta("b"), Done()]
    m = measure(0.0, clock, [0.1, 2.13, 2.2])
    values = dict(metric_values(m, nbytes=123_456))
    assert values["Gap max"] == "2.03 s"  # seconds once a gap reaches a second
    assert values["Stalls > 1 s"] == "1"
    assert values["Bytes"] == "123 kB"
    assert dict(metric_values(m, nbytes=512))["Bytes"] == "512 B"
    assert all(len(v) <= 8 for _, v in metric_values(m, nbytes=123_456))


def test_metric_values_before_any_text() -> None:
    values = dict(metric_values(measure(0.0, [], [], now=1.25)))
    assert values["First token"] == "—"
    assert values["Elapsed"] == "1.2 s"
    assert status_badge(measure(0.0, [], [])).startswith(":blue-badge[")


def test_histogram_bins_values_into_columns() -> None:
    h = histogram([0.0, 1.0, 1.0, 9.99, 10.0], bins=5)
    assert h["from"] == [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    assert h["count"] == [3, 0, 0, 0, 1, 1]
    assert histogram([]) == {"from": [], "count": []}
    assert histogram([3.0, 3.0]) == {"from": [3.0], "count": [2]}


def test_histogram_bins_have_round_widths_a_reader_can_add_up() -> None:
    values = [0.1 + 0.2846 * i / 19 for i in range(20)]  # raw width 0.01897: was 0.01923 bins
    h = histogram(values, bins=15)
    steps = {round(b - a, 9) for a, b in zip(h["from"], h["from"][1:], strict=False)}
    assert steps == {0.02}
    assert all(len(f"{x}") <= 4 for x in h["from"])
    assert sum(h["count"]) == 20
    assert [nice_step(x) for x in (0.013, 0.2, 0.21, 3.0, 7.0)] == [0.02, 0.2, 0.5, 5.0, 10.0]


def test_tables_have_human_headers_and_rounded_seconds() -> None:
    rows = readable_rows([{"first_token_s": 0.123456, "total_s": 2.345678, "http_status": 200}])
    assert rows == [{"First token (s)": 0.123, "Total (s)": 2.35, "HTTP status": 200}]
    assert header("some_new_field_s") == "Some new field (s)"


def test_load_progress_counts_failures_as_failures() -> None:
    fraction, text = load_progress(20, 20, 20)
    assert fraction == 1.0
    assert text == "20 of 20 streams ended: 0 answered, 20 failed"
    assert load_progress(5, 0, 20)[1] == "5 of 20 streams ended: 5 answered"


def test_session_summary_and_answers() -> None:
    stats = SessionStats()
    ok = measure(0.0, [TextDelta("a"), Done()], [0.1, 0.2])
    failed = measure(0.0, [StreamError("server", "m", True), Done("error")], [0.1, 0.1])
    stats.add(ok)
    stats.add(failed)
    values = dict(session_summary(stats))
    assert values["Requests"] == "2" and values["Errors"] == "1" and values["Error rate"] == "50%"
    turns = [ChatTurn("user", "q"), ChatTurn("assistant", "a", metrics=ok, model="m1")]
    rows = session_answers(turns)
    assert len(rows) == 1 and rows[0]["answer"] == 1 and rows[0]["model"] == "m1"
    assert rows[0]["status"] == "complete"


# -- exports ---------------------------------------------------------------------------
def load_report() -> LoadReport:
    ok = measure(0.0, [TextDelta("a"), Done()], [0.1, 0.3])
    cut = measure(0.0, [StreamError("connection", "c", True), Done("error")], [0.2, 0.2])
    results = (LoadResult(1, "s1", 200, 120, ok), LoadResult(2, None, 200, 0, cut))
    return LoadReport("http://127.0.0.1:1/api/chat/stream", 2, results, 0.5)


def test_measurement_rows_to_csv_has_one_row_per_stream() -> None:
    probe = Probe(ProbeTarget(), "p", finished_run(TextDelta("abc"), Usage(1, 1), Done()), [])
    answers = [{"answer": 1, "model": "m", **probe.metrics().to_dict()}]
    rows = measurement_rows(probe, answers, load_report())
    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))
    assert [r["source"] for r in parsed] == ["probe", "chat", "load", "load"]
    assert parsed[0]["backend"] == "offline" and parsed[0]["tokens"] == "1"
    assert parsed[3]["error_code"] == "connection" and parsed[3]["backend"] == ""
    assert to_csv([]) == "\n"


def test_export_json_holds_everything() -> None:
    probe = Probe(ProbeTarget(), "prompt", finished_run(TextDelta("abc"), Done()), [])
    stats = SessionStats()
    stats.add(probe.metrics())
    doc = json.loads(export_json(probe, stats, [], load_report()))
    assert doc["version"] == 1
    assert doc["probe"]["metrics"]["chunks"] == 1
    assert [e["type"] for e in doc["probe"]["events"]] == ["chunk", "done"]
    assert doc["session"]["aggregates"]["requests"] == 1
    assert doc["load_test"]["summary"]["failures"] == 1
    assert doc["load_test"]["summary"]["failures_by_code"] == {"connection": 1}
    assert json.loads(export_json(None, None, [], None)) == {"version": 1}


def test_load_values_show_dashes_when_nothing_completed() -> None:
    cut = measure(0.0, [StreamError("connection", "c", True), Done("error")], [0.2, 0.2])
    report = LoadReport("u", 1, (LoadResult(1, None, None, 0, cut),), 0.2)
    values = dict(load_values(report.summary()))
    assert values["Completed"] == "0 / 1" and values["Failures"] == "1"
    assert values["First token p50"] == "—"
    assert values["Duration p50"] == "0.20 s"  # a failed stream still has a duration
    assert values["Wall time"] == "0.20 s"


def test_load_report_summary() -> None:
    s = load_report().summary()
    assert s["streams"] == 2 and s["completed"] == 1 and s["failures"] == 1
    assert s["first_token_p50_s"] == pytest.approx(0.1)
    assert s["total_p50_s"] == pytest.approx(0.25)
    assert s["total_max_s"] == pytest.approx(0.3)


# -- the load client against httpx.MockTransport ----------------------------------------
def sse(stream_id: str, *pairs: tuple[int, object], retry: bool = True) -> bytes:
    out = b""
    for i, (seq, event) in enumerate(pairs):
        out += encode_event(stream_id, seq, event, retry_ms=0 if retry and i == 0 else None)  # type: ignore[arg-type]
    return out


def run_client(handler, message: str = "hi", **kwargs):  # type: ignore[no-untyped-def]
    async def go() -> LoadResult:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            return await astream_once(client, "http://gw.test", message, **kwargs)

    return asyncio.run(go())


def test_stream_url_accepts_a_base_or_the_endpoint() -> None:
    assert stream_url("http://h:1") == "http://h:1/api/chat/stream"
    assert stream_url("http://h:1/ ") == "http://h:1/api/chat/stream"
    assert stream_url("http://h:1/api/chat/stream/") == "http://h:1/api/chat/stream"


def test_load_client_reads_a_whole_stream() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        body = sse("s9", (1, TextDelta("He")), (2, TextDelta("llo")), (3, Usage(2, 2)), (4, Done()))
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    result = run_client(handler, token="tok")
    assert result.metrics.status == "complete" and result.metrics.chunks == 2
    assert result.metrics.tokens == 2 and not result.metrics.tokens_estimated
    assert result.stream_id == "s9" and result.http_status == 200 and result.nbytes > 0
    assert seen[0].method == "POST" and seen[0].url.path == "/api/chat/stream"
    assert json.loads(seen[0].content) == {"message": "hi", "history": []}
    assert seen[0].headers["authorization"] == "Bearer tok"


def test_load_client_resumes_a_cut_stream_with_last_event_id() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":  # cut after two events, without done
            body = sse("s7", (1, TextDelta("a")), (2, TextDelta("b")))
            return httpx.Response(200, content=body, headers={"X-Stream-Id": "s7"})
        return httpx.Response(200, content=sse("s7", (3, TextDelta("c")), (4, Done()), retry=False))

    result = run_client(handler)
    assert result.metrics.status == "complete"
    assert result.metrics.chunks == 3 and result.metrics.reconnects == 1
    assert seen[1].method == "GET" and seen[1].url.path == "/api/chat/stream/s7"
    assert seen[1].headers["last-event-id"] == "s7:2"


def test_load_client_gives_up_after_max_reconnects() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        seq = int(request.headers.get("last-event-id", "s:0").split(":")[1])
        return httpx.Response(200, content=sse("s", (seq + 1, TextDelta("x"))))

    result = run_client(handler, max_reconnects=2)
    assert result.metrics.status == "interrupted"
    assert result.metrics.error_code == "connection"
    assert result.metrics.reconnects == 2 and result.metrics.chunks == 3


@pytest.mark.parametrize(
    ("status", "code"), [(429, "rate_limit"), (401, "auth"), (422, "bad_request"), (503, "server")]
)
def test_load_client_turns_refusals_into_failures(status: int, code: str) -> None:
    result = run_client(lambda _r: httpx.Response(status, json={"error": {"code": "x"}}))
    assert result.metrics.status == "error" and result.metrics.error_code == code
    assert result.http_status == status and result.metrics.chunks == 0


def test_load_client_reports_an_unreachable_gateway() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    result = run_client(handler)
    assert result.metrics.status == "interrupted" and result.http_status is None


def test_load_client_reports_a_malformed_event() -> None:
    body = b"id: s:1\ndata: not json\n\n"
    result = run_client(lambda _r: httpx.Response(200, content=body))
    assert result.metrics.status == "error" and result.metrics.error_code == "server"


def test_load_test_is_bounded() -> None:
    with pytest.raises(ValueError, match="between 1 and"):
        asyncio.run(aload_test("http://127.0.0.1:1", MAX_LOAD_STREAMS + 1, "hi"))
    with pytest.raises(ValueError):
        asyncio.run(aload_test("http://127.0.0.1:1", 0, "hi"))


def test_stopping_a_probe_marks_it_stopped() -> None:
    target = ProbeTarget("offline", offline_tps=1000)
    probe = Probe.start(target, "/stall 30 after 2\n/lorem 5", GenerationParams())
    deadline = time.monotonic() + 10
    while probe.metrics().chunks < 2:
        assert time.monotonic() < deadline
        probe.run.read(probe.run.last_seq, 0.05)
    probe.run.cancel()
    wait_done(probe)
    m = probe.metrics()
    assert m.status == "stopped" and m.chunks == 2
    assert status_badge(m).startswith(":orange-badge[")


def test_reasoning_rows_and_metrics() -> None:
    run = finished_run(ReasoningDelta("hm"), TextDelta("a"), Usage(1, 5, 4), Done())
    rows = event_records(run)
    assert [r.type for r in rows] == ["reasoning", "chunk", "usage", "done"]
    assert json.loads(rows[0].data) == {"reasoning": "hm"}
    m = measure(0.0, run.events, [0.2, 1.5, 1.5, 1.5])
    values = dict(metric_values(m))
    assert values["First thought"] == "0.20 s"
    assert values["First token"] == "1.50 s"
    assert values["Thinking"] == "1.3 s"
    assert values["Reasoning tokens"] == "4"
    plain = dict(metric_values(measure(0.0, [TextDelta("a"), Done()], [0.1, 0.2])))
    assert not {"First thought", "Thinking", "Reasoning tokens"} & set(plain)  # no "—" rows


def test_a_histogram_of_close_values_keeps_bins_at_least_min_width() -> None:
    values = [120.0 + i * 0.05 for i in range(20)]  # 20 streams within 1 ms
    h = histogram(values, 15, min_width=1.0)
    assert len(h["from"]) <= 2 and sum(h["count"]) == 20
    assert all(float(x).is_integer() for x in h["from"])  # labels like 120, not 120.0075
