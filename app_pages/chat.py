"""The chat page: title, history, prompt, streaming answer; chats and settings in the sidebar.

Every control reads the session's one answer phase (idle, streaming, finished): while
an answer streams only Stop acts on it, and a click drawn for an older state of the
chat (``expected=session.version``) is ignored, never an exception.
"""

import html
import logging
from functools import wraps
from pathlib import Path

import streamlit as st

from app_pages.identity import (
    budget_refusal,
    budgeted,
    chat_session,
    current_identity,
    keep_browser_token,
    sidebar_account,
)
from app_pages.settings_panel import sidebar_settings
from chat_core import (
    SEARCH_FROM,
    STARTERS,
    ChatError,
    ChatSession,
    ChatStore,
    ChatTurn,
    Settings,
    answer_badge,
    answer_blocks,
    default_price_table,
    export_filename,
    export_json,
    export_markdown,
    format_cost,
    import_json,
    load_settings,
    matching_titles,
    model_caption,
    parse_price_rows,
    price_rows,
    reasoning_blocks,
    reasoning_first,
    relative_age,
    render_reasoning,
    render_run,
    thinking_label,
    user_markdown,
    waiting_label,
    waiting_seconds,
    with_listening_address,
)

HERE = Path(__file__).parent


@st.cache_resource(on_release=ChatStore.close)  # a cleared cache closes the connections
def get_store(db_url: str) -> ChatStore:
    """One store per process and database: it is thread-safe and recovers crashed answers."""
    return ChatStore(db_url)


def open_default_store(base: Settings) -> ChatStore:
    try:
        return get_store(base.database_url)
    except ChatError as exc:  # an unwritable or foreign file: chat on, without saving
        st.warning(f"Chats are not saved: {exc}", icon=":material/database_off:")
        return get_store("sqlite://")  # in memory


def guarded(action):
    """A widget callback that a late click cannot turn into an exception page."""

    @wraps(action)
    def run(*args, **kwargs):
        try:
            action(*args, **kwargs)
        except (ChatError, ValueError, RuntimeError) as exc:
            st.toast(f"Not done: {exc}", icon=":material/info:")

    return run


def install_behaviour() -> None:
    """Follow-the-answer scrolling, Esc for Stop, one-click Copy (chat_behaviour.js)."""
    css = (HERE / "chat_behaviour.css").read_text()
    js = (HERE / "chat_behaviour.js").read_text()
    st.html(f"<style>{css}</style><script>{js}</script>", unsafe_allow_javascript=True)


def restore_from_url(session: ChatSession) -> None:
    """Reloading the tab starts a new session: the URL says which conversation was open."""
    if st.session_state.get("url_restored"):
        return
    st.session_state["url_restored"] = True
    wanted = st.query_params.get("c", "")
    if wanted and not session.open(wanted):
        del st.query_params["c"]


def yield_point() -> None:
    """Reading session state lets Streamlit handle a click (Stop) while the stream is quiet."""
    st.session_state.get("chat")


def on_import() -> None:
    upload = st.session_state.get("import_file")
    if upload is None:
        return
    try:
        imported = import_json(store, session.owner, upload.getvalue())
    except ChatError as exc:
        st.session_state["import_error"] = str(exc)
    else:
        session.open(imported.id)


def sidebar_chats() -> None:
    """New chat and this chat's actions side by side, the chat list (searchable), import."""
    stored = (
        store.get_conversation(session.owner, session.conversation_id)
        if session.conversation_id
        else None
    )
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(
            "New chat",
            icon=":material/add_comment:",
            type="primary",
            on_click=guarded(session.new_conversation),
        )
        if stored is not None:
            chat_actions(stored)
    summaries = store.list_conversations(session.owner, limit=200)
    if len(summaries) >= SEARCH_FROM:
        query = st.text_input("Search chats", placeholder="Search titles", key="chat_search")
        summaries = [summaries[i] for i in matching_titles([s.title for s in summaries], query)]
    with st.container(height=min(44 * max(len(summaries), 1) + 16, 200), border=False):
        for summary in summaries:
            current = summary.id == session.conversation_id
            st.button(
                f"{summary.title} · {relative_age(summary.updated_at)}",
                key=f"conv-{summary.id}",
                type="secondary" if current else "tertiary",
                icon=":material/chat_bubble:" if current else None,
                on_click=guarded(session.open),
                args=(summary.id,),
                width="stretch",
            )
    with st.expander("Import a chat", icon=":material/upload:"):
        st.file_uploader("A JSON export", type=["json"], key="import_file", on_change=on_import)
        if error := st.session_state.pop("import_error", None):
            st.error(error, icon=":material/block:")


