"""A TCP proxy on 127.0.0.1 that cuts connections on purpose: fault injection for tests.

For each accepted connection a policy sees the request head and may return a
``Cut``: the proxy then forwards the response up to a point in its body and
resets both sides (a TCP RST, as a flaky network or a dying proxy would). Cut
points are chosen in the response as it streams:

    anywhere   exactly ``after_bytes`` into the body (usually mid-event)
    boundary   at the first end of an SSE event after that
    escape     inside the first JSON ``\\uXXXX`` escape after that
    surrogate  between the two halves of an escaped surrogate pair (an emoji)

The protocol's JSON is ASCII-escaped, so a multi-byte character travels as
``\\uXXXX`` (two of them for an emoji): ``escape`` and ``surrogate`` are where a
cut "in the middle of a UTF-8 sequence" lands on this wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

CutMode = Literal["anywhere", "boundary", "escape", "surrogate"]
_SURROGATE_PAIR = re.compile(rb"\\ud[89ab][0-9a-f]{2}\\u")


@dataclass(frozen=True)
class Cut:
    """Where to cut one connection's response: bytes into the body, refined by ``mode``."""

    after_bytes: int
    mode: CutMode = "anywhere"


@dataclass(frozen=True)
class CutRecord:
    """A cut that happened: the connection, the request line, and the bytes just before it."""

    index: int
    request_line: str
    mode: CutMode
    body_offset: int
    before: bytes


Policy = Callable[[int, bytes], "Cut | None"]


def find_cut(data: bytes, start: int, mode: CutMode) -> int | None:
    """The cut position in ``data`` at or after ``start``; None until it can be known."""
    if mode == "anywhere":
        return start if len(data) >= start else None
    if mode == "boundary":
        at = data.find(b"\n\n", start)
        return None if at < 0 else at + 2
    if mode == "escape":
        at = data.find(b"\\u", start)
        return None if at < 0 or at + 4 > len(data) else at + 4  # "\uXX|XX"
    match = _SURROGATE_PAIR.search(data, start)
    return None if match is None else match.start() + 6  # "\ud83d|\ude00"


@dataclass
class TcpProxy:
    """Forwards 127.0.0.1:<port> to ``upstream`` (a URL), cutting where ``policy`` says."""

    upstream: str
    policy: Policy
    connections: int = 0
    cuts: list[CutRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        parts = urlsplit(self.upstream)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._counter = itertools.count()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TcpProxy:
        thread = threading.Thread(target=self._run, name="tcp-proxy", daemon=True)
        thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        self._thread = thread
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())
        self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        await self._stop.wait()
        server.close()
        handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        index = next(self._counter)
        self.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection(*self._target)
        except OSError:
            client_w.transport.abort()
            return
        decided = asyncio.get_running_loop().create_future()

        async def to_upstream() -> None:
            head = b""
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await client_r.read(65536):
                    if not decided.done():
                        head += data
                        if b"\r\n\r\n" in head:
                            decided.set_result((head, self.policy(index, head)))
                    up_w.write(data)
                    await up_w.drain()
            if not decided.done():
                decided.set_result((head, None))

        async def to_client() -> None:
            seen = bytearray()
            forwarded = 0
            body_start: int | None = None
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await up_r.read(65536):
                    seen += data
                    head, cut = await decided
                    if cut is None:
                        client_w.write(bytes(seen[forwarded:]))
                        forwarded = len(seen)
                        await client_w.drain()
                        continue
                    if body_start is None:
                        at = seen.find(b"\r\n\r\n")
                        if at < 0:
                            continue
                        body_start = at + 4
                    start = body_start + cut.after_bytes
                    pos = find_cut(bytes(seen), start, cut.mode)
                    limit = min(len(seen), start) if pos is None else pos
                    if limit > forwarded:
                        client_w.write(bytes(seen[forwarded:limit]))
                        forwarded = limit
                        await client_w.drain()
                    if pos is not None:
                        self.cuts.append(
                            CutRecord(
                                index,
                                head.split(b"\r\n", 1)[0].decode("latin-1"),
                                cut.mode,
                                pos - body_start,
                                bytes(seen[max(body_start, pos - 40) : pos]),
                            )
                        )
                        client_w.transport.abort()
                        up_w.transport.abort()
                        return
                if forwarded < len(seen):  # the response ended before the cut point
                    client_w.write(bytes(seen[forwarded:]))
                    await client_w.drain()
            client_w.close()

        pumps = [asyncio.ensure_future(to_upstream()), asyncio.ensure_future(to_client())]
        try:
            await asyncio.gather(*pumps)
        finally:
            for pump in pumps:
                pump.cancel()
            up_w.transport.abort()
            client_w.transport.abort()


@contextlib.contextmanager
def tcp_proxy(upstream: str, policy: Policy) -> Iterator[TcpProxy]:
    """A running proxy in front of ``upstream``."""
    with TcpProxy(upstream, policy) as proxy:
        yield proxy
