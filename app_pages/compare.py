"""The Compare page: one prompt to 2-4 lanes, streaming side by side with each lane's health.

Reads top to bottom: the saved compares in the sidebar; the title; the lanes (an editor
for a new compare, else each lane's column, live or stored); the vote; the prompt; the
leaderboard; then the live lanes stream, all at once. The parts live beside it:
``compare_lanes`` (the editor), ``compare_view`` (the columns and the stream),
``compare_saved`` (list, actions, vote, leaderboard); the logic is ``chat_core.compare``.
"""

import streamlit as st

from app_pages.compare_lanes import lanes_editor
from app_pages.compare_saved import (
    OPEN,
    compare_actions,
    open_compare,
    saved_compares,
    show_leaderboard,
    vote_row,
)
from app_pages.compare_view import draw_lanes, stream_lanes
from app_pages.identity import budget_refusal, budgeted, current_identity, keep_browser_token
from app_pages.login import login_gate
from app_pages.store_errors import store_trouble
from app_pages.stores import open_default_store
from chat_core import (
    BackendCache,
    ChatError,
    Settings,
    applicable_prices,
    default_price_table,
    load_settings,
    user_markdown,
    with_listening_address,
)
from chat_core.compare import (
    LaneSpec,
    check_lanes,
    continue_in_chat,
    follow_up,
    lane_settings,
    live_lanes,
    reload,
    start_compare,
    stop_all,
)


def lane_backends(base: Settings, lanes: list[LaneSpec], identity):
    """Each lane's back end (cached per lane), behind the visitor budget when the owner pays."""
    caches = st.session_state.setdefault("compare_backends", [BackendCache() for _ in range(4)])
    out = []
    for cache, lane in zip(caches, lanes, strict=False):
        settings = lane_settings(base, lane)
        out.append(budgeted(cache.backend(settings), base, settings, store, identity))
    return out


def follow_url() -> None:
    """The URL names the open compare, so a reload or a shared tab comes back to it."""
    wanted = st.query_params.get("compare", "")
    if wanted != st.session_state.get("compare_url", ""):
        open_compare(wanted)
    current = st.session_state.get(OPEN, "")
    if current:
        st.query_params["compare"] = current
    elif "compare" in st.query_params:
        del st.query_params["compare"]
    st.session_state["compare_url"] = current


def send(prompt: str, record, lanes: list[LaneSpec], models, blind: bool) -> None:
    """Start a compare (or a follow-up in every lane); nothing is stored or sent if refused."""
    try:
        if record is None:
            check_lanes(lanes, models)
        else:
            lanes = [LaneSpec(**lane) for lane in record.lanes]
        backends = lane_backends(base, lanes, identity)
        if refusal := next((r for b in backends if (r := budget_refusal(b))), None):
            st.session_state["compare_error"] = refusal
            return
        if record is None:
            open_compare(start_compare(store, owner, prompt, lanes, backends, blind=blind))
        else:
            follow_up(store, owner, record, prompt, backends)
    except ChatError as exc:  # a field named: nothing was stored or sent
        st.session_state["compare_error"] = f"**Not sent:** {exc}"


def continue_lane(record, lane: int) -> None:
    conversation_id = continue_in_chat(store, owner, record, lane)
    st.switch_page("app_pages/chat.py", query_params={"c": conversation_id})


# -- the page, top to bottom -------------------------------------------------------------------
base = with_listening_address(load_settings(), st.get_option("server.address"))
store = open_default_store(base)  # the chat page's store: one per process and database
identity = current_identity(base)
if not login_gate(base, store, identity):
    st.stop()
owner = identity.owner
prices = applicable_prices(st.session_state.get("prices", default_price_table()), base)
follow_url()
with st.sidebar:
    with store_trouble("The saved compares are unavailable"):
        saved_compares(store, owner)
    keep_browser_token()

st.title("Compare")
record = None
with store_trouble("This compare could not be read"):  # the database away: say so, go on
    record = reload(store, owner, st.session_state[OPEN]) if st.session_state.get(OPEN) else None
st.session_state["compare_record"] = record
if error := st.session_state.pop("compare_error", None):
    st.error(error, icon=":material/block:")

slots, lanes, models, blind = [], [], {}, False
if record is None:
    st.caption("One prompt to 2-4 models at once, side by side, with each stream's health.")
    lanes, models = lanes_editor(base)
    blind = st.toggle("Blind: lanes named A, B, C, D until you vote", key="compare-blind")
else:
    hidden = record.blind and not record.verdicts
    if hidden:  # a price per model would name the model: no cost until the vote
        prices = {}
    live = live_lanes(record)
    with st.container(horizontal=True, vertical_alignment="center"):
        compare_actions(store, owner, record)
        if live:
            st.button("Stop all", icon=":material/stop_circle:", key="stop-all", type="primary",
                      on_click=stop_all, args=(record,))  # fmt: skip
    if record.turns:
        first_prompt = store.get_message(owner, record.turns[0][0][0])
        if first_prompt is not None and len(record.turns) == 1:
            with st.chat_message("user"):
                st.markdown(user_markdown(first_prompt.content))
    with store_trouble("The lanes could not be read"):
        slots = draw_lanes(store, owner, record, prices, hidden=hidden)
    if not live and record.turns:
        if len(record.turns) - 1 not in record.verdicts:
            vote_row(store, owner, record)
        with st.container(horizontal=True, key="continue-row"):
            for k in range(len(record.lanes)):
                if st.button(f"Continue in Chat with lane {'ABCD'[k]}", key=f"continue-{k}"):
                    continue_lane(record, k)

placeholder = "Send to every lane" if record is None else "Follow up in every lane"
if prompt := st.chat_input(placeholder, key="compare-prompt"):
    send(prompt, record, lanes, models, blind)
    st.rerun()
with store_trouble("The leaderboard is unavailable"):
    show_leaderboard(store, owner)

if slots:
    stream_lanes(slots, prices)
    st.rerun()