def chat_actions(stored) -> None:
    """Rename, export, clear and delete this chat; the destructive ones ask first."""
    with st.popover(
        "This chat", icon=":material/more_horiz:", key=f"chat-actions-{session.version}"
    ):
        title = st.text_input("Title", value=stored.title, max_chars=200, key=f"title-{stored.id}")
        if title.strip() and title != stored.title:
            store.rename(session.owner, stored.id, title)
            st.rerun()
        with st.container(horizontal=True):
            for label, kind, mime in (
                ("Markdown", "md", "text/markdown"),
                ("JSON", "json", "application/json"),
            ):
                exported = export_markdown(stored) if kind == "md" else export_json(stored)
                st.download_button(
                    label,
                    exported,
                    export_filename(stored, kind),
                    mime,
                    icon=":material/download:",
                    on_click="ignore",
                )
        idle = session.phase == "idle"
        count = len(stored.messages)
        clear_key, delete_key = (
            f"confirm-clear-{session.version}",
            f"confirm-delete-{session.version}",
        )
        if st.toggle(f"Clear its {count} messages", key=clear_key, disabled=not idle):
            st.button(
                "Clear for good",
                key="clear",
                type="primary",
                on_click=guarded(session.clear),
                kwargs={"expected": session.version},
            )
        if st.toggle("Delete this chat", key=delete_key):
            st.button(
                "Delete for good",
                key="delete",
                type="primary",
                on_click=guarded(session.delete_conversation),
                kwargs={"expected": session.version},
            )


def sidebar_usage() -> dict:
    """Tokens and estimated cost of this chat, and the editable price table it uses."""
    with st.sidebar.expander("Usage and prices", icon=":material/payments:"):
        totals = st.container()
        st.caption("USD per million tokens; edit to match your provider (this session only).")
        # The editor keeps its edits against the data it was first given: always the defaults.
        edited = st.data_editor(
            price_rows(default_price_table()),
            num_rows="dynamic",
            key="price_editor",
            width="stretch",
        )
        try:
            st.session_state["prices"] = parse_price_rows(edited)
        except ChatError as exc:
            st.error(str(exc))
        prices = st.session_state.setdefault("prices", default_price_table())
        usage = session.usage(prices)
        approx = "~" if usage.estimated else ""
        totals.metric("Tokens in this chat", f"{approx}{usage.total_tokens:,}")
        if usage.cost_usd is not None:
            totals.metric("Estimated cost", format_cost(usage.cost_usd))
    return prices


def on_feedback(index: int, key: str) -> None:
    thumbs = st.session_state.get(key)  # st.feedback: 0 down, 1 up, None cleared
    session.set_feedback(index, 0 if thumbs is None else (1 if thumbs == 1 else -1))


def on_edit(index: int, key: str, expected: int) -> None:
    try:
        session.edit(index, st.session_state[key], backend, params, expected=expected)
    except ChatError as exc:
        st.session_state["edit_error"] = str(exc)


def copy_button(text: str, key: str) -> None:
    """One click copies the answer's markdown; the button says "Copied" (chat_behaviour.js)."""
    st.html(
        f'<button type="button" class="copy-{key}" data-label="Copy" '
        f'data-copy-text="{html.escape(text, quote=True)}">Copy</button>',
        width="content",
    )


