"""Offline directives: test instruments a prompt may start with, one per line.

    /lorem N                        N tokens of markdown (paragraphs, lists, code)
    /echo TEXT...                   the rest of the prompt, verbatim, as the answer
    /error KIND [after N] [times K] fail with KIND after N tokens (only the first K tries)
    /stall SECONDS [after N]        go quiet for SECONDS after N tokens
    /drop [after N]                 the gateway cuts the connection once after N events
    /think SECONDS                  reason for SECONDS (reasoning text) before the answer
    /tool NAME [ARGUMENTS]          call the tool NAME with ARGUMENTS (JSON text, sent as is);
                                    several lines make parallel calls

Only the offline back end (and the OpenAI stub and gateway built on it) obey
them. Parsing is pure: no clock, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from chat_core.events import ErrorCode

ERROR_KINDS: tuple[ErrorCode, ...] = (
    "rate_limit",
    "server",
    "auth",
    "timeout",
    "connection",
    "bad_request",
)
MAX_LOREM_TOKENS = 100_000
MAX_STALL_S = 600.0
MAX_THINK_S = 600.0

_LOREM = re.compile(r"/lorem\s+(\d{1,6})")
_ERROR = re.compile(r"/error\s+([a-z_]+)(?:\s+after\s+(\d{1,6}))?(?:\s+times\s+(\d{1,4}))?")
_STALL = re.compile(r"/stall\s+(\d{1,4}(?:\.\d+)?)(?:\s+after\s+(\d{1,6}))?")
_DROP = re.compile(r"/drop(?:\s+after\s+(\d{1,6}))?")
_THINK = re.compile(r"/think\s+(\d{1,4}(?:\.\d+)?)")
_TOOL = re.compile(r"/tool\s+([A-Za-z0-9_-]{1,64})(?:\s+(.*))?")
MAX_TOOL_DIRECTIVES = 120  # past the accumulator's 100 calls, so the cap can be shown


@dataclass(frozen=True, slots=True)
class ErrorDirective:
    kind: ErrorCode
    after: int = 0
    times: int | None = None  # None: every time


@dataclass(frozen=True, slots=True)
class Directives:
    """The directives found at the start of a prompt, and the text after them."""

    lorem: int | None = None
    echo: str | None = None
    error: ErrorDirective | None = None
    stalls: tuple[tuple[int, float], ...] = ()  # (after N tokens, seconds)
    drop_after: int | None = None
    text: str = ""
    invalid: tuple[str, ...] = field(default=())
    think_s: float | None = None
    tool_calls: tuple[tuple[str, str], ...] = ()  # (name, arguments text)

    @property
    def any(self) -> bool:
        return bool(
            self.lorem is not None
            or self.echo is not None
            or self.error
            or self.stalls
            or self.drop_after is not None
            or self.think_s is not None
            or bool(self.tool_calls)
        )


def parse_directives(prompt: str) -> Directives:
    """Split a prompt into its leading directives and the rest."""
    lines = prompt.split("\n")
    lorem: int | None = None
    error: ErrorDirective | None = None
    stalls: list[tuple[int, float]] = []
    drop_after: int | None = None
    think_s: float | None = None
    invalid: list[str] = []
    tools: list[tuple[str, str]] = []
    i = 0
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line.startswith("/"):
            break
        if line.startswith("/echo") and (len(line) == 5 or line[5].isspace()):
            rest = "\n".join([raw.lstrip()[6:], *lines[i + 1 :]])
            found = (lorem, rest, error, tuple(stalls), drop_after, "", tuple(invalid), think_s)
            return Directives(*found, tuple(tools))
        if m := _LOREM.fullmatch(line):
            lorem = min(int(m[1]), MAX_LOREM_TOKENS)
        elif (m := _ERROR.fullmatch(line)) and m[1] in ERROR_KINDS:
            times = int(m[3]) if m[3] else None
            error = ErrorDirective(m[1], int(m[2] or 0), times)
        elif m := _STALL.fullmatch(line):
            stalls.append((int(m[2] or 0), min(float(m[1]), MAX_STALL_S)))
        elif m := _DROP.fullmatch(line):
            drop_after = int(m[1] or 0)
        elif m := _THINK.fullmatch(line):
            think_s = min(float(m[1]), MAX_THINK_S)
        elif (m := _TOOL.fullmatch(line)) and len(tools) < MAX_TOOL_DIRECTIVES:
            tools.append((m[1], (m[2] or "{}").strip()))
        else:
            invalid.append(line[:80])
    else:
        i = len(lines)
    text = "\n".join(lines[i:]).strip()
    rest_of = (error, tuple(stalls), drop_after, text, tuple(invalid), think_s)
    return Directives(lorem, None, *rest_of, tuple(tools))
