"""A deployed app does not tell its visitors where the owner's model server is.

Where visitors are not the owner (the app listens beyond loopback), messages about the
owner's server call it "the app's model server" in place of its host:port; where the app
listens on loopback only (``make run``: visitor endpoints ``any``) they name it, since the
person reading is the one who can fix it.
"""

from __future__ import annotations

from chat_core.backends import OWN_SERVER, make_backend
from chat_core.backends.model_list import fetch_model_list
from chat_core.chat.chrome import waiting_line
from chat_core.events import Done, StreamError, StreamEvent
from chat_core.messages import GenerationParams, build_conversation
from chat_core.settings import Settings
from tests.support.servers import free_port


def stream_error(settings: Settings) -> StreamError:
    backend = make_backend(settings, max_retries=0)
    conversation = build_conversation("hello", [])
    events: list[StreamEvent] = list(backend.stream(conversation, GenerationParams(model="m")))
    assert events[-1] == Done("error")
    return next(e for e in events if isinstance(e, StreamError))


def test_a_deployed_app_s_refused_openai_server_is_not_named() -> None:
    port = free_port()  # nothing listens there
    url = f"http://127.0.0.1:{port}/v1"
    for policy in ("public", "off"):
        error = stream_error(Settings(openai_base_url=url, visitor_endpoints=policy))
        assert str(port) not in error.message and "127.0.0.1" not in error.message
        assert error.message.startswith("The app's model server refused the connection")
        assert error.retryable


def test_on_a_laptop_the_owner_reads_where_the_server_is() -> None:
    port = free_port()
    settings = Settings(openai_base_url=f"http://127.0.0.1:{port}/v1", visitor_endpoints="any")
    error = stream_error(settings)
    assert f"is the server running on 127.0.0.1:{port}?" in error.message


def test_a_deployed_app_s_model_list_problem_does_not_name_the_server() -> None:
    port = free_port()
    settings = Settings(openai_base_url=f"http://127.0.0.1:{port}/v1", visitor_endpoints="public")
    listing = fetch_model_list(make_backend(settings, max_retries=0))
    assert listing.models is None and listing.problem
    assert str(port) not in listing.problem and OWN_SERVER in listing.problem.lower()


def test_a_deployed_app_s_refused_remote_server_is_not_named() -> None:
    port = free_port()
    settings = Settings(
        remote_url=f"http://127.0.0.1:{port}/api/chat/stream", visitor_endpoints="public"
    )
    backend = make_backend(settings)
    backend.max_backoff_s = 0.05  # type: ignore[attr-defined]
    error = stream_error_of(backend)
    assert str(port) not in error.message and "127.0.0.1" not in error.message
    assert "app's model server" in error.message.lower()


def stream_error_of(backend: object) -> StreamError:
    conversation = build_conversation("hello", [])
    events = list(backend.stream(conversation, GenerationParams()))  # type: ignore[attr-defined]
    return next(e for e in events if isinstance(e, StreamError))


def test_the_waiting_line_names_the_label_not_the_host() -> None:
    deployed = make_backend(
        Settings(openai_base_url="http://10.1.2.3:8000/v1", visitor_endpoints="public")
    )
    assert waiting_line(12.0, deployed) == "No response from the app's model server yet (12 s)"
    local = make_backend(
        Settings(openai_base_url="http://10.1.2.3:8000/v1", visitor_endpoints="any")
    )
    assert waiting_line(3.0, local) == "No response from 10.1.2.3 yet (3 s)"
