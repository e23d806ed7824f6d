"""Base URLs checked as typed, servers named in errors, and which failures are retried."""

from __future__ import annotations

import socket
import ssl

import httpx
import openai
import pytest

from chat_core.backends.endpoints import lacks_v1, url_problem, where, with_v1
from chat_core.backends.openai_errors import error_event
from chat_core.backends.openai_retry import MAX_RETRY_AFTER_S, retry_delay

REQUEST = httpx.Request("POST", "http://127.0.0.1:8931/v1/chat/completions")


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("localhost:8931/v1", "needs http:// or https:// in front, e.g. http://localhost:8931/v1"),
        ("javascript:alert(1)", "must start with http:// or https://"),
        ("ftp://example.com/v1", "must start with http:// or https://"),
        ("http://user:hunter2@example.com/v1", "user name or password"),
        ("user:hunter2@example.com:8080/v1", "user name or password"),
        ("http://hunter2@example.com/v1", "user name or password"),
        ("http://example.com:99999/v1", "invalid port"),
        ("http:///v1", "no host name"),
        ("http://exa mple.com", "spaces"),
        ("http://" + "a" * 3000, "too long"),
    ],
)
def test_bad_base_urls_get_a_clear_message(url: str, says: str) -> None:
    problem = url_problem(url)
    assert problem is not None and says in problem
    assert "hunter2" not in problem  # credentials are never shown back


@pytest.mark.parametrize(
    "url", ["", "http://127.0.0.1:8931/v1", "https://api.openai.com/v1", "http://[::1]:80"]
)
def test_good_base_urls_pass(url: str) -> None:
    assert url_problem(url) is None


def test_where_names_host_and_port() -> None:
    assert where("http://127.0.0.1:8931/v1") == "127.0.0.1:8931"
    assert where("https://example.com/v1") == "example.com:443"
    assert where(None) == "api.openai.com:443"
    assert where("http://[::1]:8080/v1") == "[::1]:8080"


def test_a_base_url_without_v1_is_noticed_and_the_suggestion_drops_credentials() -> None:
    assert lacks_v1("http://127.0.0.1:8931") and not lacks_v1("http://127.0.0.1:8931/v1/")
    assert with_v1("http://u:p@h:1/") == "http://h:1/v1"


def _connect_error(cause: BaseException) -> openai.APIConnectionError:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise httpx.ConnectError("failed") from inner
    except httpx.ConnectError as outer:
        try:
            raise openai.APIConnectionError(request=REQUEST) from outer
        except openai.APIConnectionError as exc:
            return exc


BASE = "http://127.0.0.1:8931/v1"


def test_refused_names_the_server_and_asks_if_it_runs() -> None:
    event = error_event(_connect_error(ConnectionRefusedError(111, "refused")), base_url=BASE)
    assert "is the server running on 127.0.0.1:8931?" in event.message and event.retryable


def test_unknown_host_and_tls_are_told_apart() -> None:
    unknown = error_event(
        _connect_error(socket.gaierror(-2, "Name or service not known")),
        base_url="http://no-such-host.invalid:1/v1",
    )
    assert "no-such-host.invalid was not found" in unknown.message
    tls = error_event(_connect_error(ssl.SSLError(1, "WRONG_VERSION_NUMBER")), base_url=BASE)
    assert "TLS handshake with 127.0.0.1:8931 failed" in tls.message


def _status(
    code: int, body: object, headers: dict[str, str] | None = None
) -> openai.APIStatusError:
    response = httpx.Response(code, request=REQUEST, json=body, headers=headers)
    classes = {
        401: openai.AuthenticationError,
        404: openai.NotFoundError,
        429: openai.RateLimitError,
    }
    cls = classes.get(code, openai.InternalServerError if code >= 500 else openai.BadRequestError)
    return cls("failed", response=response, body=body)


def test_404_on_a_base_url_without_v1_suggests_it() -> None:
    event = error_event(_status(404, {"error": {"message": "Not Found"}}), base_url="http://h:1")
    assert "usually end in /v1" in event.message and "http://h:1/v1" in event.message


def test_404_model_not_found_says_to_pick_a_listed_model() -> None:
    body = {"error": {"message": 'model "gpt-4o-mini" not found, try pulling it first'}}
    event = error_event(_status(404, body), base_url=BASE)
    assert "127.0.0.1:8931 does not serve that model" in event.message
    assert not event.retryable


def test_401_and_429_name_the_server() -> None:
    assert "127.0.0.1:8931 rejected the API key (401)" in (
        error_event(_status(401, {}), base_url=BASE).message
    )
    limited = error_event(_status(429, {}), base_url=BASE)
    assert "127.0.0.1:8931 is rate limiting" in limited.message and limited.retryable


def test_silence_names_the_wait_and_the_setting() -> None:
    exc = openai.APITimeoutError(request=REQUEST)
    event = error_event(exc, base_url=BASE, first_byte_s=30)
    assert event.code == "timeout"
    assert "No response from 127.0.0.1:8931 in 30 s" in event.message
    assert "CHAT_FIRST_BYTE_TIMEOUT_S" in event.message and "Retry" in event.message


def test_retries_skip_silence_and_wait_for_rate_limits_boundedly() -> None:
    assert retry_delay(openai.APITimeoutError(request=REQUEST), 1) is None
    assert retry_delay(_connect_error(ConnectionRefusedError()), 1) == 0.5
    assert retry_delay(_connect_error(socket.gaierror(-2, "unknown")), 1) is None
    assert retry_delay(_connect_error(ssl.SSLError(1, "WRONG_VERSION_NUMBER")), 1) is None
    assert retry_delay(_status(503, {}), 2) == 1.0
    assert retry_delay(_status(400, {}), 1) is None
    assert retry_delay(_status(429, {}, {"retry-after": "2"}), 1) == 2.0
    assert retry_delay(_status(429, {}, {"retry-after": "600"}), 1) == MAX_RETRY_AFTER_S
    quota = {"error": {"code": "insufficient_quota"}}
    assert retry_delay(_status(429, quota), 1) is None


def test_the_waiting_line_names_the_host_and_a_retry() -> None:
    from types import SimpleNamespace

    from chat_core import OfflineBackend, waiting_line
    from chat_core.backends.openai import OpenAIBackend

    backend = OpenAIBackend(base_url="http://127.0.0.1:8931/v1")
    assert waiting_line(12.7, backend) == "No response from 127.0.0.1 yet (12 s)"
    backend = SimpleNamespace(name="openai", base_url="http://127.0.0.1:1/v1", retrying=(2, 3))
    assert waiting_line(3, backend) == "No response from 127.0.0.1 yet (3 s) · retrying, 2 of 3"
    assert waiting_line(None, backend) is None  # text is flowing
    assert waiting_line(3, OfflineBackend()) is None  # no host: the page's own words