def show_answer_chrome(index: int, turn: ChatTurn, last: bool) -> None:
    """Status, metrics and cost; the error; thumbs, Copy, and Retry/Continue or Regenerate.

    Every answer draws the same slots (an empty one where nothing is offered): a block
    keeps last run's children beyond what this run drew until the script ends, which
    during a stream would leave an old Retry or error on screen.
    """
    caption = turn.metrics.caption() if turn.metrics else ""
    badge = answer_badge(turn.shown_status, turn.finish_reason)
    line = " · ".join(x for x in (badge, caption, cost_of(turn)) if x)
    st.caption(line or " ")
    if turn.error is not None:
        st.error(turn.error.message, icon=":material/error:")
    else:
        st.empty()
    if note := turn.note():
        st.info(note.message, icon=note.icon)
    else:
        st.empty()
    row = st.container(horizontal=True, vertical_alignment="center", key=f"actions-{index}")
    key = f"fb-{turn.message_id or index}"
    default = {1: 1, -1: 0}.get(turn.feedback)
    row.feedback("thumbs", key=key, default=default, on_change=on_feedback, args=(index, key))
    with row:
        copy_button(turn.content, key)
    actions = []
    if last and backend is not None and session.phase == "idle":
        if not turn.resumable:
            actions = [("Regenerate", "refresh", "regenerate", session.retry)]
        else:
            if turn.retry_helps:
                actions.append(("Retry", "refresh", "retry", session.retry))
            if turn.continuable:
                actions.append(("Continue", "play_arrow", "continue", session.continue_answer))
    for slot in range(2):
        if slot >= len(actions):
            row.empty()
            continue
        label, icon, name, action = actions[slot]
        row.button(
            label,
            icon=f":material/{icon}:",
            key=name,
            on_click=guarded(action),
            args=(backend, params),
            kwargs={"expected": session.version},
        )


def cost_of(turn: ChatTurn) -> str:
    cost = turn.cost_usd(prices)
    return format_cost(cost) if cost is not None else ""


def show_turn(index: int, turn: ChatTurn, last: bool) -> None:
    with st.chat_message(turn.role):
        if turn.role == "assistant":
            if turn.reasoning:
                seconds = turn.metrics.thinking_s if turn.metrics else None
                with st.expander(thinking_label(seconds), icon=":material/psychology:"):
                    for piece in reasoning_blocks(turn.reasoning):
                        st.markdown(piece)
            else:
                st.empty()  # the reasoning's slot (see show_answer_chrome)
            with st.container(key=f"answer-{index}"):
                for piece in answer_blocks(turn.content):  # no websocket message over ~12 KB
                    st.markdown(piece)
            show_answer_chrome(index, turn, last)
            return
        st.markdown(user_markdown(turn.content))
        if backend is None or session.phase != "idle":
            st.empty()  # the Edit popover's slot (see show_answer_chrome)
        else:
            # A new key per version: the popover is closed again once its resend went out.
            with st.popover("Edit", icon=":material/edit:", key=f"edit-{index}-{session.version}"):
                key = f"edit-text-{turn.message_id or index}-{session.version}"
                st.text_area("Your message", value=turn.content, key=key)
                st.button(
                    "Save and resend",
                    key=f"resend-{index}",
                    on_click=guarded(on_edit),
                    args=(index, key, session.version),
                    help="Later messages are replaced by the new answer.",
                )


def show_starters() -> None:
    """An empty chat offers a few prompts, the offline model's directives among them."""
    # A chat message, like every other child of the chat area (see stream_answer).
    with st.chat_message("starters", avatar=":material/lightbulb:"):
        st.caption("Try one of these, or ask anything below.")
        row = st.container(horizontal=True, key="starters")
    with row:
        for i, starter in enumerate(STARTERS):
            st.button(
                starter.label,
                key=f"starter-{i}",
                help=starter.prompt,
                on_click=st.session_state.__setitem__,
                args=("starter_prompt", starter.prompt),
            )


def prompt_input() -> str | None:
    """The input pinned at the bottom, and Stop beside it while an answer streams."""
    with st.bottom, st.container(horizontal=True, vertical_alignment="bottom"):
        prompt = st.chat_input("Ask anything", disabled=session.streaming or backend is None)
        if session.streaming:
            st.button(
                "Stop",
                icon=":material/stop_circle:",
                key="stop",
                type="primary",
                on_click=session.stop,
            )
    return prompt or st.session_state.pop("starter_prompt", None)


