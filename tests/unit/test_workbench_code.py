"""View code: the generated snippets, their request bodies, and what they must never contain."""

from __future__ import annotations

import ast
import json
import re

import pytest

from chat_core import GenerationParams, Settings, build_conversation
from chat_core.backends.openai_params import ParamStyle, chat_request, responses_request
from chat_core.settings import VisitorInput
from chat_core.workbench import Snippet, view_code

HISTORY = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
PROMPT = 'It\'s a "quoted" prompt\nwith $HOME, `ticks` and\nJSON\non its own line'
CONVERSATION = build_conversation(PROMPT, HISTORY)
PARAMS = GenerationParams(temperature=0.3, max_tokens=200, system="Be brief.")

CANARIES = {
    "openai_api_key": "sk-CANARY-owner-key-1f2e",
    "openai_base_url": "https://canary-owner-endpoint.example/v1",
    "remote_url": "https://canary-owner-gateway.example:8443",
    "gateway_token": "CANARY-owner-token-77aa",
}
VISITOR_SECRETS = {"openai_api_key": "sk-CANARY-visitor-key", "gateway_token": "CANARY-vis-tok"}


def snippets(settings: Settings) -> dict[str, Snippet]:
    return {s.kind: s for s in view_code(settings, CONVERSATION, PARAMS)}


def python_call_kwargs(source: str) -> dict[str, object]:
    """The keyword arguments of the ``....create(...)`` call, evaluated as literals."""
    tree = ast.parse(source)
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "create"
    ]
    assert len(calls) == 1
    return {k.arg: ast.literal_eval(k.value) for k in calls[0].keywords if k.arg}


def curl_body(source: str) -> object:
    """The JSON of the here-document, as the shell hands it to curl."""
    match = re.search(r"<<'JSON'\n(.*)\nJSON\n$", source, re.DOTALL)
    assert match is not None
    return json.loads(match[1])


def test_offline_targets_the_stub_with_the_chat_request_the_back_end_sends() -> None:
    found = snippets(Settings())
    assert set(found) == {"python", "curl"}
    expected = chat_request(
        CONVERSATION, PARAMS, "offline-scripted", ParamStyle.initial("http://127.0.0.1:8001/v1", "")
    )
    assert python_call_kwargs(found["python"].source) == expected
    assert curl_body(found["curl"].source) == expected
    assert "python -m chat_core.openai_stub" in found["python"].source
    assert "${OPENAI_BASE_URL:-http://127.0.0.1:8001/v1}/chat/completions" in found["curl"].source
    assert "Authorization" not in found["curl"].source  # the stub takes any key


def test_openai_own_api_uses_the_responses_request() -> None:
    found = snippets(Settings(openai_api_key="sk-x"))
    expected = responses_request(
        CONVERSATION, PARAMS, "gpt-4o-mini", ParamStyle.initial(None, "gpt-4o-mini")
    )
    assert python_call_kwargs(found["python"].source) == expected
    assert "client.responses.create(" in found["python"].source
    assert "https://api.openai.com/v1/responses" in found["curl"].source
    assert curl_body(found["curl"].source) == expected
    assert 'Authorization: Bearer $OPENAI_API_KEY"' in found["curl"].source


def test_the_python_snippet_is_valid_python_and_reads_the_key_by_name() -> None:
    source = snippets(Settings(openai_api_key="sk-x", openai_api="chat"))["python"].source
    compile(source, "snippet.py", "exec")
    assert "os.environ['OPENAI_API_KEY']" in source
    assert "client.chat.completions.create(" in source
    assert "sk-x" not in source


def test_a_model_chosen_in_the_sidebar_is_the_model_sent() -> None:
    params = GenerationParams(model="my-model")
    found = view_code(Settings(openai_base_url="http://x/v1"), CONVERSATION, params)
    assert python_call_kwargs(found[0].source)["model"] == "my-model"


def test_visitor_endpoint_is_written_out_and_keyless_servers_get_the_placeholder() -> None:
    typed = VisitorInput(openai_base_url="http://localhost:11434/v1/")
    found = snippets(Settings(visitor=typed))
    assert "base_url='http://localhost:11434/v1'" in found["python"].source
    assert "api_key='not-needed'" in found["python"].source
    assert found["curl"].source.startswith("curl -sN http://localhost:11434/v1/chat/completions")


def test_remote_back_end_gives_the_gateway_body() -> None:
    found = snippets(Settings(remote_url="http://gw.example:8000"))
    assert set(found) == {"gateway"}
    source = found["gateway"].source
    assert curl_body(source) == {
        "message": PROMPT,
        "history": HISTORY,
        "temperature": 0.3,
        "max_tokens": 200,
        "system": "Be brief.",
    }
    assert '"${CHAT_REMOTE_URL}/api/chat/stream"' in source
    assert "Authorization" not in source  # no token configured


def test_remote_url_with_its_path_is_used_as_is() -> None:
    found = snippets(Settings(remote_url="http://gw.example:8000/custom/stream", gateway_token="t"))
    assert '"${CHAT_REMOTE_URL}" \\' in found["gateway"].source
    assert "Bearer $CHAT_GATEWAY_TOKEN" in found["gateway"].source


@pytest.mark.parametrize(
    "settings",
    [
        Settings(**CANARIES, backend="openai"),
        Settings(**CANARIES, backend="openai", openai_api="responses"),
        Settings(**CANARIES, backend="remote"),
        Settings(**CANARIES, backend="offline"),
        Settings(**CANARIES, backend="openai", visitor=VisitorInput(**VISITOR_SECRETS)),
        Settings(**CANARIES, backend="remote", visitor=VisitorInput(**VISITOR_SECRETS)),
        Settings(
            **CANARIES,
            backend="openai",
            visitor=VisitorInput(openai_base_url="https://v.example/v1", **VISITOR_SECRETS),
        ),
        Settings(
            **CANARIES,
            backend="remote",
            visitor=VisitorInput(remote_url="https://v.example", **VISITOR_SECRETS),
        ),
    ],
    ids=["openai", "responses", "remote", "offline", "v-key", "v-token", "v-url", "v-remote"],
)
def test_no_secret_and_no_owner_url_in_any_snippet(settings: Settings) -> None:
    text = "\n".join(s.source for s in view_code(settings, CONVERSATION, PARAMS))
    for value in [*CANARIES.values(), *VISITOR_SECRETS.values()]:
        assert value not in text
    assert "canary" not in text.lower()
