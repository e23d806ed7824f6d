"""The shared page's X-Robots-Tag middleware in front of an ASGI app (httpx ASGITransport)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from chat_core.sharing.robots import NoIndexShared


async def page(scope, receive, send) -> None:
    """Stands for Streamlit: the same HTML for every path, one header of its own."""
    headers = [(b"content-type", b"text/html"), (b"x-robots-tag", b"all")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"<html></html>"})


async def fetch(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=NoIndexShared(page))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get(path)


@pytest.mark.parametrize("path", ["/shared?t=abc", "/shared/", "/base/shared?t=x", "/shared"])
def test_the_shared_page_is_tagged_noindex_once(path: str) -> None:
    response = asyncio.run(fetch(path))
    assert response.headers.get_list("x-robots-tag") == ["noindex, nofollow"]
    assert response.text == "<html></html>"


@pytest.mark.parametrize("path", ["/", "/?c=abc", "/diagnostics", "/sharedx", "/shared/x.js"])
def test_other_paths_are_left_alone(path: str) -> None:
    assert asyncio.run(fetch(path)).headers.get_list("x-robots-tag") == ["all"]