def stream_answer(leftovers: int) -> None:
    """The live answer, drawn afresh, then the places of leftover messages emptied."""
    live = session.live
    # Streamlit's frontend gives a new block the children of the block drawn at its place
    # last run when both have the same type. Every other child of the chat area is a chat
    # message; this holder is a plain container, so the old answer drawn here (its error,
    # thumbs, Retry) is not inherited while the new one streams. Later leftovers are emptied.
    holder = st.container()
    for _ in range(leftovers):
        st.empty()
    with holder, st.chat_message("assistant"):
        thinking = st.empty()
        body = st.container(key="streaming-answer")
        status = st.container(key="answer-status").empty()
        st.html('<div class="answer-row-placeholder"></div>')  # where the actions will be
        shown = [""]

        def show_status() -> None:
            label = waiting_label(waiting_seconds(live.run))
            if label != shown[0]:  # a websocket message only when the words change
                shown[0] = label
                status.caption(label)

        def on_idle() -> None:
            yield_point()
            show_status()

        def on_event(_seq, _event) -> None:
            session.save_partial()
            show_status()

        show_status()
        try:  # reasoning live in its own element (collapsed once the answer starts)
            after = 0
            if reasoning_first(live.run, on_idle=on_idle):
                with thinking.status(thinking_label(None, streaming=True), expanded=True) as box:
                    thoughts = render_reasoning(live.run, on_idle=on_idle, on_event=on_event)
                    st.write_stream(thoughts, cursor="▌")
                    box.update(
                        label=thinking_label(thoughts.thinking_s), state="complete", expanded=False
                    )
                after = thoughts.seq
            with body:
                for piece in answer_blocks(live.prefix):  # a Continue goes on in place
                    st.markdown(piece)
                chunks = render_run(live.run, after, on_idle=on_idle, on_event=on_event)
                st.write_stream(chunks, cursor="▌")
        except Exception:  # never a traceback on screen, never an answer left streaming
            logging.getLogger(__name__).exception("the streaming answer could not be shown")
            live.run.fail("The answer could not be shown; the text so far is kept.")
    session.finish()
    st.rerun()


# -- the page, top to bottom -------------------------------------------------------------------
base = with_listening_address(load_settings(), st.get_option("server.address"))
store = open_default_store(base)
identity = current_identity(base)  # whose chats: the logged-in user, else this browser
session = chat_session(store, identity)
restore_from_url(session)
session.sync()  # another tab's turns; an answer that went on or finished elsewhere
install_behaviour()
with st.sidebar:
    sidebar_account(identity)
    sidebar_chats()
settings, backend, params, problem = sidebar_settings(base)
backend = budgeted(backend, base, settings, store, identity)
prices = sidebar_usage()
with st.sidebar:
    keep_browser_token()

st.title("Streaming chat")
if settings is not None:
    st.caption(
        model_caption(settings.resolved_backend, settings.resolved_model, settings.remote_url)
    )
    if settings.resolved_backend == "offline":
        st.info(
            "**Offline model.** Answers are scripted: no key, no network. To chat with a real "
            "model, set `OPENAI_API_KEY` (or `OPENAI_BASE_URL`) in `.env` or "
            "`.streamlit/secrets.toml`, or enter a key in the sidebar.",
            icon=":material/cloud_off:",
        )
if problem is not None:
    st.error(
        f"**No answers until a setting is fixed.** {problem}", icon=":material/settings_alert:"
    )
if session.conversation_id is not None:
    st.query_params["c"] = session.conversation_id
elif "c" in st.query_params:
    del st.query_params["c"]

if error := st.session_state.pop("edit_error", None):
    st.error(error, icon=":material/block:")
chat_area = st.container()  # the messages: positions in it are counted, see stream_answer
drawn = st.session_state.get("messages_drawn", 0)
with chat_area:
    for i, turn in enumerate(session.turns):
        show_turn(i, turn, last=i == len(session.turns) - 1)
    if not session.turns and not session.streaming:
        show_starters()
st.session_state["messages_drawn"] = max(len(session.turns), 1)

prompt = prompt_input()
if prompt and backend is not None:
    if refusal := budget_refusal(backend):  # nothing is stored or sent past the budget
        st.warning(refusal, icon=":material/hourglass_bottom:")
    else:
        try:
            session.submit(prompt, backend, params)
        except ChatError as exc:
            st.error(str(exc), icon=":material/block:")
        else:
            st.rerun()

if session.live is not None:
    with chat_area:
        stream_answer(leftovers=max(0, drawn - len(session.turns) - 1))
