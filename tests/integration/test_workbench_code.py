"""View code, run: the generated Python and curl against real servers on 127.0.0.1.

The Python snippet runs in a fresh interpreter with the real ``openai`` SDK against the
OpenAI stub; its printed tokens must be the chat's answer (what the app's back end got
for the same settings). Each curl runs in bash, as a person would paste it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from chat_core import GenerationParams, OfflineBackend, Settings, answer_text, build_conversation
from chat_core.backends import make_backend
from chat_core.gateway import GatewayConfig, create_app
from chat_core.openai_stub import create_app as create_stub
from chat_core.workbench import Snippet, view_code
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

HISTORY = [
    {"role": "user", "content": "What is a stream?"},
    {"role": "assistant", "content": "Data that arrives piece by piece."},
]
PROMPT = 'Tell me about "server-sent" events and $SHELL quoting\nin two lines'
CONVERSATION = build_conversation(PROMPT, HISTORY)
PARAMS = GenerationParams(temperature=0.2, max_tokens=300, system="Answer briefly.")


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serve_app(create_stub(tokens_per_second=5000)) as url:
        yield url


@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    backend = OfflineBackend(tokens_per_second=5000)
    app = create_app(backend=backend, config=GatewayConfig(token="gw"))
    with serve_app(app) as url:
        yield url


def clean_env(**values: str) -> dict[str, str]:
    """The test's environment without any OpenAI or gateway setting, plus ``values``."""
    names = ("OPENAI_", "CHAT_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(names)}
    return {**env, **values}


def run(snippet: Snippet, env: dict[str, str]) -> str:
    argv = [sys.executable, "-c", snippet.source] if snippet.language == "python" else None
    argv = argv or ["bash", "-c", snippet.source]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def chat_answer(settings: Settings) -> str:
    """The answer the chat gets from the app's back end for these settings."""
    backend = make_backend(settings)
    return answer_text(list(backend.stream(CONVERSATION, PARAMS)))


def sse_text(body: str, key: str) -> str:
    """Join one key of every ``data:`` payload (Chat Completions chunks or wire v1)."""
    out = []
    for line in body.splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        payload = json.loads(line[len("data: ") :])
        if key == "chunk":
            out.append(payload.get("chunk", ""))
        else:
            for choice in payload.get("choices", []):
                out.append(choice["delta"].get("content") or "")
    return "".join(out)


def snippets(settings: Settings, params: GenerationParams = PARAMS) -> dict[str, Snippet]:
    return {s.kind: s for s in view_code(settings, CONVERSATION, params)}


def test_offline_chat_python_and_curl_print_the_chats_answer(stub_url: str) -> None:
    settings = Settings(backend="offline")
    params = GenerationParams(
        model=settings.resolved_model, temperature=0.2, max_tokens=300, system="Answer briefly."
    )
    offline = OfflineBackend(tokens_per_second=5000)
    expected = answer_text(list(offline.stream(CONVERSATION, params)))
    assert expected
    found = snippets(settings, params)
    env = clean_env(OPENAI_BASE_URL=stub_url + "/v1")
    assert run(found["python"], env) == expected + "\n"
    assert sse_text(run(found["curl"], env), "choices") == expected


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_openai_chat_python_and_curl_print_the_chats_answer(stub_url: str, api: str) -> None:
    settings = Settings(openai_api_key="k-test", openai_base_url=stub_url + "/v1", openai_api=api)
    expected = chat_answer(settings)
    assert expected
    found = snippets(settings)
    env = clean_env(OPENAI_BASE_URL=stub_url + "/v1", OPENAI_API_KEY="k-test")
    assert run(found["python"], env) == expected + "\n"
    body = run(found["curl"], env)
    if api == "chat":
        assert sse_text(body, "choices") == expected
    else:
        deltas = [
            json.loads(line[len("data: ") :])
            for line in body.splitlines()
            if line.startswith("data: ") and '"response.output_text.delta"' in line
        ]
        assert "".join(d["delta"] for d in deltas) == expected


def test_gateway_curl_streams_the_chats_answer(gateway_url: str) -> None:
    settings = Settings(remote_url=gateway_url, gateway_token="gw")
    expected = chat_answer(settings)
    assert expected
    found = snippets(settings)
    body = run(found["gateway"], clean_env(CHAT_REMOTE_URL=gateway_url, CHAT_GATEWAY_TOKEN="gw"))
    assert sse_text(body, "chunk") == expected
    assert '"done": true' in body or '"done":true' in body
