"""View code: the request behind an answer, as Python with the ``openai`` SDK and as curl.

Pure: settings + conversation + parameters in, source text out. The request body is
the one the back end sends (``openai_params.chat_request`` / ``responses_request``,
the remote back end's JSON body), so the snippet reproduces the answer.

Secrets and the owner's endpoints never appear as values (``docs/security.md``): a
key or token is always an environment variable's name, whoever typed it; the
owner's base URL or remote URL is ``$OPENAI_BASE_URL`` / ``$CHAT_REMOTE_URL``, since
whoever views the page may be a visitor. Only an endpoint the visitor typed (their
own) or OpenAI's public API is written out. The offline model has no HTTP endpoint:
its snippets target the OpenAI stub (``python -m chat_core.openai_stub``), which
answers with the same scripted model.
"""

from __future__ import annotations

import json
import pprint
import shlex
from dataclasses import dataclass
from typing import Any, Literal

from chat_core.backends.openai_params import (
    ParamStyle,
    chat_request,
    is_openai_endpoint,
    responses_request,
)
from chat_core.backends.remote_session import wire_body
from chat_core.messages import Conversation, GenerationParams
from chat_core.settings import DEFAULT_OPENAI_MODEL, Settings

KEY_ENV = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"
REMOTE_URL_ENV = "CHAT_REMOTE_URL"
TOKEN_ENV = "CHAT_GATEWAY_TOKEN"
STUB_BASE_URL = "http://127.0.0.1:8001/v1"  # python -m chat_core.openai_stub's default
OPENAI_BASE_URL = "https://api.openai.com/v1"
GATEWAY_PATH = "/api/chat/stream"  # wire protocol v1 (chat_core.wire)

SnippetKind = Literal["python", "curl", "gateway"]


@dataclass(frozen=True, slots=True)
class Snippet:
    """One way to send the request: a title, the language to highlight, the source."""

    kind: SnippetKind
    title: str
    language: str
    source: str


@dataclass(frozen=True, slots=True)
class _Endpoint:
    """Where the snippet sends: a literal URL, or an environment variable's name (+ default)."""

    url: str | None  # written out: the visitor's own endpoint, OpenAI's or the stub's
    env: str | None = None  # read from the environment: the owner's endpoint
    key_env: str | None = KEY_ENV  # None: a keyless server (a local one, the stub)
    stub: bool = False

    def python(self) -> str:
        if self.env is None:
            return repr(self.url)
        if self.url is None:
            return f"os.environ[{self.env!r}]"
        return f"os.environ.get({self.env!r}, {self.url!r})"

    def shell(self, path: str) -> str:
        if self.env is None:
            return shlex.quote(f"{self.url}{path}")
        base = f"${{{self.env}}}" if self.url is None else f"${{{self.env}:-{self.url}}}"
        return f'"{base}{path}"'


def view_code(
    settings: Settings, conversation: Conversation, params: GenerationParams
) -> list[Snippet]:
    """The snippets for one request: Python and curl, or curl against the gateway."""
    backend = settings.resolved_backend
    if backend == "remote":
        return [_gateway_snippet(settings, conversation, params)]
    base: str | None = STUB_BASE_URL
    if backend == "offline":
        endpoint = _Endpoint(STUB_BASE_URL, BASE_URL_ENV, key_env=None, stub=True)
        api = "chat"
        model = params.model or settings.resolved_model
    else:
        endpoint, api = _openai_endpoint(settings), _openai_api(settings)
        base = _shown_base(settings)
        model = params.model or settings.model or DEFAULT_OPENAI_MODEL
    # The names the back end's first request uses (before any refusal teaches it others).
    style = ParamStyle.initial(base, model)
    if api == "responses":
        request = responses_request(conversation, params, model, style)
    else:
        request = chat_request(conversation, params, model, style)
    request = elide_files(request)
    return [_python(endpoint, api, request), _curl(endpoint, api, request)]


def elide_files(value: Any) -> Any:
    """The request with each attached file's base64 cut to a marker: a snippet with a 2 MB
    data URL in it would be unreadable (and heavy on the page)."""
    if isinstance(value, str) and value.startswith("data:") and len(value) > 200:
        head = value.split(",", 1)[0]
        return f"{head},<{len(value) - len(head) - 1:,} base64 characters: the file>"
    if isinstance(value, dict):
        return {k: elide_files(v) for k, v in value.items()}
    if isinstance(value, list):
        return [elide_files(v) for v in value]
    return value


