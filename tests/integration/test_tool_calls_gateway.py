"""A tool exchange through the gateway: the remote back end sends the tools, the gateway's
offline model calls one, the pieces cross wire v1 as ``tool_call`` payloads, the result
goes back as a ``tool`` history item (no new prompt) and the next answer uses it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chat_core.backends.offline import OfflineBackend
from chat_core.backends.remote import RemoteBackend
from chat_core.events import Done, StreamEvent, ToolCallDelta, answer_text
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import ChatMessage, Conversation, GenerationParams
from chat_core.tools import EXAMPLE_TOOLS, accumulate, dump_tools
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

PARAMS = GenerationParams(tools=dump_tools([EXAMPLE_TOOLS["get_weather"]]))
PROMPT = Conversation((ChatMessage("user", "What is the weather in Paris?"),))


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    app = create_app(backend=OfflineBackend(1000), config=GatewayConfig(retry_ms=20))
    with serve_app(app) as url:
        yield url


def with_result(calls: Any, result: str) -> Conversation:
    return Conversation(
        (
            *PROMPT.messages,
            ChatMessage("assistant", "", tool_calls=calls),
            *(ChatMessage("tool", result, tool_call_id=c.id) for c in calls),
        )
    )


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_the_weather_exchange_through_the_gateway(gateway: str, method: str) -> None:
    url = gateway if method == "POST" else gateway + "/api/chat/stream"
    remote = RemoteBackend(url, method=method)  # type: ignore[arg-type]
    events = list(remote.stream(PROMPT, PARAMS))
    expected = [e for _, e in OfflineBackend().plan(PROMPT, PARAMS)]
    assert events == expected  # every piece, id and name crossed the wire as planned
    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
    [call] = accumulate(pieces).finished()
    assert call.name == "get_weather" and '"Paris"' in call.arguments
    assert events[-1] == Done("tool_calls", tool_names=("get_weather",))
    final = list(remote.stream(with_result((call,), "21 C, clear"), PARAMS))
    assert "21 C, clear" in answer_text(final) and final[-1] == Done("stop")


def test_the_async_twin_carries_tool_calls_too(gateway: str) -> None:
    async def main() -> list[StreamEvent]:
        remote = RemoteBackend(gateway)
        return [e async for e in remote.astream(PROMPT, PARAMS)]

    events = asyncio.run(main())
    assert any(isinstance(e, ToolCallDelta) and e.name == "get_weather" for e in events)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "hi", "tools": [{"name": "bad name"}]}, "tools"),
        ({"message": "hi", "tools": "nope"}, "tools"),
        ({"history": [{"role": "tool", "content": "x"}]}, "history[0].tool_call_id"),
        (
            {"message": "m", "history": [{"role": "user", "content": "x", "tool_calls": []}]},
            "history[0].tool_calls",
        ),
        ({"history": [{"role": "user", "content": "x"}]}, "message"),
    ],
)
def test_bad_tool_requests_are_refused_naming_the_field(
    gateway: str, body: dict[str, Any], field: str
) -> None:
    response = httpx.post(gateway + "/api/chat/stream", json=body)
    assert response.status_code == 422
    assert field in response.text
