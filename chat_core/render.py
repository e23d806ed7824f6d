"""Turning a run's events into what ``st.write_stream`` shows, cheaply.

``st.write_stream`` re-sends the whole element on every string chunk, so a long
answer costs O(n^2) bytes on the websocket. Two fixes, both pure here:

- coalescing: text is sent at most once per frame interval (the first chunk is
  never held back);
- blocks: at each finished markdown block (a blank line outside a code fence,
  followed by a line that does not continue the block) ``NEW_BLOCK`` is yielded.
  ``st.write_stream`` treats a callable chunk as "flush the current element and
  call it", so the next text starts a new element and only the growing tail is
  re-sent.

Model output is shown as markdown without raw HTML (Streamlit's default), and
markdown images are made inert (``![`` -> ``!\\[``) so the answer cannot make the
browser fetch an outside URL. The stored answer is never changed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from typing import Any

from chat_core.events import Done, StreamEvent, TextDelta
from chat_core.runs import Run

FRAME_S = 0.04
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_LIST_ITEM = re.compile(r" {0,3}([-*+]|\d{1,9}[.)])( |$)")


def NEW_BLOCK() -> None:  # noqa: N802 - used as a marker value
    """Marker chunk: ``st.write_stream`` flushes its element and starts a new one."""


RenderChunk = str | Callable[[], None]


class BlockSplitter:
    """Feeds text and emits it with ``NEW_BLOCK`` markers at finished markdown blocks.

    A boundary is a blank line outside any fenced code block, once the next
    line has started with a character that does not continue the block
    (indentation continues it; a list item after a list continues the list).
    """

    def __init__(self) -> None:
        self._line = ""  # the current, unfinished line
        self._fence: str | None = None  # the open fence's marker, e.g. "```"
        self._blank_pending = False  # a blank line was seen; the boundary is not decided yet
        self._block_is_list = False
        self._held = ""  # text after a blank line, held until the boundary is decided

    def feed(self, text: str) -> list[RenderChunk]:
        """The pieces to show for new text; the text pieces concatenate to the input."""
        out: list[RenderChunk] = []
        emit: list[str] = []
        for ch in text:
            if self._blank_pending:
                self._held += ch
                if ch in " \t\n":
                    continue
                # The first visible character after the blank line decides. Not
                # splitting is always safe, so anything that may continue the block
                # (indentation, a possible list item after a list) does.
                line = self._held[self._held.rfind("\n") + 1 :]
                continues = line[0] in " \t" or (self._block_is_list and ch in "-*+0123456789")
                if continues:
                    emit.append(self._held)
                else:
                    emit.append(self._held[: len(self._held) - len(line)])
                    out += ["".join(emit), NEW_BLOCK]
                    emit = [line]
                    self._block_is_list = False
                self._line = line
                self._held, self._blank_pending = "", False
                continue
            emit.append(ch)
            if ch == "\n":
                self._end_line(self._line)
                self._line = ""
            else:
                self._line += ch
        if emit:
            out.append("".join(emit))
        return [piece for piece in out if piece != ""]

    def _end_line(self, line: str) -> None:
        m = _FENCE.match(line)
        if self._fence is not None:
            if m and m.group(1)[0] == self._fence[0] and len(m.group(1)) >= len(self._fence) \
                    and not line.strip()[len(m.group(1)):]:
                self._fence = None
            return
        if m:
            self._fence = m.group(1)
            return
        if not line.strip():
            self._blank_pending = True
            return
        if _LIST_ITEM.match(line):
            self._block_is_list = True

    def flush(self) -> list[RenderChunk]:
        """Whatever is held at the end of the stream."""
        held, self._held, self._blank_pending = self._held, "", False
        return [held] if held else []


_IMAGE = re.compile(r"!\[")


class ImageNeutralizer:
    """Escapes ``![`` outside fenced code, across chunk borders."""

    def __init__(self) -> None:
        self._pending_bang = False
        self._fence: str | None = None
        self._line = ""

    def feed(self, text: str) -> str:
        if self._pending_bang:
            text, self._pending_bang = "!" + text, False
        if text.endswith("!"):
            text, self._pending_bang = text[:-1], True
        out: list[str] = []
        for part in re.split(r"(\n)", text):
            if part == "\n":
                self._end_line()
                out.append(part)
                continue
            self._line += part
            if self._fence is None:
                part = _IMAGE.sub(r"!\\[", part)
            out.append(part)
        return "".join(out)

    def _end_line(self) -> None:
        m = _FENCE.match(self._line)
        if m and (self._fence is None or m.group(1)[0] == self._fence[0]):
            self._fence = None if self._fence is not None else m.group(1)
        self._line = ""

    def flush(self) -> str:
        bang, self._pending_bang = self._pending_bang, False
        return "!" if bang else ""


def safe_markdown(text: str) -> str:
    """A whole stored answer made safe to show (the same rules as the stream)."""
    n = ImageNeutralizer()
    return n.feed(text) + n.flush()


def user_markdown(text: str) -> str:
    """A user's message as typed: line breaks kept (markdown would join the lines)."""
    return safe_markdown(text).replace("\n", "  \n")


def render_run(
    run: Run,
    after: int = 0,
    *,
    frame_s: float = FRAME_S,
    idle_s: float = 0.1,
    on_idle: Callable[[], Any] | None = None,
    on_event: Callable[[int, StreamEvent], Any] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[RenderChunk]:
    """Chunks for ``st.write_stream``: coalesced per frame, split at finished blocks.

    Args:
        run: the run to show, from seq ``after``.
        frame_s: at most one text update per this interval (the first is immediate).
        idle_s: how often ``on_idle`` is called while nothing arrives.
        on_idle: called while waiting (Streamlit passes a yield point, so clicks are seen).
        on_event: called with every ``(seq, event)``, for metrics and logs.
        clock: the monotonic clock (tests pass a fake one).
    """
    splitter, images = BlockSplitter(), ImageNeutralizer()
    seq, pending, last_sent = after, "", None
    while True:
        wait = idle_s if not pending else max(0.0, frame_s - (clock() - (last_sent or 0.0)))
        batch = run.wait(seq, wait)
        if not batch and on_idle is not None:
            on_idle()
        finished = False
        for event in batch:
            seq += 1
            if on_event is not None:
                on_event(seq, event)
            if isinstance(event, TextDelta):
                pending += event.text
            elif isinstance(event, Done):
                finished = True
        now = clock()
        if pending and (finished or last_sent is None or now - last_sent >= frame_s):
            yield from splitter.feed(images.feed(pending))
            pending, last_sent = "", now
        if finished:
            tail = images.flush()
            yield from splitter.feed(tail) if tail else []
            yield from splitter.flush()
            return
