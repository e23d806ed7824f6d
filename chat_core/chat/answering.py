"""An answer's start and finish: its run, its stored row, and the turn it becomes.

``ChatSession`` decides whether an answer may start (its phase, a late click);
these functions do the rest, with no session state of their own:

    start_answer    the stored ``streaming`` row (or a continued answer's row), the
                    run, and the run's finish callback, which stores the final answer
                    (retried while the database is away, ``saving``) and only then
                    leaves the live registry
    finished_turn   the turn a finished run becomes, once the page takes it
    metrics_of      a run's stream metrics

The finish callback runs on the run, not on the page, so an answer lands in the
database even when no page is watching (a closed tab, a switch of chats).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from chat_core.backends.base import Backend
from chat_core.backends.json_output import validate_answer
from chat_core.chat.live import LiveAnswer, LiveAnswers, RunKind
from chat_core.chat.saving import FINAL_SAVE_DELAYS_S, UNSAVED, UnsavedAnswers, save_final
from chat_core.chat.turns import ChatTurn
from chat_core.events import Done, reasoning_text
from chat_core.logs import log_stream_end, log_stream_start
from chat_core.messages import Conversation, GenerationParams
from chat_core.metrics import StreamMetrics, answer_status, measure
from chat_core.runs import Run, start_run
from chat_core.storage.store import ChatStore
from chat_core.tools.steps import steps_from_events


def start_answer(
    backend: Backend,
    conversation: Conversation,
    params: GenerationParams,
    kind: RunKind,
    *,
    continued: ChatTurn | None,
    store: ChatStore | None,
    owner: str,
    conversation_id: str | None,
    registry: LiveAnswers,
    parent_id: int | None = None,
    final_save_delays_s: tuple[float, ...] = FINAL_SAVE_DELAYS_S,
    unsaved: UnsavedAnswers = UNSAVED,
    stored_id: int | None = None,
) -> LiveAnswer:
    """Start the run for an answer (going on from ``continued``), stored through ``store``
    under the prompt ``parent_id`` (None: after the conversation's active leaf); ``stored_id``:
    its ``streaming`` row, written already (Compare writes every lane's, then starts them)."""
    prefix = continued.content if continued else ""
    earlier_reasoning = continued.reasoning if continued else ""
    message_id = stored_id
    if message_id is None:
        message_id = _stored_answer_id(store, owner, conversation_id, continued, params, parent_id)
    run = start_run(lambda: backend.astream(conversation, params))
    log_stream_start("chat", run.id, backend=backend.name, prompt=conversation.prompt)
    earlier = continued.metrics if continued else None
    live = LiveAnswer(run, message_id, kind, prefix, params.model, earlier_reasoning, earlier)

    def on_finish(run: Run) -> None:
        try:
            metrics = metrics_of(run).continuing(earlier)  # the whole answer's
            log_stream_end("chat", run.id, metrics, run.text_bytes)
        except Exception:
            registry.discard(live)
            raise
        if store is None or message_id is None:
            registry.discard(live)
            return
        stored_metrics = _stored_metrics(metrics, run) | _validation(live.text, params)

        calls = [step.call for step in steps_from_events(run.events)[0]]

        def write() -> None:
            if calls:  # before the answer's final status: a reload finds both or neither
                store.save_tool_calls(owner, message_id, calls)
            store.finish_message(
                owner,
                message_id,
                live.text,
                status=metrics.status,
                metrics=stored_metrics,
                reasoning=_joined(earlier_reasoning, reasoning_text(run.events)),
            )

        def mark_interrupted(reason: str) -> None:
            # the reason comes back with the row: a reload shows why, beside the partial text
            failed = {"error_code": "internal", "error_message": reason, "error_retryable": True}
            store.update_message(
                owner, message_id, status="interrupted", metrics=stored_metrics | failed
            )

        # The live entry stays until the write is done or given up: meanwhile a page
        # that opens this chat shows the answer from memory, not a frozen row.
        save_final(
            write,
            mark_interrupted,
            lambda: registry.discard(live),
            message_id=message_id,
            unsaved=unsaved,
            delays_s=final_save_delays_s,
        )

    registry.add(live)
    run.add_finish_callback(on_finish)
    return live


def _stored_answer_id(
    store: ChatStore | None,
    owner: str,
    conversation_id: str | None,
    continued: ChatTurn | None,
    params: GenerationParams,
    parent_id: int | None,
) -> int | None:
    if store is None or conversation_id is None:
        return None
    if continued is not None and continued.message_id is not None:
        store.update_message(owner, continued.message_id, status="streaming")
        return continued.message_id
    parent: int | Literal["leaf"] = "leaf" if parent_id is None else parent_id
    return store.start_answer(
        owner, conversation_id, model=params.model, params=stored_params(params), parent_id=parent
    ).id


def stored_params(params: GenerationParams) -> dict[str, Any]:
    """What an answer's row keeps of its parameters."""
    settings: dict[str, Any] = {"temperature": params.temperature, "max_tokens": params.max_tokens}
    if params.system:
        settings["system"] = params.system
    return settings


def finished_turn(live: LiveAnswer, metrics: StreamMetrics) -> ChatTurn:
    """The turn a finished live answer becomes: its whole text, status, metrics, reasoning."""
    run = live.run
    return ChatTurn(
        "assistant",
        live.text,
        answer_status(run.events),
        metrics.continuing(live.earlier_metrics),  # a Continue's caption counts it all
        run.error,
        live.model,
        live.message_id,  # type: ignore[arg-type]
        reasoning=_joined(live.reasoning_prefix, reasoning_text(run.events)),
        tool_names=_tool_names(run),
        tool_steps=steps_from_events(run.events)[0],
    )


def metrics_of(run: Run) -> StreamMetrics:
    """The run's stream metrics, from its events and their arrival times."""
    return measure(run.created_at, run.events, run.arrival_times, reconnects=run.reconnects)


def _stored_metrics(metrics: StreamMetrics, run: Run) -> dict[str, Any]:
    out = metrics.to_dict()
    if (error := run.error) is not None:
        out |= {"error_message": error.message, "error_retryable": error.retryable}
    if tools := _tool_names(run):
        out["tool_names"] = json.dumps(list(tools))  # stored metrics are flat: one string
    return out


def _validation(text: str, params: GenerationParams) -> dict[str, Any]:
    """Structured output: the final answer checked against its schema, stored beside it."""
    if params.response_schema is None:
        return {}
    return validate_answer(text, json.loads(params.response_schema)).to_dict()


def _joined(earlier: str, later: str) -> str:
    """A continued answer's reasoning: each part's, one paragraph apart."""
    return "\n\n".join(r for r in (earlier, later) if r)


def _tool_names(run: Run) -> tuple[str, ...]:
    done = run.events[-1] if run.events else None
    return done.tool_names if isinstance(done, Done) else ()
