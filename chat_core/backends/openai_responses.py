"""Responses API stream events -> events.

The Responses API streams typed, named events (its API reference, "Streaming
events"); the ones that matter here:

- ``response.reasoning_summary_text.delta`` (OpenAI's reasoning summaries) and
  ``response.reasoning_text.delta`` (open-weight models' raw reasoning): reasoning.
- ``response.output_text.delta``: answer text; ``response.refusal.delta``: a refusal.
- ``response.output_item.added`` with a ``function_call`` item (``call_id``, ``name``) at
  ``output_index``, then ``response.function_call_arguments.delta`` pieces for that
  ``output_index``: ``ToolCallDelta`` events; ``response.output_item.done`` carries the
  whole ``arguments`` (used when a server streamed no pieces).
- ``response.completed`` / ``response.incomplete`` (``incomplete_details.reason``:
  ``max_output_tokens`` or ``content_filter``) carry ``usage``, with
  ``output_tokens_details.reasoning_tokens``; ``response.failed`` carries an
  ``error``, and a bare ``error`` event may come instead.

There is no ``[DONE]``: a stream that stops before a terminal event was cut.
Pure: no I/O.
"""

from __future__ import annotations

from chat_core.backends.openai_chat import field
from chat_core.backends.openai_errors import shorten
from chat_core.events import (
    Done,
    FinishReason,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    TextDelta,
    ToolCallDelta,
    Usage,
)

_INCOMPLETE: dict[str, FinishReason] = {
    "max_output_tokens": "length",
    "content_filter": "content_filter",
}


def read_usage(usage: object) -> Usage | None:
    """A Usage from a Responses ``usage`` object; None when its counts are missing."""
    prompt, completion = field(usage, "input_tokens"), field(usage, "output_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    reasoning = field(field(usage, "output_tokens_details"), "reasoning_tokens")
    return Usage(prompt, completion, reasoning if isinstance(reasoning, int) else None)


def failure(error: object) -> StreamError:
    """The StreamError of a ``response.failed`` error or an ``error`` event."""
    code, message = field(error, "code"), field(error, "message")
    text = shorten(message) if isinstance(message, str) and message else "no details given"
    if code == "rate_limit_exceeded":
        return StreamError("rate_limit", f"Rate limited by the model provider: {text}", True)
    if code in ("invalid_prompt", "invalid_request_error", "context_length_exceeded"):
        return StreamError("bad_request", f"The request was refused: {text}", False)
    return StreamError("server", f"The model server reported an error: {text}", True)


class ResponsesEventReader:
    """Reads one answer's Responses events; ``done`` once a terminal event was seen."""

    def __init__(self) -> None:
        self.done = False
        self._refused = False
        self._tools: list[str] = []
        self._streamed: set[object] = set()  # output indexes whose arguments came in pieces
        self._summary_index: tuple[object, object] | None = None

    def read(self, event: object) -> list[StreamEvent]:
        """The events of one Responses stream event (the last ones end with ``Done``)."""
        kind = field(event, "type")
        delta = field(event, "delta")
        if kind == "response.reasoning_summary_text.delta" and isinstance(delta, str):
            # Summary parts are paragraphs: keep them apart as the API's own UI does.
            index = (field(event, "item_id"), field(event, "summary_index"))
            gap = self._summary_index is not None and index != self._summary_index
            self._summary_index = index
            return [ReasoningDelta(("\n\n" if gap else "") + delta)] if delta else []
        if kind == "response.reasoning_text.delta" and isinstance(delta, str) and delta:
            return [ReasoningDelta(delta)]
        if kind == "response.output_text.delta" and isinstance(delta, str) and delta:
            return [TextDelta(delta)]
        if kind == "response.refusal.delta" and isinstance(delta, str) and delta:
            self._refused = True
            return [TextDelta(delta)]
        if kind in ("response.output_item.added", "response.output_item.done"):
            return self._item(kind, field(event, "output_index"), field(event, "item"))
        if kind == "response.function_call_arguments.delta" and isinstance(delta, str) and delta:
            index = field(event, "output_index")
            self._streamed.add(index)
            return [ToolCallDelta(index if isinstance(index, int) else 0, arguments=delta)]
        if kind in ("response.completed", "response.incomplete"):
            return self._end(field(event, "response"))
        if kind == "response.failed":
            self.done = True
            return [failure(field(field(event, "response"), "error")), Done("error")]
        if kind == "error":
            self.done = True
            return [failure(event), Done("error")]
        return []

    def _item(self, kind: object, index: object, item: object) -> list[StreamEvent]:
        name, call_id, arguments = (
            field(item, "name"),
            field(item, "call_id"),
            field(item, "arguments"),
        )
        if field(item, "type") != "function_call" or not isinstance(name, str):
            return []
        at = index if isinstance(index, int) else len(self._tools)
        args = arguments if isinstance(arguments, str) else ""
        if kind == "response.output_item.added":
            self._tools.append(name)
            if args:
                self._streamed.add(index)
            return [ToolCallDelta(at, call_id if isinstance(call_id, str) else "", name, args)]
        if index in self._streamed or not args:
            return []
        self._streamed.add(index)  # a server that sent the arguments only whole, at the end
        return [ToolCallDelta(at, arguments=args)]

    def end(self) -> list[StreamEvent]:
        """The last events once the stream has stopped: nothing after a terminal event."""
        if self.done:
            return []
        message = "The model server ended the stream before the answer was complete. Retry."
        return [StreamError("connection", message, True), Done("error")]

    def _end(self, response: object) -> list[StreamEvent]:
        self.done = True
        out: list[StreamEvent] = []
        usage = read_usage(field(response, "usage"))
        if usage is not None:
            out.append(usage)
        reason: FinishReason = "stop"
        if field(response, "status") == "incomplete":
            why = field(field(response, "incomplete_details"), "reason")
            reason = _INCOMPLETE.get(why, "length") if isinstance(why, str) else "length"
        elif self._tools:
            reason = "tool_calls"
        out.append(Done(reason, refused=self._refused, tool_names=tuple(self._tools)))
        return out
