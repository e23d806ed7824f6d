"""A browser's EventSource (which cannot send an Authorization header) streams from a
token-protected gateway with a one-use ticket, and survives a ``/drop``: it reconnects
to the same URL with Last-Event-ID and the used ticket resumes that stream."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.harness import Server, clean_env
from tests.support.servers import run_server

pytestmark = pytest.mark.e2e
TOKEN = "e2e-gateway-token"

LISTEN = """
async ({token, message, withTicket}) => {
  let ticket = null;
  if (withTicket) {
    const issued = await fetch('/api/chat/ticket', {
      method: 'POST', headers: {Authorization: 'Bearer ' + token},
    });
    ticket = (await issued.json()).ticket;
  }
  const query = new URLSearchParams({message, history: '[]'});
  if (ticket) query.set('ticket', ticket);
  return await new Promise((resolve) => {
    const source = new EventSource('/api/chat/stream?' + query);
    const seen = {text: '', opens: 0, ids: [], finish: null, failed: false};
    source.onopen = () => { seen.opens += 1; };
    source.onmessage = (event) => {
      seen.ids.push(event.lastEventId);
      const data = JSON.parse(event.data);
      if (data.chunk) seen.text += data.chunk;
      if (data.done) { seen.finish = data.finish_reason; source.close(); resolve(seen); }
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {  // refused: the browser gives up
        seen.failed = true; resolve(seen);
      }
    };
    setTimeout(() => { source.close(); resolve(seen); }, 25000);
  });
}
"""


@pytest.fixture(scope="module")
def protected_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir: Path = tmp_path_factory.mktemp("protected-gateway")
    env = clean_env(CHAT_BACKEND="offline", CHAT_OFFLINE_TPS="400", CHAT_GATEWAY_TOKEN=TOKEN)
    cmd = [sys.executable, "-m", "chat_core.gateway", "--host", "127.0.0.1", "--port", "{port}"]
    with run_server(cmd, cwd=workdir, env=env, health_path="/healthz") as server:
        yield server


@pytest.fixture
def gateway_page(browser: Browser, protected_gateway: Server) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.goto(protected_gateway.url + "/healthz")  # the gateway's origin: no CORS involved
    yield page
    context.close()


def listen(page: Page, message: str, *, with_ticket: bool) -> dict[str, Any]:
    args = {"token": TOKEN, "message": message, "withTicket": with_ticket}
    result: dict[str, Any] = page.evaluate(LISTEN, args)
    return result


def test_an_event_source_streams_with_a_ticket_through_a_drop(gateway_page: Page) -> None:
    words = " ".join(f"w{i}" for i in range(30))
    seen = listen(gateway_page, f"/drop after 8\n/echo {words}", with_ticket=True)
    assert seen["finish"] == "stop"
    assert seen["text"] == words  # every word once: resumed, nothing repeated or lost
    assert seen["opens"] == 2  # cut once by /drop, reconnected with Last-Event-ID
    seqs = [int(i.rsplit(":", 1)[1]) for i in seen["ids"]]
    assert seqs == list(range(1, len(seqs) + 1))


def test_an_event_source_without_a_ticket_is_refused(gateway_page: Page) -> None:
    seen = listen(gateway_page, "/lorem 5", with_ticket=False)
    assert seen["failed"] and seen["opens"] == 0 and seen["text"] == ""
