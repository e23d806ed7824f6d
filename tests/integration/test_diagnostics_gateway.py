"""Diagnostics over real servers on 127.0.0.1: a probe through the gateway (remote back end)
and through the OpenAI stub (the real SDK), and bounded load tests against the gateway (the
chat_core API, then the page's form under AppTest)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from chat_core.backends.offline import OfflineBackend
from chat_core.diagnostics import Probe, ProbeTarget, run_load_test
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import GenerationParams
from chat_core.settings_sources import SETTING_NAMES
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def serve_gateway(**config: object) -> Iterator[str]:
    app = create_app(backend=OfflineBackend(tokens_per_second=2000), config=GatewayConfig(**config))  # type: ignore[arg-type]
    with serve_app(app) as url:
        yield url


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    yield from serve_gateway()


def finished(probe: Probe, timeout: float = 30) -> Probe:
    deadline = time.monotonic() + timeout
    while not probe.finished:
        assert time.monotonic() < deadline, "the probe did not finish"
        probe.run.read(probe.run.last_seq, 0.1)
    return probe


# -- the probe over the remote back end --------------------------------------------------
def test_probe_through_the_gateway_logs_the_sse_as_received(gateway: str) -> None:
    target = ProbeTarget("remote", remote_url=gateway)
    probe = finished(Probe.start(target, "/lorem 50", GenerationParams()))
    m = probe.metrics()
    assert m.status == "complete" and m.chunks == 50 and m.tokens == 50
    assert not m.tokens_estimated and m.reconnects == 0
    log = probe.log()
    assert log[0].type == "connect" and "POST" in log[0].data and "-> 200" in log[0].data
    sse = [r for r in log if r.type == "sse"]
    assert len(sse) == 52  # 50 chunks, usage, done: one wire record per event
    stream_id = sse[0].id.rsplit(":", 1)[0]
    assert [r.id for r in sse] == [f"{stream_id}:{i}" for i in range(1, 53)]
    assert sse[0].data.startswith('{"chunk": ')
    assert sse[-1].data == '{"done": true, "finish_reason": "stop"}'
    assert all(r.nbytes > len(r.data) for r in sse)  # the id and data lines, as received
    assert [r.t_ms for r in log] == sorted(r.t_ms for r in log)


def test_probe_through_the_gateway_counts_a_dropped_and_resumed_connection(gateway: str) -> None:
    target = ProbeTarget("remote", remote_url=gateway)
    probe = finished(Probe.start(target, "/drop after 10\n/lorem 40", GenerationParams()))
    m = probe.metrics()
    assert m.status == "complete" and m.chunks == 40
    assert m.reconnects == 1
    kinds = [r.type for r in probe.log()]
    assert kinds.count("connect") == 2 and kinds.count("reconnect") == 1
    assert kinds.index("reconnect") < len(kinds) - 1


def test_probe_through_the_gateway_reports_an_upstream_error(gateway: str) -> None:
    target = ProbeTarget("remote", remote_url=gateway)
    probe = finished(Probe.start(target, "/error rate_limit after 20", GenerationParams()))
    m = probe.metrics()
    assert m.status == "error" and m.error_code == "rate_limit" and m.chunks == 20
    assert '"rate_limit"' in [r for r in probe.log() if r.type == "sse"][-2].data


def test_probe_over_the_openai_sdk_against_the_stub() -> None:
    from chat_core.openai_stub import create_app as create_stub

    with serve_app(create_stub(tokens_per_second=2000)) as url:
        target = ProbeTarget("openai", openai_base_url=url + "/v1", model="offline-scripted")
        probe = finished(Probe.start(target, "/lorem 40", GenerationParams()))
        m = probe.metrics()
        assert m.status == "complete" and m.chunks == 40
        assert m.tokens == 40 and not m.tokens_estimated  # include_usage reached the probe
        assert [r.type for r in probe.log()][-2:] == ["usage", "done"]

        failing = finished(Probe.start(target, "/error server", GenerationParams()))
        assert failing.metrics().status == "error"
        assert failing.metrics().error_code == "server"


# -- the load test -----------------------------------------------------------------------
def test_load_test_of_twenty_concurrent_streams(gateway: str) -> None:
    progress: list[int] = []
    report = run_load_test(gateway, 20, "/lorem 60", on_progress=lambda k, _r: progress.append(k))
    assert progress == list(range(1, 21))
    assert report.streams == 20 and len(report.results) == 20
    assert report.failures == 0
    assert len({r.stream_id for r in report.results}) == 20
    assert all(r.metrics.chunks == 60 and r.metrics.tokens == 60 for r in report.results)
    assert all(r.http_status == 200 and r.nbytes > 0 for r in report.results)
    summary = report.summary()
    assert summary["completed"] == 20 and summary["failures_by_code"] == {}
    assert len(report.first_token_s()) == len(report.total_s()) == 20
    assert 0 < summary["first_token_p50_s"] <= summary["first_token_p95_s"]
    assert summary["first_token_p95_s"] <= summary["first_token_max_s"]
    assert summary["total_p50_s"] <= summary["total_max_s"] <= report.wall_s


def test_load_test_resumes_dropped_streams(gateway: str) -> None:
    report = run_load_test(gateway + "/api/chat/stream", 5, "/drop after 5\n/lorem 20")
    assert report.failures == 0
    assert all(r.metrics.reconnects == 1 and r.metrics.chunks == 20 for r in report.results)


def test_load_test_counts_refusals_over_the_gateway_limit() -> None:
    for url in serve_gateway(max_streams=4):
        report = run_load_test(url, 12, "/stall 1.5 after 1\n/lorem 5")  # hold the 4 slots
        summary = report.summary()
        assert summary["completed"] >= 4
        assert summary["failures"] == 12 - summary["completed"] > 0
        assert set(summary["failures_by_code"]) == {"rate_limit"}
        assert all(r.http_status == 429 for r in report.results if r.metrics.status != "complete")


def test_load_test_without_the_token_fails_every_stream() -> None:
    for url in serve_gateway(token="s3cret"):
        refused = run_load_test(url, 3, "hi")
        assert refused.summary()["failures_by_code"] == {"auth": 3}
        allowed = run_load_test(url, 3, "hi", token="s3cret")
        assert allowed.failures == 0


# -- the page's load-test form, under AppTest --------------------------------------------
@pytest.mark.app
def test_page_load_test_against_the_gateway(gateway: str, monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    # AppTest has no listening address, so the default would be "public": this gateway is
    # on loopback, and typed by the visitor.
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")
    monkeypatch.syspath_prepend(str(ROOT))
    at = AppTest.from_file(str(ROOT / "app_pages" / "diagnostics.py"), default_timeout=60).run()
    at.text_input(key="load_url").set_value(gateway)
    at.slider(key="load_streams").set_value(8)
    at.text_input(key="load_prompt").set_value("/lorem 30")
    at = submit(at)
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    assert shown["Completed"] == "8 / 8" and shown["Failures"] == "0"
    assert shown["First token p50"].endswith(" s")
    report = at.session_state["diagnostics"]["load"]
    assert len(report.results) == 8


def submit(at: AppTest) -> AppTest:
    """Click the load-test form's submit button."""
    (button,) = [b for b in at.get("button") if getattr(b, "label", "") == "Run load test"]
    return button.click().run()
