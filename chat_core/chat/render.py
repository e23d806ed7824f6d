"""Turning a run's events into what ``st.write_stream`` shows, cheaply.

``st.write_stream`` re-sends the whole element on every string chunk, so a long
answer costs O(n^2) bytes on the websocket (45.8 MB for 4,000 tokens, docs/benchmarks.md).
Two fixes, both pure here:

- coalescing: text is sent at most once per frame interval, longer when the
  server falls behind (``pacing.py``; the first chunk is never held back);
- blocks: where a finished markdown block ends, ``NEW_BLOCK`` is yielded; ``st.write_stream``
  starts a new element at a callable chunk, so only the growing tail is re-sent.

A boundary is decided by a CommonMark block parser (markdown-it-py, with GFM
tables and the ``$$`` math and ``:::`` directive fences of Streamlit's renderer),
never by guessing: after a blank line, a line starting in column 0 starts a new
element only if the parser says such a line would start a new top-level block,
so every construct before it (lists, fences, tables, quotes) is already closed.
Block parsing is forward-only, so each element renders exactly as that part of
the whole answer does. The one exception is link reference and footnote
definitions, which act across blocks: ``answer_blocks`` keeps such answers whole.

Model output is shown as markdown without raw HTML (Streamlit's default), and images are
made inert (``![`` becomes ``!\\[`` outside code blocks) so an answer cannot make the browser
fetch an outside URL (inside inline code the escape shows: whether a backtick is ever closed
is not known while streaming). The stored answer is never changed.
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.ruler import RuleOptionsType
from markdown_it.rules_block import make_fence_rule
from markdown_it.token import Token

from chat_core.chat.pacing import FramePacer
from chat_core.events import Done, StreamEvent, TextDelta
from chat_core.runs import Run

FRAME_S = 0.1  # 10 frames a second while the server keeps up, fewer under load (pacing.py)
# Tokens whose text is shown verbatim, so ``![`` inside them is not an image.
_VERBATIM = frozenset({"fence", "math_block", "code_block", "html_block"})
_LIST_OPEN = frozenset({"bullet_list_open", "ordered_list_open"})
_LIST_MARKER_START = frozenset("-+*0123456789")
_INDENT = frozenset(" \t\r")


def _block_parser() -> MarkdownIt:
    """Block structure as Streamlit's renderer (remark-gfm, remark-math, directives) sees it."""
    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    alt: RuleOptionsType = {"alt": ["paragraph", "reference", "blockquote", "list"]}
    math = make_fence_rule(
        markers=("$",), token_type="math_block", min_markers=2, disallow_marker_in_info=("$",)
    )
    directive = make_fence_rule(
        markers=(":",), token_type="directive_block", disallow_marker_in_info=()
    )
    md.block.ruler.before("fence", "math_fence", math, alt)
    md.block.ruler.before("fence", "directive_fence", directive, alt)
    md.disable("inline")  # only the block structure matters here
    return md


_PARSER = _block_parser()


def NEW_BLOCK() -> None:
    """Marker chunk: ``st.write_stream`` flushes its element and starts a new one."""


RenderChunk = str | Callable[[], None]


class BlockStream:
    """Feeds answer text; returns it made safe, with ``NEW_BLOCK`` where an element may end.

    Nothing is held back: a boundary is decided at the first character of the
    line after a blank line. Parsing is bounded per element (a budget of about
    16 times the element's size), so a pathological answer only loses splits.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []  # the current element's shown text
        self._size = 0
        self._parsed = 0  # characters parsed for this element so far
        self._visible = False  # the element has non-blank text
        self._col0 = True
        self._line_blank = True
        self._after_blank = False  # the last finished line was blank
        self._bang = False  # the last shown character was "!"

    def feed(self, text: str) -> list[RenderChunk]:
        """The pieces to show for new text (its text pieces concatenate to the shown text)."""
        out: list[RenderChunk] = []
        shown: list[str] = []
        for ch in text:
            if self._col0 and self._after_blank and ch != "\n":
                if ch not in _INDENT and self._visible and self._starts_new_block(ch):
                    out += ["".join(shown), NEW_BLOCK]
                    shown = []
                    self._new_element()
                self._after_blank = False
            if ch == "[" and self._bang and not self._in_verbatim():
                shown.append("\\")
                self._parts.append("\\")
            shown.append(ch)
            self._parts.append(ch)
            self._size += 1
            self._bang = ch == "!"
            if ch == "\n":
                self._after_blank, self._col0, self._line_blank = self._line_blank, True, True
            else:
                self._col0 = False
                if ch not in _INDENT:
                    self._line_blank, self._visible = False, True
        out.append("".join(shown))
        return [piece for piece in out if piece != ""]

    def _new_element(self) -> None:
        self._parts, self._size, self._parsed, self._visible = [], 0, 0, False

    def _parse(self, probe: str) -> tuple[list[Token], int] | None:
        """Tokens of the element so far plus ``probe``, and the probe's line; None over budget."""
        if self._parsed > 16 * self._size + 65_536:
            return None
        text = "".join(self._parts)
        self._parsed += len(text)
        return _PARSER.parse(text + probe), text.count("\n")

    def _starts_new_block(self, first: str) -> bool:
        """Whether a column-0 line starting with ``first`` leaves everything before it final."""
        parsed = self._parse("x\n")
        if parsed is None:
            return False
        tokens, line = parsed
        tops = [t for t in tokens if t.level == 0 and t.nesting >= 0]
        probe = tops[-1]
        if probe.type != "paragraph_open" or probe.map is None or probe.map[0] != line:
            return False  # absorbed by an open fence, math, directive or HTML block
        # A marker may continue the list above (a loose list): not splitting is safe.
        return not (len(tops) > 1 and tops[-2].type in _LIST_OPEN and first in _LIST_MARKER_START)

    def _in_verbatim(self) -> bool:
        """Whether the ``!`` just shown is inside a code, math or HTML block (not an image)."""
        parsed = self._parse("[x](y)\n")
        if parsed is None:
            return False  # escape: safe either way
        tokens, line = parsed
        for t in tokens:
            if t.type in _VERBATIM and t.map is not None:
                first_content = t.map[0] + (t.type in ("fence", "math_block"))
                if first_content <= line < t.map[1]:
                    return True
        return False


