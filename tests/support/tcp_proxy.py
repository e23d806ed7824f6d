"""A TCP proxy on 127.0.0.1 that cuts connections on purpose: fault injection for tests.

For each accepted connection a policy sees the request head and may return a
``Cut``: the proxy then forwards the response up to a point in its body and
resets both sides (a TCP RST, as a flaky network or a dying proxy would). Cut
points are chosen in the response as it streams:

    anywhere   exactly ``after_bytes`` into the body (usually mid-event)
    boundary   at the first end of an SSE event after that
    escape     inside the first JSON ``\\uXXXX`` escape after that
    surrogate  between the two halves of an escaped surrogate pair (an emoji)

A body that ends before its cut point is cut inside its last event instead.

The protocol's JSON is ASCII-escaped, so a multi-byte character travels as
``\\uXXXX`` (two of them for an emoji): ``escape`` and ``surrogate`` are where a
cut "in the middle of a UTF-8 sequence" lands on this wire.

Plain threads and blocking sockets, two threads a connection: simple enough to
trust as the thing that breaks the system under test.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

CutMode = Literal["anywhere", "boundary", "escape", "surrogate"]
_SURROGATE_PAIR = re.compile(rb"\\ud[89ab][0-9a-f]{2}\\u")
_LAST_CHUNK = b"0\r\n\r\n"  # the end of a chunked body (SSE payloads never end so)


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
    mode: str  # a CutMode, or "fallback" when the body ended before the mode's cut point
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
        self._counter = itertools.count()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=512)
        self.port = self._listener.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TcpProxy:
        self._accepting = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._accepting.start()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes accept(): the thread ends
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                _close(sock)
        self._accepting.join(5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            index = next(self._counter)
            with self._lock:
                self.connections += 1
                self._sockets.add(client)
            threading.Thread(target=self._serve, args=(index, client), daemon=True).start()

    def _serve(self, index: int, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self._target, timeout=10)
        except OSError:
            _close(client, reset=True)
            return
        upstream.settimeout(None)
        with self._lock:
            self._sockets.add(upstream)
        try:
            head = b""
            while b"\r\n\r\n" not in head:
                data = client.recv(65536)
                if not data:
                    return
                head += data
                upstream.sendall(data)
            cut = self.policy(index, head)
            threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
            self._respond(index, head, cut, client, upstream)
        except OSError:
            pass
        finally:
            _close(client)
            _close(upstream)
            with self._lock:
                self._sockets.discard(client)
                self._sockets.discard(upstream)

    def _respond(
        self,
        index: int,
        head: bytes,
        cut: Cut | None,
        client: socket.socket,
        upstream: socket.socket,
    ) -> None:
        """Upstream to client, cutting the connection where ``cut`` says."""
        seen = bytearray()
        forwarded = 0
        body_start: int | None = None
        while data := upstream.recv(65536):
            seen += data
            if cut is None:
                client.sendall(data)
                forwarded = len(seen)
                continue
            if body_start is None:
                at = seen.find(b"\r\n\r\n")
                if at < 0:
                    continue
                body_start = at + 4
            start = body_start + cut.after_bytes
            pos = find_cut(bytes(seen), start, cut.mode)
            mode: str = cut.mode
            if pos is None and seen.endswith(_LAST_CHUNK):
                # The body ended before its cut point: cut inside its last event, so
                # every connection the policy picked really is cut.
                pos, mode = max(seen.rfind(b"\n\n"), body_start), "fallback"
            limit = min(len(seen), start) if pos is None else pos
            if limit > forwarded:
                client.sendall(bytes(seen[forwarded:limit]))
                forwarded = limit
            if pos is not None:
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                before = bytes(seen[max(body_start, pos - 40) : pos])
                with self._lock:
                    self.cuts.append(CutRecord(index, line, mode, pos - body_start, before))
                _close(client, reset=True)
                return


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Client to upstream, until either side goes."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)


def _close(sock: socket.socket, *, reset: bool = False) -> None:
    try:
        with contextlib.suppress(OSError):  # the peer may be gone already: close anyway
            if reset:
                # SHUT_RD wakes the pump thread blocked in recv() (a close() would wait for
                # it); then SO_LINGER 0 makes close() send a TCP RST instead of a FIN.
                sock.shutdown(socket.SHUT_RD)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
    finally:
        sock.close()


@contextlib.contextmanager
def tcp_proxy(upstream: str, policy: Policy) -> Iterator[TcpProxy]:
    """A running proxy in front of ``upstream``."""
    with TcpProxy(upstream, policy) as proxy:
        yield proxy