def _openai_endpoint(settings: Settings) -> _Endpoint:
    visitor = settings.visitor
    if visitor.openai_base_url:  # theirs; keyless local servers get the app's placeholder
        key_env = KEY_ENV if visitor.openai_api_key else None
        return _Endpoint(visitor.openai_base_url.rstrip("/"), key_env=key_env)
    if settings.openai_base_url:
        return _Endpoint(None, BASE_URL_ENV)
    return _Endpoint(OPENAI_BASE_URL)


def _shown_base(settings: Settings) -> str | None:
    return settings.visitor.openai_base_url or settings.openai_base_url


def _openai_api(settings: Settings) -> str:
    if settings.openai_api != "auto":
        return settings.openai_api
    return "responses" if is_openai_endpoint(_shown_base(settings)) else "chat"


_PY_CHAT_LOOP = """\
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        print(chunk.choices[0].delta.content, end="", flush=True)
print()
"""
_PY_RESPONSES_LOOP = """\
for event in stream:
    if event.type == "response.output_text.delta":
        print(event.delta, end="", flush=True)
print()
"""


def _python(endpoint: _Endpoint, api: str, request: dict[str, Any]) -> Snippet:
    key = f"os.environ[{endpoint.key_env!r}]" if endpoint.key_env else repr("not-needed")
    call = "client.responses.create" if api == "responses" else "client.chat.completions.create"
    lines = ["import os", "", "from openai import OpenAI", ""]
    if endpoint.stub:
        lines.append("# Start the stub first: python -m chat_core.openai_stub")
    lines += [
        f"client = OpenAI(base_url={endpoint.python()}, api_key={key})",
        f"stream = {call}(",
        *(f"    {name}={_py_value(value)}," for name, value in request.items()),
        ")",
        _PY_RESPONSES_LOOP if api == "responses" else _PY_CHAT_LOOP,
    ]
    return Snippet("python", "Python (openai SDK)", "python", "\n".join(lines))


def _py_value(value: object) -> str:
    text = pprint.pformat(value, width=80, sort_dicts=False)
    return text.replace("\n", "\n    ")  # continuation lines inside the call


def _curl(endpoint: _Endpoint, api: str, request: dict[str, Any]) -> Snippet:
    path = "/responses" if api == "responses" else "/chat/completions"
    headers = ["-H 'Content-Type: application/json'"]
    if endpoint.key_env:
        headers.insert(0, f'-H "Authorization: Bearer ${endpoint.key_env}"')
    title = "curl (the stub)" if endpoint.stub else "curl"
    return Snippet("curl", title, "bash", _curl_source(endpoint.shell(path), headers, request))


def _curl_source(url: str, headers: list[str], body: dict[str, Any]) -> str:
    # A quoted here-document: the body needs no shell escaping, whatever the prompt holds.
    # JSON escapes newlines inside strings, so no body line can be the bare delimiter.
    lines = [f"curl -sN {url}", *headers, "--data-binary @-"]
    command = " \\\n  ".join(lines)
    return f"{command} <<'JSON'\n{json.dumps(body, indent=2, ensure_ascii=False)}\nJSON\n"


def _gateway_snippet(
    settings: Settings, conversation: Conversation, params: GenerationParams
) -> Snippet:
    visitor = settings.visitor
    if visitor.remote_url:
        endpoint = _Endpoint(_stream_url(visitor.remote_url))
        has_token = visitor.gateway_token is not None
    else:
        endpoint = _Endpoint(None, REMOTE_URL_ENV)
        has_token = bool(settings.gateway_token or visitor.gateway_token)
    body = wire_body(conversation, params, params.model or settings.model)  # the remote's own
    headers = ["-H 'Content-Type: application/json'"]
    if has_token:
        headers.insert(0, f'-H "Authorization: Bearer ${TOKEN_ENV}"')
    if endpoint.env is None:
        url = endpoint.shell("")
    else:  # a base URL gets the stream path, as the app adds it (remote.RemoteBackend)
        owner_url = (settings.remote_url or "").rstrip("/")
        url = endpoint.shell("" if _stream_url(owner_url) == owner_url else GATEWAY_PATH)
    source = _curl_source(url, headers, body)
    return Snippet("gateway", "curl (the gateway, SSE)", "bash", source)


def _stream_url(url: str) -> str:
    stripped = url.rstrip("/")
    path = stripped.split("://", 1)[-1].partition("/")[2]
    return stripped if path else stripped + GATEWAY_PATH
