"""Compare's lanes editor: 2-4 lanes, each a back end, a model and its parameters.

Page-side only. The lanes live in session state as ``LaneSpec`` dicts with a stable
id each (widget keys follow the lane, not its position, so removing lane B leaves C's
fields as they were); what the fields mean and their checks are ``chat_core.compare``.
"""

import itertools

import streamlit as st

from chat_core import BackendCache, Settings
from chat_core.compare import (
    MAX_LANES,
    MIN_LANES,
    LaneSpec,
    available_backends,
    default_lanes,
    lane_settings,
)

LANES = "compare_lanes"  # [(id, LaneSpec)]
EFFORTS = ("default", "low", "medium", "high")
_ids = itertools.count(1)


def _lanes() -> list[tuple[int, LaneSpec]]:
    if LANES not in st.session_state:
        st.session_state[LANES] = [(next(_ids), lane) for lane in default_lanes(3)]
    return st.session_state[LANES]


def _set_fields(lane_id: int, lane: LaneSpec) -> None:
    """Put a lane's values in its widgets' state (in a callback: before they are drawn)."""
    st.session_state[f"lane-{lane_id}-backend"] = lane.backend
    st.session_state[f"lane-{lane_id}-model"] = lane.model
    st.session_state[f"lane-{lane_id}-temperature"] = float(lane.temperature)
    st.session_state[f"lane-{lane_id}-max_tokens"] = int(lane.max_tokens)
    st.session_state[f"lane-{lane_id}-effort"] = lane.reasoning_effort or "default"
    st.session_state[f"lane-{lane_id}-system"] = lane.system or ""


def add_lane() -> None:
    lanes = _lanes()
    if len(lanes) < MAX_LANES:
        lane_id = next(_ids)
        lanes.append((lane_id, LaneSpec()))
        _set_fields(lane_id, LaneSpec())


def duplicate_lane(position: int) -> None:
    lanes = _lanes()
    if len(lanes) < MAX_LANES:
        lane_id = next(_ids)
        lanes.insert(position + 1, (lane_id, lanes[position][1]))
        _set_fields(lane_id, lanes[position][1])


def remove_lane(position: int) -> None:
    lanes = _lanes()
    if len(lanes) > MIN_LANES:
        del lanes[position]


def model_choices(base: Settings, backend: str) -> list[str] | None:
    """The models a back end lists (None: no list, any name is tried)."""
    caches = st.session_state.setdefault("compare_model_lists", {})
    cache = caches.setdefault(backend, BackendCache())
    try:
        listed = cache.model_list(lane_settings(base, LaneSpec(backend=backend, model="x")))
    except Exception:  # a misconfigured endpoint: the lane's check says so by name
        return None
    return list(listed.models) if listed.models else None


def lanes_editor(base: Settings) -> tuple[list[LaneSpec], dict[str, list[str] | None]]:
    """The lanes as edited, and per available back end its models (for the checks)."""
    kinds = available_backends(base)
    models = {kind: model_choices(base, kind) for kind in kinds}
    lanes = _lanes()
    edited: list[tuple[int, LaneSpec]] = []
    columns = st.columns(len(lanes), border=True)
    for position, ((lane_id, lane), column) in enumerate(zip(lanes, columns, strict=True)):
        with column, st.container(key=f"editor-lane-{position}"):
            edited.append((lane_id, _lane_fields(position, lane_id, lane, kinds, models)))
    st.session_state[LANES] = edited
    st.button(
        "Add lane",
        icon=":material/add:",
        key="add-lane",
        on_click=add_lane,
        disabled=len(lanes) >= MAX_LANES,
    )
    return [lane for _id, lane in edited], models


def _lane_fields(
    position: int,
    lane_id: int,
    lane: LaneSpec,
    kinds: list[str],
    models: dict[str, list[str] | None],
) -> LaneSpec:
    key = f"lane-{lane_id}"
    # The fields' values live in their widget keys (a callback sets a duplicate's); a page
    # that did not draw them (an open compare) lost them, so they come back from the lane.
    if f"{key}-backend" not in st.session_state:
        _set_fields(lane_id, lane)
    if st.session_state[f"{key}-backend"] not in kinds:
        st.session_state[f"{key}-backend"] = kinds[0]
    st.markdown(f"**Lane {'ABCD'[position]}**")
    backend = st.selectbox("Back end", kinds, key=f"{key}-backend")
    served = models.get(backend)
    if served:
        if st.session_state.get(f"{key}-model") not in served:
            st.session_state[f"{key}-model"] = served[0]
        model = st.selectbox("Model", served, key=f"{key}-model")
    else:
        model = st.text_input("Model", key=f"{key}-model").strip()
    with st.expander("Parameters"):
        temperature = st.slider("Temperature", 0.0, 2.0, step=0.1, key=f"{key}-temperature")
        max_tokens = st.number_input("Max tokens", 1, 32_768, key=f"{key}-max_tokens")
        effort = st.selectbox("Reasoning effort", EFFORTS, key=f"{key}-effort")
        system = st.text_area(
            "System prompt",
            key=f"{key}-system",
            help="The offline model also obeys directives here (e.g. `/error server after 20`).",
        )
    with st.container(horizontal=True):
        st.button(
            "Duplicate",
            icon=":material/content_copy:",
            key=f"{key}-duplicate",
            on_click=duplicate_lane,
            args=(position,),
            disabled=len(_lanes()) >= MAX_LANES,
        )
        st.button(
            "Remove",
            icon=":material/delete:",
            key=f"{key}-remove",
            on_click=remove_lane,
            args=(position,),
            disabled=len(_lanes()) <= MIN_LANES,
        )
    return LaneSpec(
        backend=backend,
        model=model or "",
        temperature=float(temperature),
        max_tokens=int(max_tokens),
        reasoning_effort=None if effort == "default" else effort,
        system=system or None,
    )
