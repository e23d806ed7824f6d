"""The probe: one measured answer from a chosen back end, watched live.

The answer runs as a ``Run`` (runs.py), so the page can re-attach to it after a
rerun exactly like the chat page does; the remote back end also reports what it
received on the wire, for the event log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from chat_core.backends import Backend, make_backend
from chat_core.diagnostics.eventlog import LogRecord, event_records, wire_records
from chat_core.events import Done, StreamEvent
from chat_core.logs import log, log_stream_end, log_stream_start
from chat_core.messages import GenerationParams, build_conversation
from chat_core.metrics import StreamMetrics, chunk_gaps, measure, token_timeline
from chat_core.runs import Run, start_run
from chat_core.settings import Settings, VisitorInput
from chat_core.wire import payload_json

ProbeBackendName = Literal["offline", "openai", "remote"]
PROBE_BACKENDS: tuple[ProbeBackendName, ...] = ("offline", "openai", "remote")
EXAMPLE_PROMPTS = (
    "/lorem 300",
    "/stall 2 after 50",
    "/error rate_limit after 20",
    "/drop after 40",
)
REFRESH_S = 0.25  # live metrics redraw at most this often: each redraw is a websocket frame


@dataclass(frozen=True)
class ProbeTarget:
    """Which back end a probe talks to; secrets stay out of ``repr``.

    The fields are the owner's (explicit arguments, secrets, environment); what a
    visitor typed is ``visitor``, and the back-end factory keeps the two apart.
    """

    backend: ProbeBackendName = "offline"
    offline_tps: float = 40.0
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    model: str | None = None
    remote_url: str | None = None
    gateway_token: str | None = field(default=None, repr=False)
    visitor: VisitorInput = field(default_factory=VisitorInput)
    visitor_endpoints: str = ""

    @classmethod
    def from_settings(
        cls, settings: Settings, backend: ProbeBackendName, **changes: Any
    ) -> ProbeTarget:
        """The owner's configuration from ``settings``, plus ``changes`` (e.g. ``visitor``)."""
        owner = {
            "offline_tps": settings.offline_tps,
            "openai_api_key": settings.openai_api_key,
            "openai_base_url": settings.openai_base_url,
            "model": settings.model,
            "remote_url": settings.remote_url,
            "gateway_token": settings.gateway_token,
            "visitor_endpoints": settings.visitor_endpoints,
        }
        return cls(backend, **{**owner, **changes})

    def settings(self) -> Settings:
        """These choices as ``Settings``, for the one back-end factory."""
        return Settings(
            backend=self.backend,
            openai_api_key=self.openai_api_key,
            openai_base_url=self.openai_base_url,
            model=self.model,
            remote_url=self.remote_url,
            gateway_token=self.gateway_token,
            offline_tps=self.offline_tps,
            visitor_endpoints=self.visitor_endpoints,
            visitor=self.visitor,
        )

    def make_backend(self, on_wire: Callable[[Any], None]) -> Backend:
        """A fresh back end for one probe; ``on_wire`` sees the remote back end's raw SSE."""
        # No SDK retries: a probe shows the first failure, not a slower success.
        return make_backend(self.settings(), max_retries=0, on_wire=on_wire)


class Probe:
    """One measured answer: its run, the raw wire records (remote) and live redraw pacing."""

    def __init__(self, target: ProbeTarget, prompt: str, run: Run, wire: list[Any]) -> None:
        self.target, self.prompt, self.run, self.wire = target, prompt, run, wire
        self._last_refresh: float | None = None
        run.add_finish_callback(self._log_end)

    @classmethod
    def start(cls, target: ProbeTarget, prompt: str, params: GenerationParams) -> Probe:
        """Validate the prompt and start streaming; raises ValidationError or ConfigError."""
        conversation = build_conversation(prompt)
        wire: list[Any] = []  # list.append is atomic: the back end's loop thread calls it
        backend = target.make_backend(wire.append)

        async def source() -> AsyncIterator[StreamEvent]:
            try:
                async for event in backend.astream(conversation, params):
                    yield event
            finally:  # a probe's back end serves one stream: close its connection pool
                await backend.aclose()

        run = start_run(source)
        log_stream_start("probe", run.id, backend=target.backend, prompt=prompt)
        return cls(target, prompt, run, wire)

    @property
    def finished(self) -> bool:
        return self.run.finished

    def metrics(self, now: float | None = None) -> StreamMetrics:
        """The measurements so far; ``now`` counts a silence that is still going on."""
        reconnects = sum(1 for r in list(self.wire) if r.kind == "reconnect")
        return measure(
            self.run.created_at,
            self.run.events,
            self.run.arrival_times,
            reconnects=reconnects,
            now=None if self.finished else now,
        )

    def _log_end(self, _run: Run) -> None:
        log_stream_end("probe", self.run.id, self.metrics(), self.nbytes())

    def observe(self, seq: int, event: StreamEvent | None, *, now: float) -> bool:
        """Called per event (and with None while idle); True when the view should redraw."""
        if event is not None and log.isEnabledFor(logging.DEBUG):
            log.debug("probe %s event %d %s", self.run.id, seq, payload_json(event))
        due = self._last_refresh is None or now - self._last_refresh >= REFRESH_S
        if due or isinstance(event, Done):
            self._last_refresh = now
            return True
        return False

    def log(self) -> list[LogRecord]:
        """The event log: the SSE as received for the remote back end, else the run's events."""
        if self.target.backend == "remote":
            return wire_records(list(self.wire), self.run.created_at)
        return event_records(self.run)

    def nbytes(self) -> int:
        """Bytes received (remote) or that the events take on the wire (in-process)."""
        return sum(r.nbytes for r in self.log())

    def log_rows(self) -> list[dict[str, Any]]:
        """The event log as table rows."""
        return [asdict(r) for r in self.log()]

    def timeline(self) -> dict[str, list[float]]:
        """Tokens over time as chart columns ``seconds`` and ``tokens``, from the origin."""
        line = token_timeline(self.run.created_at, self.run.events, self.run.arrival_times)
        return {"seconds": [0.0, *(t for t, _ in line)], "tokens": [0.0, *(n for _, n in line)]}

    def gaps_ms(self) -> list[float]:
        """The inter-chunk gaps in milliseconds, for a histogram."""
        return [g * 1000 for g in chunk_gaps(self.run.events, self.run.arrival_times)]
