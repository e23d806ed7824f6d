"""The embedded offline model: scripted, deterministic, no key, no network.

The same prompt always gives the same answer. Tokens come at a steady rate
(``CHAT_OFFLINE_TPS``); the first is never delayed. Directives (see
``chat_core.backends.directives``) inject errors and stalls for demos and tests.
The answer is computed up front as a *plan* of (time offset, event) pairs, so
the logic is pure and the sync and async streams only differ in how they sleep.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import random
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Hashable, Iterator

from chat_core.attachments.parts import describe, estimated_tokens
from chat_core.backends.directives import Directives, parse_directives
from chat_core.backends.json_output import example_instance
from chat_core.backends.offline_models import (
    OFFLINE_MODEL_NAMES,
    offline_character,
    retimed,
    with_system_directives,
)
from chat_core.backends.offline_tools import answer_after_tools, call_pieces, planned_calls
from chat_core.events import Done, ReasoningDelta, StreamError, StreamEvent, TextDelta, Usage
from chat_core.messages import CONTINUE_PROMPT, Conversation, GenerationParams, ToolCall

_PLAN_CACHE_SIZE = 256
_TOKEN = re.compile(r"\s*\S{1,6}|\s+")
_ERROR_MESSAGES = {
    "rate_limit": ("Rate limit reached (simulated). Wait a moment, then retry.", True),
    "server": ("The model server failed (simulated 500). Retry in a moment.", True),
    "auth": ("The API key was rejected (simulated 401). Check the key in settings.", False),
    "timeout": ("The model took too long to answer (simulated timeout). Retry.", True),
    "connection": ("The connection to the model was lost (simulated). Retry.", True),
    "bad_request": ("The request was refused as invalid (simulated 400).", False),
}
_ALWAYS_FAILS = " (simulated: this /error directive fails every time; add `times N` to recover)."
_WORDS = (  # noqa: SIM905 (one readable line of words, not 61 list lines)
    "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua enim ad minim veniam quis nostrud "
    "exercitation ullamco laboris nisi aliquip ex ea commodo consequat duis aute irure in "
    "reprehenderit voluptate velit esse cillum fugiat nulla pariatur excepteur sint "
    "occaecat cupidatat non proident sunt culpa qui officia deserunt mollit anim id est"
).split()

Plan = list[tuple[float, StreamEvent]]

# The chat page's first starter: the offline model answers it for real, since a
# scripted word count is a poor first impression of "Explain streaming".
EXPLAIN_STREAMING_PROMPT = "How do tokens stream from a model to this page?"
EXPLAIN_STREAMING_ANSWER = "\n".join(
    [
        "A model writes its answer one **token** (a word or a piece of one) at a time, and "
        "this page shows each as it arrives instead of waiting for the whole answer:",
        "",
        "1. **The request.** Your prompt and the chat so far go to the model server in one "
        "HTTP request that asks for a stream.",
        "2. **The stream.** The server keeps the response open and sends each new token as a "
        "small event (server-sent events: `data: {...}` lines), then a final event with the "
        "token counts and why the answer ended.",
        "3. **The run.** This app reads the events into a buffer that outlives the page, so a "
        "rerun, a reload or a second tab picks the answer up where it is.",
        "4. **The page.** Streamlit's `st.write_stream` redraws the message as text arrives; "
        "the caption under it reports time to first token and tokens per second.",
        "",
        "This answer itself is streamed by the **offline model**, which is scripted: try "
        "`/lorem 300` for a long answer, `/stall 2` for a pause or `/error rate_limit` "
        "for a failure, and watch the same machinery handle them.",
    ]
)
MAX_REASONING_TOKENS = 4000  # /think 600 at a fast rate stays a bounded plan


def tokenize(text: str) -> list[str]:
    """Split text into model-like tokens whose concatenation is the text."""
    return _TOKEN.findall(text)


def estimate_tokens(text: str) -> int:
    """A rough token count (about four characters a token)."""
    return max(1, (len(text) + 3) // 4) if text else 0


def lorem_tokens(count: int, seed: int) -> list[str]:
    """Exactly ``count`` tokens of markdown: paragraphs, lists and fenced code."""
    return list(_lorem_tokens(count, seed))


@functools.lru_cache(maxsize=64)
def _lorem_tokens(count: int, seed: int) -> tuple[str, ...]:
    # Cached: a load test sends the same /lorem prompt many times, and drawing the
    # words was most of the offline model's per-request CPU (bench/).
    """Exactly ``count`` tokens of markdown: paragraphs, lists and fenced code."""
    rng = random.Random(seed)
    out: list[str] = []

    def words(n: int, lead: str) -> list[str]:
        ws = [rng.choice(_WORDS) for _ in range(n)]
        ws[0] = ws[0].capitalize()
        return [lead + ws[0]] + [" " + w for w in ws[1:]]

    kinds = ("para", "para", "list", "code", "numbered")
    while len(out) < count:
        left = count - len(out)
        lead = "\n\n" if out else ""
        kind = rng.choice(kinds)
        block: list[str]
        if kind == "list":
            block = []
            for j in range(rng.randint(3, 5)):
                item = words(rng.randint(3, 8), (lead if j == 0 else "\n") + "- ")
                block += item
        elif kind == "numbered":
            block = []
            for j in range(rng.randint(2, 4)):
                block += words(rng.randint(3, 8), (lead if j == 0 else "\n") + f"{j + 1}. ")
        elif kind == "code":
            block = [lead + "```python"]
            for _ in range(rng.randint(2, 5)):
                name, value = rng.choice(_WORDS), rng.randint(0, 99)
                block += ["\n" + name, " =", f" {value}"]
            block += ["\n```"]
        else:
            block = words(rng.randint(20, 60), lead)
            block[-1] += "."
        if len(block) > left:
            block = words(left, lead)
        out += block
    return tuple(out)


def scripted_reply(conversation: Conversation, directives: Directives) -> str:
    """A short markdown answer that shows the prompt was read."""
    prompt = directives.text
    if " ".join(prompt.split()).lower() == EXPLAIN_STREAMING_PROMPT.lower():
        return EXPLAIN_STREAMING_ANSWER
    words = re.findall(r"[\w'-]+", prompt)
    keywords = sorted({w.lower() for w in words if len(w) > 3}, key=lambda w: (-len(w), w))[:5]
    quoted = " ".join(prompt.split())
    if len(quoted) > 160:
        quoted = quoted[:157] + "..."
    earlier = len(conversation.messages) - 1
    lines = [
        "**Offline model**: no API key is configured, so this answer is scripted.",
        "",
        f"You wrote {len(words)} word{'s' if len(words) != 1 else ''} ({len(prompt)} characters)"
        + (f", after {earlier} earlier messages" if earlier else "")
        + ":",
        "",
        f"> {quoted}" if quoted else "> (only directives)",
        "",
        "What I picked out:",
        "",
        "- **Key words:** " + (", ".join(f"`{k}`" for k in keywords) or "none"),
        "- **A question?** " + ("yes" if prompt.rstrip().endswith("?") else "no"),
    ]
    if files := conversation.messages[-1].attachments:  # what it received, checkable by tests
        lines += ["", f"You attached {len(files)} file{'s' if len(files) != 1 else ''}:", ""]
        lines += [f"- {describe(a)}" for a in files]
    if directives.invalid:
        lines.append("- **Not understood:** " + ", ".join(f"`{d}`" for d in directives.invalid))
    lines += [
        "",
        "To chat with a real model, set `OPENAI_API_KEY` (or `OPENAI_BASE_URL` for Ollama, "
        "vLLM or LM Studio) in `.env` or `.streamlit/secrets.toml`, or enter a key in the "
        "sidebar. Try `/lorem 300` for a long answer or `/error rate_limit` for an error.",
    ]
    return "\n".join(lines)


def reasoning_tokens(directives: Directives, count: int, seed: int) -> list[str]:
    """``count`` tokens of plain-prose reasoning about the prompt."""
    words = re.findall(r"[\w'-]+", directives.text)
    opening = (
        f"The user wrote {len(words)} word{'s' if len(words) != 1 else ''}. "
        "This is the offline model, so the answer is scripted; still, let me think it over."
    )
    tokens = tokenize(opening)
    rng = random.Random(seed)
    while len(tokens) < count:
        tokens.append(" " + rng.choice(_WORDS))
    return tokens[:count]


class OfflineBackend:
    """The scripted offline model."""

    name = "offline"

    def __init__(self, tokens_per_second: float = 40.0) -> None:
        self.tokens_per_second = tokens_per_second
        self._tries: dict[int, int] = {}
        self._lock = threading.Lock()
        # Plans by request: a burst of the same prompt (the load benchmarks) plans it once;
        # parsing directives and building the events was a tenth of a stream's CPU.
        self._plans: OrderedDict[Hashable, tuple[tuple[float, StreamEvent], ...]] = OrderedDict()

    async def aclose(self) -> None:
        """Nothing is kept between streams."""

    def list_models(self) -> list[str]:
        return list(OFFLINE_MODEL_NAMES)  # named characters: chat_core.backends.offline_models

    def _should_fail(self, key: int, times: int | None) -> bool:
        if times is None:
            return True
        with self._lock:
            seen = self._tries.get(key, 0)
            self._tries[key] = seen + 1
        return seen < times

    def plan(
        self, conversation: Conversation, params: GenerationParams, *, think_s: float = 0.0
    ) -> Plan:
        """The answer as (seconds after start, event) pairs; ``/think S`` overrides ``think_s``."""
        # ``/error ... xN`` counts its tries, so its plan changes from one request to the next.
        texts = [params.system or "", *(m.content for m in conversation.messages)]
        key = None if any("/error" in t for t in texts) else (conversation, params, think_s)
        with self._lock:
            try:
                cached = None if key is None else self._plans.get(key)
            except TypeError:  # something unhashable in the request: plan it afresh
                cached, key = None, None
        if cached is not None:
            return list(cached)
        plan = self._plan_uncached(conversation, params, think_s=think_s)
        if key is not None:
            with self._lock:
                self._plans[key] = tuple(plan)
                if len(self._plans) > _PLAN_CACHE_SIZE:
                    self._plans.popitem(last=False)
        return plan

    def _plan_uncached(
        self, conversation: Conversation, params: GenerationParams, *, think_s: float
    ) -> Plan:
        msgs = conversation.messages
        if (
            conversation.prompt == CONTINUE_PROMPT
            and len(msgs) >= 3
            and msgs[-2].role == "assistant"
        ):
            return self._continue_plan(conversation, params)
        character = offline_character(params.model)  # offline-fast, -slow, -thinker, -stutter
        if character is not None and not think_s:
            think_s = character.think_s
        conversation = with_system_directives(conversation, params)
        plan = self._plan(conversation, params, think_s=think_s)
        return plan if character is None else retimed(plan, character)

    def _continue_plan(self, conversation: Conversation, params: GenerationParams) -> Plan:
        # Continue: the rest of the answer the original prompt would have had, from where the
        # partial answer stops, never the hidden instruction quoted back as a new answer.
        original = Conversation(conversation.messages[:-2])
        already = len(conversation.messages[-2].content)
        plan, seen, cut = self._plan(original, params), 0, None
        rest: Plan = []
        for offset, event in plan:
            if isinstance(event, ReasoningDelta):  # it thought before the first part
                continue
            if isinstance(event, TextDelta) and seen < already:
                seen += len(event.text)
                continue
            if cut is None:
                cut = offset
            if isinstance(event, Usage):
                sent = sum(isinstance(e, TextDelta) for _, e in rest)
                event = dataclasses.replace(event, completion_tokens=sent)
            rest.append((offset - cut, event))
        return rest

    def _plan(
        self, conversation: Conversation, params: GenerationParams, *, think_s: float = 0.0
    ) -> Plan:
        after_tools = answer_after_tools(conversation)  # a tool result is never a directive
        d = parse_directives(conversation.prompt) if after_tools is None else Directives()
        seed = zlib.crc32(conversation.prompt.encode())
        plan: Plan = []
        think_s = d.think_s if d.think_s is not None else think_s
        thoughts = 0
        if think_s > 0:  # reasoning spread evenly over think_s, then the answer
            thoughts = min(max(1, round(think_s * self.tokens_per_second)), MAX_REASONING_TOKENS)
            step = think_s / thoughts
            for i, tok in enumerate(reasoning_tokens(d, thoughts, seed)):
                plan.append((i * step, ReasoningDelta(tok)))
        if calls := planned_calls(conversation, params):
            return self._calls_plan(conversation, calls, plan, max(think_s, 0.0), thoughts)
        limit: int | None = params.max_tokens
        if after_tools is not None:
            tokens = tokenize(after_tools)
        elif d.lorem is not None:
            tokens, limit = lorem_tokens(d.lorem, seed), None  # /lorem N means exactly N
        elif d.echo is not None:
            tokens = tokenize(d.echo)
        elif params.response_schema is not None:  # structured output: JSON matching the schema
            example = example_instance(json.loads(params.response_schema))
            tokens = tokenize(json.dumps(example, ensure_ascii=False))
        else:
            tokens = tokenize(scripted_reply(conversation, d))
        finish = "stop"
        if limit is not None and len(tokens) > limit:
            tokens, finish = tokens[:limit], "length"
        error_at: int | None = None
        if d.error and self._should_fail(seed, d.error.times):
            error_at = min(d.error.after, len(tokens))
            tokens = tokens[:error_at]
        interval = 1.0 / self.tokens_per_second
        stall_by_index: dict[int, float] = {}
        for after, seconds in d.stalls:
            stall_by_index[after] = stall_by_index.get(after, 0.0) + seconds
        extra = max(think_s, 0.0)
        for i, tok in enumerate(tokens):
            extra += stall_by_index.get(i, 0.0)
            plan.append((i * interval + extra, TextDelta(tok)))
        end = len(tokens) * interval + extra + stall_by_index.get(len(tokens), 0.0)
        if error_at is not None and d.error:
            message, retryable = _ERROR_MESSAGES[d.error.kind]
            if d.error.times is None:  # it fails every time: a retry cannot help, say so
                message, retryable = message.split(" (simulated")[0] + _ALWAYS_FAILS, False
            plan.append((end, StreamError(d.error.kind, message, retryable)))
            plan.append((end, Done("error")))
            return plan
        prompt_tokens = sum(estimated_tokens(m) + 4 for m in conversation.messages)
        plan.append((end, Usage(prompt_tokens, len(tokens) + thoughts, thoughts or None)))
        plan.append((end, Done(finish)))  # type: ignore[arg-type]
        return plan

    def _calls_plan(
        self,
        conversation: Conversation,
        calls: tuple[ToolCall, ...],
        plan: Plan,
        start: float,
        thoughts: int,
    ) -> Plan:
        # Tool calls instead of text: the pieces at the token rate, then finish "tool_calls".
        interval = 1.0 / self.tokens_per_second
        pieces = call_pieces(calls)
        plan += [(start + i * interval, piece) for i, piece in enumerate(pieces)]
        end = start + len(pieces) * interval
        prompt_tokens = sum(estimate_tokens(m.content) + 4 for m in conversation.messages)
        plan.append((end, Usage(prompt_tokens, len(pieces) + thoughts, thoughts or None)))
        plan.append((end, Done("tool_calls", tool_names=tuple(c.name for c in calls))))
        return plan

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        start = time.monotonic()
        for offset, event in self.plan(conversation, params):
            delay = start + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield event

    async def astream(
        self, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[StreamEvent]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for offset, event in self.plan(conversation, params):
            delay = start + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield event
