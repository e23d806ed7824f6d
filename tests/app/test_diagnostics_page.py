from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from chat_core.chat.session import ChatSession, ChatTurn
from chat_core.events import Done, StreamError, TextDelta, Usage
from chat_core.metrics import measure
from chat_core.settings_sources import SETTING_NAMES

pytestmark = pytest.mark.app
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env, no secrets from the developer's checkout
    for name in SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CHAT_OFFLINE_TPS", "5000")
    monkeypatch.syspath_prepend(str(ROOT))
    at = AppTest.from_file(str(ROOT / "app_pages" / "diagnostics.py"), default_timeout=30)
    return at.run()


def metrics_of(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def markdown_of(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def probe(at: AppTest, prompt: str) -> AppTest:
    at.text_area(key="probe_prompt").set_value(prompt)
    return at.button(key="run_probe").click().run()


def test_page_starts_empty_with_the_offline_back_end(app):
    assert not app.exception
    assert app.text_area(key="probe_prompt").value == "/lorem 300"
    assert not app.metric  # no probe yet, no chat answers yet
    assert any("No answers yet" in i.value for i in app.info)


def test_probe_on_the_offline_back_end_shows_metrics_answer_and_event_log(app):
    at = probe(app, "/lorem 300")
    assert not at.exception
    shown = metrics_of(at)
    assert ":green-badge[:material/check_circle: complete]" in markdown_of(at)
    assert shown["Chunks"] == "300"
    assert shown["Tokens"] == "300"  # reported by the back end, so not labelled estimated
    assert shown["First token"].endswith(" s") and shown["First token"] != "—"
    assert shown["Tokens/s"] != "—" and float(shown["Tokens/s"]) > 0
    assert shown["Gap max"].endswith(" ms")
    assert shown["Bytes"].endswith("kB")
    log = at.dataframe[0].value
    assert len(log) == 302  # 300 chunks, usage, done
    assert list(log.columns) == ["seq", "id", "type", "data", "t_ms", "nbytes"]
    assert list(log["type"][-2:]) == ["usage", "done"]
    assert log["data"].iloc[0].startswith('{"chunk": ')
    assert (log["t_ms"].diff().dropna() >= 0).all()
    assert any(len(m.value) > 1000 for m in at.markdown)  # the answer itself
    assert not at.button(key="run_probe").disabled


def test_probe_of_an_error_directive_shows_the_error_beside_the_metrics(app):
    at = probe(app, "/error rate_limit after 20")
    shown = metrics_of(at)
    assert ":red-badge[:material/error: error · rate_limit]" in markdown_of(at)
    assert shown["Chunks"] == "20"
    assert "Tokens (estimated)" in shown and shown["Tokens (estimated)"].startswith("~")
    assert any("Rate limit" in e.value for e in at.error)
    log = at.dataframe[0].value
    assert list(log["type"][-2:]) == ["error", "done"]


def test_a_bad_prompt_is_refused_without_a_probe(app):
    at = probe(app, "   ")
    assert any("empty" in e.value for e in at.error)
    assert at.session_state["diagnostics"]["probe"] is None


def test_session_aggregates_cover_the_chat_pages_answers(app):
    chat = ChatSession()
    ok = measure(0.0, [TextDelta("hello"), Usage(3, 1), Done()], [0.2, 0.3, 0.3])
    failed = measure(0.0, [StreamError("rate_limit", "m", True), Done("error")], [0.1, 0.1])
    for m in (ok, failed):
        chat.stats.add(m)
        chat.turns += [ChatTurn("user", "q"), ChatTurn("assistant", "a", m.status, m)]
    app.session_state["chat"] = chat
    at = app.run()
    shown = metrics_of(at)
    assert shown["Requests"] == "2"
    assert shown["Error rate"] == "50%"
    assert any("`rate_limit` 1" in c.value for c in at.caption)
    answers = at.dataframe[0].value
    assert list(answers["Status"]) == ["complete", "error"]  # human headers


def test_probe_counts_a_stall_while_it_streams(app):
    at = probe(app, "/stall 1.2 after 5\n/lorem 10")
    shown = metrics_of(at)
    assert shown["Stalls > 1 s"] == "1"
    assert shown["Gap max"].endswith(" s") and not shown["Gap max"].endswith(" ms")
    assert shown["Chunks"] == "10"


def test_a_plain_probe_hides_reasoning_metrics_and_shows_no_raw_run_id(app):
    at = probe(app, "/lorem 20")
    shown = metrics_of(at)
    assert not {"First thought", "Thinking", "Reasoning tokens"} & set(shown)
    assert shown["Tokens"] == "20"
    probe_state = at.session_state["diagnostics"]["probe"]
    assert probe_state.run.id not in markdown_of(at)
    thought = metrics_of(probe(at, "/think 0.2\n/lorem 5"))
    assert thought["Thinking"] != "—"


def test_the_directives_and_the_gateway_hint_are_captioned(app, monkeypatch):
    captions = " ".join(c.value for c in app.caption)
    assert "`/lorem N`" in captions and "make gateway" in captions
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    real = AppTest.from_file(str(ROOT / "app_pages" / "diagnostics.py"), default_timeout=30).run()
    captions = " ".join(c.value for c in real.caption)
    assert "/lorem" not in captions and "make gateway" in captions
