"""The gateway's state and what its routes do: start, resume, cancel (auth: ``access``).

A stream is a ``Run`` in the registry, pulled by its own task on the server's
loop; each HTTP response only attaches to it (``sse``). So a dropped connection
never stops the generation; only ``cancel`` (``DELETE``) does, and then the
upstream response is closed at once. Refusals are JSON bodies naming the field.
"""

from __future__ import annotations

import logging
import time

from fastapi.responses import JSONResponse, Response

from chat_core.backends import Backend
from chat_core.backends.directives import parse_directives
from chat_core.errors import CapacityError, ValidationError
from chat_core.events import TextDelta
from chat_core.gateway.access import Access
from chat_core.gateway.config import GatewayConfig
from chat_core.gateway.refusals import error_response, invalid_response
from chat_core.gateway.requests import ChatRequest, enforce_policy
from chat_core.gateway.sse import SSEResponse, sse_body
from chat_core.runs import Run, RunRegistry
from chat_core.wire import STREAM_ID_HEADER, parse_event_id

log = logging.getLogger("chat_core.gateway")

RETRY_AFTER_S = 1


class Gateway:
    """The state behind the routes: back end, runs, and open connections."""

    def __init__(self, backend: Backend, config: GatewayConfig) -> None:
        self.backend = backend
        self.config = config
        self.registry = RunRegistry(max_active=config.max_streams, ttl_s=config.ttl_s)
        self.connections = 0
        self.access = Access(config)

    def busy(self, what: str) -> JSONResponse:
        return error_response(
            429,
            "busy",
            None,
            f"Too many {what}; retry in {RETRY_AFTER_S} s.",
            {"Retry-After": str(RETRY_AFTER_S)},
        )

    def start(self, chat: ChatRequest, client: str) -> Response:
        """Start a run for ``client``'s validated request and attach this response to it."""
        try:
            chat = enforce_policy(chat, self.config.models, self.config.max_tokens)
        except ValidationError as exc:
            return invalid_response(exc)
        if self.connections >= 2 * self.config.max_streams:
            return self.busy("open streams")
        limits = self.access.limits
        if (refusal := limits.admit(client)) is not None:
            return error_response(
                429,
                "client_limit",
                None,
                refusal.message,
                {"Retry-After": str(refusal.retry_after_s)},
                limit=refusal.limit,
            )
        try:
            run = self.registry.create()
        except CapacityError:
            limits.finished(client)
            return self.busy("answers streaming")
        run.add_finish_callback(lambda _run: limits.finished(client))
        conversation = chat.conversation
        log.info(
            "stream %s: start backend=%s history=%d message_chars=%d",
            run.id,
            self.backend.name,
            len(conversation.messages) - 1,
            len(conversation.prompt),
        )
        run.add_finish_callback(_log_end)
        try:
            run.start(self.backend.astream(conversation, chat.params))
        except Exception:  # the stream still gets its error and done, never a cut
            log.exception("stream %s: back end failed to start", run.id)
            run.fail()
        drop_after = parse_directives(conversation.prompt).drop_after
        return self.attach(run, 0, drop_after)

    def resume(self, stream_id: str | None, last_event_id: str | None) -> Response:
        """Attach to a run after the seq in Last-Event-ID: 204 unknown, 400 malformed."""
        after = 0
        if last_event_id:
            try:
                id_stream, after = parse_event_id(last_event_id)
            except ValueError:
                return error_response(
                    400, "bad_last_event_id", "Last-Event-ID", "Last-Event-ID is not <id>:<seq>."
                )
            if stream_id is not None and id_stream != stream_id:
                return error_response(
                    400,
                    "bad_last_event_id",
                    "Last-Event-ID",
                    "Last-Event-ID is for another stream.",
                )
            stream_id = id_stream
        run = self.registry.get(stream_id) if stream_id else None
        if run is not None and after > run.last_seq:
            return error_response(
                400, "bad_last_event_id", "Last-Event-ID", "Last-Event-ID is past the stream."
            )
        if run is None or (run.finished and after >= run.last_seq):
            return Response(status_code=204)  # unknown, expired, or nothing left: stop
        if self.connections >= 2 * self.config.max_streams:
            return self.busy("open streams")
        log.info("stream %s: resume after seq %d", run.id, after)
        return self.attach(run, after, None)

    def attach(self, run: Run, after: int, drop_after: int | None) -> SSEResponse:
        self.connections += 1

        def closed(seq: int) -> None:
            self.connections -= 1
            log.debug("stream %s: connection closed at seq %d", run.id, seq)

        body = sse_body(
            run,
            after,
            retry_ms=self.config.retry_ms,
            ping_interval_s=self.config.ping_interval_s,
            drop_after=drop_after,
            on_close=closed,
        )
        return SSEResponse(body, {STREAM_ID_HEADER: run.id})

    async def cancel(self, stream_id: str) -> Response:
        run = self.registry.get(stream_id)
        if run is None:
            return error_response(404, "not_found", "stream_id", "No such stream (or it expired).")
        cancelled = run.cancel()
        deadline = time.monotonic() + 2.0
        while not run.finished and time.monotonic() < deadline:
            await run.aread(run.last_seq, deadline - time.monotonic())
        log.info("stream %s: cancel requested=%s", stream_id, cancelled)
        return JSONResponse(
            {"stream_id": stream_id, "cancelled": cancelled, "finish_reason": run.finish_reason}
        )


def _log_end(run: Run) -> None:
    first = next(
        (
            t
            for e, t in zip(run.events, run.arrival_times, strict=False)
            if isinstance(e, TextDelta)
        ),
        None,
    )
    log.info(
        "stream %s: end finish=%s events=%d text_chars=%d first_text_ms=%s duration_ms=%.0f",
        run.id,
        run.finish_reason,
        run.last_seq,
        run.text_bytes,
        "-" if first is None else f"{(first - run.created_at) * 1000:.0f}",
        ((run.finished_at or time.monotonic()) - run.created_at) * 1000,
    )
