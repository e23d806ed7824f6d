"""Attachments over real HTTP on 127.0.0.1: the real ``openai`` SDK against the stub's image
dialects, and the remote back end through the gateway (wire v1 ``attachments``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator

import httpx
import pytest

from chat_core.attachments import WithoutImages, prepare_files
from chat_core.backends.offline import OfflineBackend
from chat_core.backends.openai import OpenAIBackend
from chat_core.backends.remote import RemoteBackend
from chat_core.events import Done, StreamError, StreamEvent, TextDelta
from chat_core.gateway import GatewayConfig, create_app
from chat_core.messages import GenerationParams, build_conversation
from chat_core.openai_stub import create_app as create_stub
from tests.support.files import pdf, photo
from tests.support.servers import serve_app

pytestmark = pytest.mark.integration

FILES = prepare_files([("holiday.jpg", photo(96, 64, "JPEG")), ("notes.pdf", pdf("Forty two"))])


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with serve_app(create_stub(tokens_per_second=500)) as url:
        yield url


@pytest.fixture(autouse=True)
def fresh_stats(stub_url: str) -> None:
    httpx.post(stub_url + "/_stub/reset").raise_for_status()


def requests_made(stub_url: str) -> int:
    return int(httpx.get(stub_url + "/_stub/stats").json()["requests"])


def answer(backend: object, prompt: str = "what is in these?", **options: object) -> list:
    conversation = build_conversation(prompt, attachments=FILES)
    events: list[StreamEvent] = list(backend.stream(conversation, GenerationParams(**options)))  # type: ignore[attr-defined]
    assert isinstance(events[-1], Done)
    return events


def text(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, TextDelta))


def openai_backend(stub_url: str, model: str, **options: object) -> OpenAIBackend:
    return OpenAIBackend(
        api_key="k",
        base_url=stub_url + "/v1",
        model=model,
        max_retries=2,
        **options,  # type: ignore[arg-type]
    )


def test_a_vision_model_gets_an_image_url_data_url_without_exif(stub_url: str) -> None:
    said = text(answer(openai_backend(stub_url, "stub-vision")))
    assert "I received 1 image." in said
    assert "Image 1: image/jpeg," in said
    assert "96 x 64 px, EXIF none" in said


def test_the_responses_api_gets_input_image_parts(stub_url: str) -> None:
    said = text(answer(openai_backend(stub_url, "stub-vision", api="responses")))
    assert "Image 1: image/jpeg," in said and "96 x 64 px, EXIF none" in said


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_a_model_without_vision_is_told_apart_not_retried(stub_url: str, api: str) -> None:
    events = answer(openai_backend(stub_url, "llamacpp-novision", api=api))
    errors = [e for e in events if isinstance(e, StreamError)]
    assert errors and errors[0].message.startswith("This model cannot read images.")
    assert errors[0].retryable is False
    assert requests_made(stub_url) == 1  # a 500 naming the image: no retry loop


def test_resend_without_images_then_succeeds(stub_url: str) -> None:
    backend = WithoutImages(openai_backend(stub_url, "llamacpp-novision"))
    events = answer(backend)
    assert not [e for e in events if isinstance(e, StreamError)]
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "stop"
    assert requests_made(stub_url) == 1
    assert "[image holiday.jpg: not sent" in text(events)  # the scripted answer quotes it


def test_vision_off_never_sends_an_image(stub_url: str) -> None:
    events = answer(openai_backend(stub_url, "llamacpp-novision", vision="off"))
    assert not [e for e in events if isinstance(e, StreamError)]


# -- through the gateway -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def gateway_url() -> Iterator[str]:
    with serve_app(create_app(backend=OfflineBackend(400), config=GatewayConfig())) as url:
        yield url


@pytest.fixture(scope="module")
def vision_gateway_url(stub_url: str) -> Iterator[str]:
    """The gateway over the OpenAI back end, over the stub's vision model."""
    upstream = openai_backend(stub_url, "stub-vision")
    with serve_app(create_app(backend=upstream, config=GatewayConfig())) as url:
        yield url


def test_an_image_goes_remote_to_gateway_to_a_vision_model(vision_gateway_url: str) -> None:
    said = text(answer(RemoteBackend(vision_gateway_url)))
    assert "Image 1: image/jpeg," in said and "96 x 64 px, EXIF none" in said


def test_an_oversize_image_is_refused_before_any_upstream_call(
    vision_gateway_url: str, stub_url: str
) -> None:
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 6_000_000).decode()
    body = {
        "message": "look",
        "attachments": [{"name": "big.png", "mime": "image/png", "data": big}],
    }
    response = httpx.post(vision_gateway_url + "/api/chat/stream", json=body, timeout=20)
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "attachments[0].data"
    assert requests_made(stub_url) == 0


def test_the_remote_back_end_sends_files_and_the_model_sees_them(gateway_url: str) -> None:
    said = text(answer(RemoteBackend(gateway_url)))
    assert "You attached 2 files:" in said
    assert "holiday.jpg: JPEG image," in said and "96 x 64 px" in said
    assert "notes.pdf: PDF," in said and "9 characters of text" in said


def test_an_oversize_image_is_refused_413_naming_the_field(gateway_url: str) -> None:
    big = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 6_000_000).decode()
    body = {
        "message": "look",
        "attachments": [{"name": "big.png", "mime": "image/png", "data": big}],
    }
    response = httpx.post(gateway_url + "/api/chat/stream", json=body, timeout=20)
    assert response.status_code == 413
    assert "attachments[0].data" in json.dumps(response.json())


def test_an_executable_named_png_is_refused_422(gateway_url: str) -> None:
    fake = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 100).decode()
    body = {
        "message": "look",
        "attachments": [{"name": "cat.png", "mime": "image/png", "data": fake}],
    }
    response = httpx.post(gateway_url + "/api/chat/stream", json=body, timeout=20)
    assert response.status_code == 422
    assert "attachments[0].data" in json.dumps(response.json())
    assert "cat.png" in json.dumps(response.json())


def test_a_seed_style_get_client_is_unaffected(gateway_url: str) -> None:
    said = text(answer(RemoteBackend(gateway_url, method="GET")))
    assert "You attached" not in said  # no files in a URL: their text went in the message
    assert "[file notes.pdf] Forty two" in said


@pytest.fixture(scope="module")
def novision_gateway_url(stub_url: str) -> Iterator[str]:
    """The gateway over a llama.cpp-like server, which fails on any image."""
    upstream = openai_backend(stub_url, "llamacpp-novision")
    with serve_app(create_app(backend=upstream, config=GatewayConfig())) as url:
        yield url


def test_a_refused_image_through_the_gateway_reads_the_same(
    novision_gateway_url: str, stub_url: str
) -> None:
    events = answer(RemoteBackend(novision_gateway_url))
    errors = [e for e in events if isinstance(e, StreamError)]
    assert errors and errors[0].message.startswith("This model cannot read images.")
    assert requests_made(stub_url) == 1  # the gateway's back end did not retry either
    again = answer(WithoutImages(RemoteBackend(novision_gateway_url)))
    assert not [e for e in again if isinstance(e, StreamError)]
