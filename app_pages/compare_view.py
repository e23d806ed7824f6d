"""Compare's lanes on screen: one column each (stacked on a phone), live or as stored.

Page-side only. A lane's answer streams from its run through ``lane_frames`` (one loop
for every lane: a Streamlit session runs one script at a time), into one element per
finished markdown block as in Chat; its health line is redrawn only when its words
change. Everything else (which run, what health, which best) is ``chat_core.compare``.
"""

import logging
import time
from dataclasses import dataclass, field
from functools import partial

import streamlit as st

from chat_core import (
    NEW_BLOCK,
    ChatStore,
    answer_blocks,
    reasoning_blocks,
    reasoning_text,
    thinking_label,
    user_markdown,
)
from chat_core.compare import (
    CompareRecord,
    LaneHealth,
    LaneSpec,
    LaneTurn,
    best_lanes,
    health_parts,
    lane_frames,
    lane_name,
    lane_turns,
    live_health,
    stop_lane,
    stored_health,
)


@dataclass
class LaneSlot:
    """Where a live lane's answer is drawn while it streams."""

    lane: int
    turn: LaneTurn
    thinking: object  # an st.empty for the reasoning box
    body: object  # the container the answer's elements go in
    health: object  # an st.empty for the health line
    model: str
    elements: list = field(default_factory=list)  # [placeholder, text] of the answer's tail
    box: object | None = None  # the reasoning status box, once reasoning arrives
    thoughts: list = field(default_factory=list)
    thought_from: float = 0.0  # when its reasoning began to show
    shown_health: str = ""


def draw_lanes(
    store: ChatStore, owner: str, record: CompareRecord, prices, *, hidden: bool
) -> list[LaneSlot]:
    """Every lane in its column; returns the slots of the lanes still streaming."""
    lanes = [LaneSpec(**lane) for lane in record.lanes]
    turns = [lane_turns(store, owner, record, k) for k in range(len(lanes))]
    last = [lane[-1] if lane else None for lane in turns]
    healths = [
        _health(t, lane.model, prices) if t else None for t, lane in zip(last, lanes, strict=True)
    ]
    best = best_lanes(healths)
    slots: list[LaneSlot] = []
    columns = st.columns(len(lanes), border=True)
    for k, (lane, column) in enumerate(zip(lanes, columns, strict=True)):
        with column, st.container(key=f"lane-{k}"):
            st.markdown(f"**{lane_name(k, lane, blind=hidden)}**")
            if not hidden:
                st.caption(_settings_line(lane))
            for i, turn in enumerate(turns[k]):
                if i or len(record.turns) > 1:
                    with st.chat_message("user"):
                        st.markdown(user_markdown(turn.prompt.content if turn.prompt else ""))
                marks = {name for name, lanes_ in best.items() if k in lanes_}
                slot = _draw_answer(
                    k, turn, lane.model, prices, marks if i == len(turns[k]) - 1 else set()
                )
                if slot is not None:
                    slots.append(slot)
    return slots


def _settings_line(lane: LaneSpec) -> str:
    parts = [f"temperature {lane.temperature}", f"max {lane.max_tokens} tokens"]
    if lane.reasoning_effort:
        parts.append(f"effort {lane.reasoning_effort}")
    if lane.system:
        parts.append("system prompt")
    return " · ".join(parts)


def _health(turn: LaneTurn, model: str, prices) -> LaneHealth | None:
    if turn.live is not None:
        return live_health(turn.live.run, model, prices)
    if turn.answer is None:
        return None
    if turn.answer.status == "streaming":  # its run is gone (a restart): it went nowhere
        return None
    return stored_health(turn.answer.metrics, model, prices)


def _draw_answer(k: int, turn: LaneTurn, model: str, prices, marks: set[str]) -> LaneSlot | None:
    live = turn.live
    if live is not None and not live.run.finished:
        # In a plain container, unlike a finished answer: Streamlit's frontend gives a new
        # block the children of the block drawn at its place last run when both have the same
        # type, and this run goes on while other lanes stream, so nothing would clear them.
        with st.container(), st.chat_message("assistant"):
            thinking, body = st.empty(), st.container()
            health = st.empty()
            st.button(
                "Stop",
                icon=":material/stop_circle:",
                key=f"stop-lane-{k}",
                on_click=partial(_stop, k),
            )
            return LaneSlot(k, turn, thinking, body, health, model)
    with st.chat_message("assistant"):
        if live is not None:  # finished, its final answer being stored: show it from memory
            text, reasoning = live.text, reasoning_text(live.run.events)
            error = live.run.error.message if live.run.error else None
        elif turn.answer is not None:
            text, reasoning = turn.answer.content, turn.answer.reasoning
            error = turn.answer.metrics.get("error_message")
        else:
            return None
        if reasoning:
            seconds = turn.answer.metrics.get("thinking_s") if turn.answer else None
            label = thinking_label(seconds if isinstance(seconds, int | float) else None)
            with st.expander(label, icon=":material/psychology:"):
                for piece in reasoning_blocks(reasoning):
                    st.markdown(piece)
        for piece in answer_blocks(text):
            st.markdown(piece)
        if error:
            st.error(error, icon=":material/error:")
        health = _health(turn, model, prices)
        if health is not None:
            st.caption(" · ".join(health_parts(health, marks)))
    return None


def _stop(lane: int) -> None:
    record = st.session_state.get("compare_record")
    if record is not None:
        stop_lane(record, lane)


def stream_lanes(slots: list[LaneSlot], prices) -> None:
    """Stream every live lane at once, each into its own slot, until all have ended."""

    def on_idle() -> None:
        st.session_state.get("compare_record")  # a yield point: a Stop click is seen
        for slot in slots:
            health = live_health(slot.turn.live.run, slot.model, prices)
            line = " · ".join(health_parts(health))
            if line != slot.shown_health:
                slot.shown_health = line
                slot.health.caption(line)

    try:
        for frames in lane_frames([slot.turn.live.run for slot in slots], on_idle=on_idle):
            for frame in frames:
                slot = slots[frame.lane]
                if frame.reasoning:
                    _add(slot, frame.reasoning, thinking=True)
                if frame.answer:
                    if slot.box is not None and not slot.elements:
                        slot.box.update(
                            label=thinking_label(time.monotonic() - slot.thought_from),
                            state="complete",
                            expanded=False,
                        )
                    _add(slot, frame.answer, thinking=False)
                if frame.finished and slot.turn.live.run.error is not None:
                    with slot.body:
                        st.error(slot.turn.live.run.error.message, icon=":material/error:")
    except Exception:  # never a traceback on screen; the runs go on, their text is kept
        logging.getLogger(__name__).exception("the compare's lanes could not be shown")
        st.error("The lanes could not be shown; reload the page.", icon=":material/error:")


def _add(slot: LaneSlot, chunks, *, thinking: bool) -> None:
    """New chunks at the tail of the lane's answer (or reasoning): a new element per block."""
    if thinking and slot.box is None:
        slot.thought_from = time.monotonic()
        slot.box = slot.thinking.status(thinking_label(None, streaming=True), expanded=True)
    elements = slot.thoughts if thinking else slot.elements
    holder = slot.box if thinking else slot.body
    for chunk in chunks:
        if chunk is NEW_BLOCK or not elements:
            elements.append([holder.empty(), ""])
        if isinstance(chunk, str):
            elements[-1][1] += chunk
    elements[-1][0].markdown(elements[-1][1])