def _has_definitions(text: str) -> bool:
    env: dict[str, Any] = {}
    _PARSER.parse(text, env)
    return bool(env.get("references"))


def answer_blocks(text: str, max_bytes: int = 12_000) -> list[str]:
    """A stored answer made safe, cut at the stream's block boundaries into pieces to show.

    Showing each piece with ``st.markdown`` renders the same as the whole. Pieces
    are whole blocks joined up to ``max_bytes`` (UTF-8), so no websocket message
    is much over that (the benchmark's goal: none over 16 KB), while pieces of 10 KB and more
    are still cached by Streamlit across reruns (``global.minCachedMessageSize``).
    A single larger block stays whole. An answer with link reference or footnote
    definitions is one piece: they act across blocks.
    """
    return list(_answer_blocks(text, max_bytes))


# Every rerun shows the answers again; pieces depend on the text alone: parsed once a process.
@functools.lru_cache(maxsize=1024)
def _answer_blocks(text: str, max_bytes: int) -> tuple[str, ...]:
    pieces = BlockStream().feed(text)
    if _has_definitions(text):
        return ("".join(p for p in pieces if isinstance(p, str)),)
    out: list[str] = []
    current, size = "", 0
    for piece in pieces:
        if not isinstance(piece, str):
            continue
        n = len(piece.encode())
        if current and size + n > max_bytes:
            out.append(current)
            current, size = "", 0
        current, size = current + piece, size + n
    if current:
        out.append(current)
    return tuple(out)


def safe_markdown(text: str) -> str:
    """A whole stored answer made safe to show (the same rules as the stream)."""
    return "".join(p for p in BlockStream().feed(text) if isinstance(p, str))


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
        frame_s: the frame interval while the server keeps up (the first is immediate).
        idle_s: how often ``on_idle`` is called while nothing arrives.
        on_idle: called while waiting (Streamlit passes a yield point, so clicks are seen).
        on_event: called with every ``(seq, event)``, for metrics and logs.
        clock: the monotonic clock (tests pass a fake one).
    """
    position = Position(after)
    yield from coalesced_frames(
        run, position, _answer_text, frame_s, idle_s, on_idle, on_event, clock
    )


@dataclass
class Position:
    """The last seq a renderer consumed: where the next renderer of the same run picks up."""

    seq: int


# What a renderer takes from an event: its text (maybe ""), None to ignore it, STOP to end
# before it (leaving it to the next renderer).
STOP = object()
Take = Callable[[StreamEvent], "str | object | None"]


def _answer_text(event: StreamEvent) -> str | object | None:
    return event.text if isinstance(event, TextDelta) else None


def coalesced_frames(
    run: Run,
    position: Position,
    take: Take,
    frame_s: float,
    idle_s: float,
    on_idle: Callable[[], Any] | None,
    on_event: Callable[[int, StreamEvent], Any] | None,
    clock: Callable[[], float],
) -> Iterator[RenderChunk]:
    """The one render loop: text that ``take`` picks, coalesced per frame, split at blocks.

    Frames are paced by ``FramePacer``: ``frame_s`` apart while the server keeps up,
    further apart when frames leave late or take long to hand over.
    """
    blocks = BlockStream()
    pacer = FramePacer(frame_s)
    pending = ""
    due = -math.inf  # when the next text may be sent: at once for the first
    while True:
        held = bool(pending)  # text waiting for its frame (else it goes out when it arrives)
        wait = due - clock() if held else idle_s
        batch = run.read(position.seq, max(0.0, wait))
        if not batch and on_idle is not None:
            on_idle()
        finished = False
        for event in batch:
            taken = take(event)
            if taken is STOP:
                finished = True
                break
            position.seq += 1
            if on_event is not None:
                on_event(position.seq, event)
            if isinstance(taken, str):
                pending += taken
            elif isinstance(event, Done):
                finished = True
        now = clock()
        if pending and (finished or now >= due):
            yield from blocks.feed(pending)
            pending = ""
            due = pacer.sent(due=due if held else -math.inf, started=now, handed_over=clock())
        if finished:
            return
