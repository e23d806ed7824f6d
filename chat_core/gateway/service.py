"""The gateway's state and what its routes do: start, resume, cancel (auth: ``access``).

A stream is a ``Run`` in the run store (memory, or Redis when several workers or
instances share the streams), pulled by its own task on the loop of the process
that took the request; each HTTP response only attaches to it (``sse``). So a
dropped connection never stops the generation; only ``cancel`` (``DELETE``, on any
instance) does, and then the upstream response is closed at once; or, after
``orphan_s`` with no client reading it, ``orphans`` does the same, so an abandoned
answer stops costing tokens and frees its client's slot. Refusals are JSON bodies
naming the field.
"""

from __future__ import annotations

import logging
import time

from fastapi.responses import JSONResponse, Response

from chat_core.backends import Backend
from chat_core.backends.directives import parse_directives
from chat_core.errors import CapacityError, RunStoreError, ValidationError
from chat_core.events import TextDelta
from chat_core.gateway.access import Access
from chat_core.gateway.config import GatewayConfig
from chat_core.gateway.orphans import Orphans
from chat_core.gateway.refusals import error_response, invalid_response
from chat_core.gateway.requests import ChatRequest, enforce_policy
from chat_core.gateway.sse import SSEResponse, sse_body
from chat_core.runs import Run, RunStore
from chat_core.wire import STREAM_ID_HEADER, parse_event_id

log = logging.getLogger("chat_core.gateway")

RETRY_AFTER_S = 1


class Gateway:
    """The state behind the routes: back end, runs, and open connections."""

    def __init__(self, backend: Backend, config: GatewayConfig, store: RunStore) -> None:
        self.backend = backend
        self.config = config
        self.store = store
        self.connections = 0
        self.access = Access(config)
        self.orphans = Orphans(store, config.orphan_s)

    def busy(self, what: str) -> JSONResponse:
        return error_response(
            429,
            "busy",
            None,
            f"Too many {what}; retry in {RETRY_AFTER_S} s.",
            {"Retry-After": str(RETRY_AFTER_S)},
        )

    def unavailable(self) -> JSONResponse:
        return error_response(
            503,
            "unavailable",
            None,
            f"The stream store is unreachable; retry in {RETRY_AFTER_S} s.",
            {"Retry-After": str(RETRY_AFTER_S)},
        )

    async def start(self, chat: ChatRequest, client: str) -> Response:
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
            run = await self.store.start(
                lambda: self.backend.astream(chat.conversation, chat.params)
            )
        except CapacityError:
            limits.finished(client)
            return self.busy("answers streaming")
        except RunStoreError:
            limits.finished(client)
            return self.unavailable()
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
        drop_after = parse_directives(conversation.prompt).drop_after
        return self.attach(run, 0, drop_after)

    async def resume(self, stream_id: str | None, last_event_id: str | None) -> Response:
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
        try:
            run = await self.store.attach(stream_id) if stream_id else None
        except RunStoreError:
            return self.unavailable()
        if run is None:
            return Response(status_code=204)  # unknown or expired: stop
        refusal: Response | None = None
        if after > run.last_seq:
            refusal = error_response(
                400, "bad_last_event_id", "Last-Event-ID", "Last-Event-ID is past the stream."
            )
        elif run.finished and after >= run.last_seq:
            refusal = Response(status_code=204)  # nothing left: stop
        elif self.connections >= 2 * self.config.max_streams:
            refusal = self.busy("open streams")
        if refusal is not None:
            self.store.detach(run)
            return refusal
        log.info("stream %s: resume after seq %d", run.id, after)
        return self.attach(run, after, None)

    def attach(self, run: Run, after: int, drop_after: int | None) -> SSEResponse:
        self.connections += 1
        self.orphans.attached(run)

        def closed(seq: int) -> None:
            self.connections -= 1
            self.store.detach(run)
            log.debug("stream %s: connection closed at seq %d", run.id, seq)
            self.orphans.closed(run)

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
        """Stop a run wherever it is pulled: 404 unknown, else how it finished."""
        try:
            result = await self.store.cancel(stream_id)
        except RunStoreError:
            return self.unavailable()
        if result is None:
            return error_response(404, "not_found", "stream_id", "No such stream (or it expired).")
        log.info("stream %s: cancel requested=%s", stream_id, result.cancelled)
        return JSONResponse(
            {
                "stream_id": stream_id,
                "cancelled": result.cancelled,
                "finish_reason": result.finish_reason,
            }
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
