"""The Compare page (AppTest): lanes editor, a compare streamed and stored, vote, bad input."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import browser_of

pytestmark = pytest.mark.app

ROOT = Path(__file__).resolve().parents[2]


def new_compare_app(browser: str | None = None, **query: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app_pages" / "compare.py"), default_timeout=30)
    if browser is not None:
        at.session_state["browser_token"] = browser
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def send(at: AppTest, prompt: str) -> AppTest:
    at.chat_input(key="compare-prompt").set_value(prompt).run()
    return ok(at)


def test_the_editor_adds_duplicates_and_removes_lanes_within_two_to_four(chat_env):
    at = ok(new_compare_app())
    assert [s.value for s in at.selectbox if s.label == "Model"] == [
        "offline-fast",
        "offline-scripted",
        "offline-slow",
    ]
    third = [s for s in at.selectbox if s.label == "Model"][2]
    at.selectbox(key=third.key).set_value("offline-thinker").run()
    ok(at).button(key="add-lane").click().run()
    assert len([s for s in ok(at).selectbox if s.label == "Model"]) == 4
    assert at.button(key="add-lane").disabled
    remove = [b for b in at.button if b.label == "Remove"]
    remove[0].click().run()
    duplicate = [b for b in ok(at).button if b.label == "Duplicate"]
    duplicate[1].click().run()  # the thinker, now second
    assert [s.value for s in ok(at).selectbox if s.label == "Model"] == [
        "offline-scripted",
        "offline-thinker",
        "offline-thinker",
        "offline-scripted",
    ]
    for _ in range(2):
        next(b for b in at.button if b.label == "Remove").click().run()
    assert len([s for s in ok(at).selectbox if s.label == "Model"]) == 2
    assert all(b.disabled for b in at.button if b.label == "Remove")


def test_a_compare_streams_every_lane_is_stored_and_reloads(chat_env):
    at = send(new_compare_app(), "/lorem 40")
    compare_id = at.query_params["compare"]
    record = at.session_state["compare_record"]
    assert record is not None and record.conversation_id == compare_id
    at = ok(new_compare_app(browser_of(at), compare=compare_id))
    record = at.session_state["compare_record"]
    assert len(record.turns) == 1 and len(record.turns[0]) == 3
    captions = [c.value for c in at.caption if "finish" in c.value]
    assert len(captions) == 3 and all("finish `stop`" in c for c in captions)
    assert any("★" in c for c in captions)  # the best values, marked once all are done
    titles = [m.value for m in at.markdown if m.value.startswith("**offline")]
    assert titles == ["**offline · offline-fast**", "**offline · offline-scripted**",
                      "**offline · offline-slow**"]  # fmt: skip
    assert [b.label for b in at.button if b.label.startswith("Continue in Chat")] == [
        "Continue in Chat with lane A",
        "Continue in Chat with lane B",
        "Continue in Chat with lane C",
    ]
    assert [b.key for b in at.sidebar.button if b.key.startswith("compare-")] == [
        f"compare-{compare_id}"
    ]


def test_blind_lanes_are_named_after_the_vote_and_the_leaderboard_counts_it(chat_env):
    at = ok(new_compare_app())
    at.toggle(key="compare-blind").set_value(True).run()
    at = send(ok(at), "Which is better?")
    at.run()
    titles = [m.value for m in at.markdown if m.value.startswith("**Lane")]
    assert titles == ["**Lane A**", "**Lane B**", "**Lane C**"]
    at.button(key="vote-1").click().run()
    ok(at)
    assert [m.value for m in at.markdown if m.value.startswith("**offline")] == [
        "**offline · offline-fast**", "**offline · offline-scripted**",
        "**offline · offline-slow**",
    ]  # fmt: skip
    assert not [b for b in at.button if (b.key or "").startswith("vote-")]
    table = at.table[0].value
    won = dict(zip(table["model"], table["won"], strict=True))
    lost = dict(zip(table["model"], table["lost"], strict=True))
    assert won["offline-scripted"] == 1 and lost["offline-fast"] == lost["offline-slow"] == 1


def test_bad_input_is_refused_with_the_field_named_and_nothing_is_stored(chat_env):
    at = ok(new_compare_app())
    text = [t for t in at.text_area if t.label == "System prompt"]
    assert len(text) == 3
    at.number_input(key=at.number_input[0].key).set_value(1).run()
    at = send(at, "x" * 40_000)
    assert "prompt" in at.error[0].value and "over" in at.error[0].value
    assert "compare" not in at.query_params
    assert at.session_state["compare_record"] is None
    assert not [b for b in at.sidebar.button if (b.key or "").startswith("compare-")]


def openai_lanes(at: AppTest, models: list[str]) -> AppTest:
    """Two lanes on the OpenAI back end (the stub), with these models."""
    next(b for b in at.button if b.label == "Remove").click().run()  # two lanes
    for k, model in enumerate(models):
        backend = [s for s in ok(at).selectbox if s.label == "Back end"][k]
        backend.set_value("openai").run()
        for _ in range(20):  # the stub's model list arrives on a background thread
            selects = [s for s in ok(at).selectbox if s.label == "Model"]
            if len(selects) > k and selects[k].options[0] == models[0]:
                break
            at.run()
        selects[k].set_value(model).run()
    return ok(at)


def test_two_dialects_of_the_openai_stub_side_by_side_reasoning_in_its_lane_only(
    chat_env, monkeypatch
):
    from chat_core.openai_stub import create_app
    from tests.support.servers import serve_app

    with serve_app(create_app(2000, models=["deepseek-reasoner", "gpt-4o-mini"])) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        at = openai_lanes(ok(new_compare_app()), ["deepseek-reasoner", "gpt-4o-mini"])
        at = send(at, "Explain streaming")
        at.run()
        record = ok(at).session_state["compare_record"]
        assert [lane["model"] for lane in record.lanes] == ["deepseek-reasoner", "gpt-4o-mini"]
        lanes = at.columns
        thinking = [[e.label for e in lanes[k].expander] for k in range(2)]
        assert len(thinking[0]) == 1 and thinking[0][0].startswith("Thought")
        assert thinking[1] == []  # the plain model's lane shows no reasoning
        captions = [c.value for c in at.caption if "finish" in c.value]
        assert len(captions) == 2 and all("finish `stop`" in c for c in captions)


def test_follow_up_rename_export_and_delete_a_saved_compare(chat_env):
    at = send(new_compare_app(), "/echo first")
    at.run()
    at = send(ok(at), "second")
    record = at.session_state["compare_record"]
    assert len(record.turns) == 2
    lane_prompts = [p for p, _a in record.turns[1]]
    assert len(set(lane_prompts)) == 3  # one follow-up prompt per lane, each on its own branch
    at.text_input(key="compare-title").set_value("My compare").run()
    at.button(key="compare-rename").click().run()
    assert ok(at).session_state["compare_record"].title == "My compare"
    assert at.sidebar.button(key=f"compare-{record.conversation_id}").label.startswith("My compare")
    at.sidebar.text_input(key="compare_search").set_value("nothing like it").run()
    assert not [b for b in ok(at).sidebar.button if b.key.startswith("compare-")]
    at.sidebar.text_input(key="compare_search").set_value("").run()
    at.button(key="compare-delete").click().run()
    assert ok(at).session_state["compare_record"] is None
    assert not [b for b in at.sidebar.button if b.key.startswith("compare-")]


def test_a_lane_whose_endpoint_refuses_shows_its_error_and_the_other_answers(chat_env, monkeypatch):
    from tests.support.servers import free_port

    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")  # nobody there
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("CHAT_VISITOR_ENDPOINTS", "any")  # a local app: the host is named
    at = ok(new_compare_app())
    next(b for b in at.button if b.label == "Remove").click().run()
    [s for s in ok(at).selectbox if s.label == "Back end"][1].set_value("openai").run()
    model = next(t for t in ok(at).text_input if t.label == "Model")  # no list: typed
    model.set_value("gpt-4o-mini").run()
    at = send(ok(at), "/lorem 10")
    at.run()
    captions = [c.value for c in ok(at).caption if "finish" in c.value]
    assert "finish `stop`" in captions[0] and "finish `error`" in captions[1]
    assert len(at.error) == 1 and "refused the connection" in at.error[0].value


def test_the_visitor_budget_counts_every_lane(chat_env, monkeypatch):
    from chat_core.openai_stub import create_app
    from tests.support.servers import serve_app

    with serve_app(create_app(2000, models=["gpt-4o-mini", "gpt-4o"])) as url:
        monkeypatch.setenv("OPENAI_BASE_URL", url + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-owner")
        monkeypatch.setenv("CHAT_VISITOR_BUDGET", "3/0")  # the owner pays: 3 requests an hour
        at = openai_lanes(ok(new_compare_app()), ["gpt-4o-mini", "gpt-4o"])
        at = send(at, "one")
        at.run()
        assert all("finish `stop`" in c.value for c in at.caption if "finish" in c.value)
        at.button(key="new-compare").click().run()
        at = send(ok(at), "two")  # a third request fits, a fourth does not: lane B alone fails
        at.run()
        captions = [c.value for c in ok(at).caption if "finish" in c.value]
        assert "finish `stop`" in captions[0] and "finish `error`" in captions[1]
        assert "hourly allowance" in at.error[0].value
        at.button(key="new-compare").click().run()
        at = send(ok(at), "three")  # over: refused before anything is stored or sent
        assert "hourly allowance" in at.error[0].value
        assert len(at.sidebar.button) == 3  # New compare and the two compares only


def test_an_offline_lane_beside_a_remote_sse_lane_through_the_gateway(chat_env, monkeypatch):
    from chat_core import OfflineBackend
    from chat_core.gateway import GatewayConfig, create_app
    from tests.support.servers import serve_app

    gateway = create_app(backend=OfflineBackend(2000), config=GatewayConfig())
    with serve_app(gateway) as url:
        monkeypatch.setenv("CHAT_REMOTE_URL", url)
        at = ok(new_compare_app())
        next(b for b in at.button if b.label == "Remove").click().run()
        [s for s in ok(at).selectbox if s.label == "Back end"][1].set_value("remote").run()
        model = next(t for t in ok(at).text_input if t.label == "Model")  # no list: typed
        model.set_value("offline-thinker").run()  # the gateway's offline model, that character
        at = send(ok(at), "/lorem 30")
        at.run()
        record = ok(at).session_state["compare_record"]
        assert [lane["backend"] for lane in record.lanes] == ["offline", "remote"]
        captions = [c.value for c in at.caption if "finish" in c.value]
        assert len(captions) == 2 and all("finish `stop`" in c for c in captions)
        assert [len(at.columns[k].expander) for k in range(2)] == [0, 1]  # it thought first
