"""The chat page: title, history, prompt, streaming answer; chats and settings in the sidebar."""

import logging

import streamlit as st

from app_pages.identity import (
    budget_refusal,
    budgeted,
    chat_session,
    current_identity,
    keep_browser_token,
    sidebar_account,
)
from chat_core import (
    BACKEND_CHOICES,
    BackendCache,
    ChatError,
    ChatSession,
    ChatStore,
    ChatTurn,
    GenerationParams,
    Settings,
    VisitorInput,
    answer_badge,
    answer_blocks,
    default_price_table,
    endpoint_fields,
    export_filename,
    export_json,
    export_markdown,
    format_cost,
    import_json,
    load_settings,
    model_options,
    parse_price_rows,
    price_rows,
    reasoning_blocks,
    reasoning_first,
    render_reasoning,
    render_run,
    thinking_label,
    user_markdown,
    with_listening_address,
)


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
    """New chat, the chat list, this chat's actions (rename, export, delete), import."""
    st.button(
        "New chat",
        icon=":material/add_comment:",
        type="primary",
        on_click=session.new_conversation,
        width="stretch",
    )
    # Fixed containers keep the later sidebar widgets at stable positions, so a rerun
    # during a stream (when stale elements linger until the script ends) shows no doubles.
    with st.container():
        st.caption("Chats")
        for summary in store.list_conversations(session.owner, limit=50):
            current = summary.id == session.conversation_id
            st.button(
                summary.title,
                key=f"conv-{summary.id}",
                type="secondary" if current else "tertiary",
                icon=":material/chat_bubble:" if current else None,
                on_click=session.open,
                args=(summary.id,),
                width="stretch",
            )
    with st.container():
        stored = (
            store.get_conversation(session.owner, session.conversation_id)
            if session.conversation_id
            else None
        )
        if stored is not None:
            with st.expander("This chat", icon=":material/edit_note:"):
                title = st.text_input(
                    "Title", value=stored.title, max_chars=200, key=f"title-{stored.id}"
                )
                if title.strip() and title != stored.title:
                    store.rename(session.owner, stored.id, title)
                    st.rerun()
                left, right = st.columns(2)
                for column, label, kind, mime in (
                    (left, "Markdown", "md", "text/markdown"),
                    (right, "JSON", "json", "application/json"),
                ):
                    exported = export_markdown(stored) if kind == "md" else export_json(stored)
                    column.download_button(
                        label,
                        exported,
                        export_filename(stored, kind),
                        mime,
                        icon=":material/download:",
                        on_click="ignore",
                    )
                with st.popover("Delete chat", icon=":material/delete:"):
                    st.write(f"Delete **{stored.title}** and its {len(stored.messages)} messages?")
                    st.button(
                        "Delete for good", type="primary", on_click=session.delete_conversation
                    )
    with st.expander("Import a chat", icon=":material/upload:"):
        st.file_uploader("A JSON export", type=["json"], key="import_file", on_change=on_import)
        if error := st.session_state.pop("import_error", None):
            st.error(error, icon=":material/block:")


def endpoint_inputs(base: Settings) -> tuple[str, str]:
    """The visitor's own endpoints; never prefilled with the owner's, hidden when ``off``."""
    fields = endpoint_fields(base)
    if not fields.shown:
        return "", ""
    base_url = st.text_input(
        "Base URL",
        placeholder=fields.base_url_placeholder,
        help=f"Any OpenAI-compatible server: Ollama, vLLM, LM Studio, ... {fields.help}",
    )
    remote_url = st.text_input("Remote SSE URL", placeholder=fields.remote_url_placeholder)
    return base_url, remote_url


def sidebar_settings(base: Settings):
    """The model and settings fields; returns (settings, back end, params), Nones if unusable."""
    with st.sidebar.expander("Model and settings", icon=":material/tune:", expanded=True):
        choice = st.selectbox(
            "Back end",
            BACKEND_CHOICES,
            index=BACKEND_CHOICES.index(base.backend),
            help="auto: a remote URL, else OpenAI when a key or base URL is set, else offline.",
        )
        api_key = st.text_input(
            "OpenAI API key",
            type="password",
            help="Kept in this browser session only; never stored.",
        )
        base_url, remote_url = endpoint_inputs(base)
        model_slot = st.empty()
        system = st.text_area("System prompt", placeholder="You are a helpful assistant.")
        temperature = st.slider("Temperature", 0.0, 2.0, 0.7, 0.1)
        max_tokens = st.number_input("Max tokens", 1, 32_768, 1000, 100)
        st.button(
            "Clear chat",
            on_click=session.clear,
            icon=":material/delete_sweep:",
            disabled=not session.turns and not session.streaming,
        )
    backends: BackendCache = st.session_state.setdefault("backends", BackendCache())
    try:
        typed = VisitorInput(
            openai_api_key=api_key, openai_base_url=base_url, remote_url=remote_url
        )
        settings = base.with_overrides(backend=choice, visitor=typed)
        backend = backends.backend(settings)
        offered = backends.models(settings)
        with model_slot:
            if offered:  # the configured model first; models that cannot chat left out
                options = model_options(offered, settings.model, settings.resolved_model)
                model = st.selectbox("Model", options, accept_new_options=True, key="model_pick")
            else:
                model = st.text_input("Model", placeholder=settings.resolved_model)
        settings = settings.with_overrides(model=model)
        params = GenerationParams(
            model=settings.resolved_model,
            temperature=temperature,
            max_tokens=int(max_tokens),
            system=system or None,
        )
    except ChatError as exc:  # no answer can be asked for until the settings are fixed
        st.sidebar.error(str(exc), icon=":material/settings_alert:")
        return None, None, None
    return settings, backend, params


def sidebar_usage() -> dict:
    """Tokens and estimated cost of this chat, and the editable price table it uses."""
    with st.sidebar.expander("Usage and prices", icon=":material/payments:"):
        totals = st.container()
        st.caption("USD per million tokens; edit to match your provider (this session only).")
        # The editor keeps its edits against the data it was first given: always the defaults.
        edited = st.data_editor(
            price_rows(default_price_table()), num_rows="dynamic", key="price_editor"
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


def on_edit(index: int, key: str) -> None:
    try:
        session.edit(index, st.session_state[key], backend, params)
    except ChatError as exc:
        st.session_state["edit_error"] = str(exc)


def show_answer_chrome(index: int, turn: ChatTurn, last: bool) -> None:
    """Status, metrics and cost; the error; thumbs, Copy, and Retry/Continue or Regenerate."""
    caption = turn.metrics.caption() if turn.metrics else ""
    badge = answer_badge(turn.status, turn.finish_reason)
    line = " · ".join(x for x in (badge, caption, cost_of(turn)) if x)
    if line:
        st.caption(line)
    if turn.error is not None:
        st.error(turn.error.message, icon=":material/error:")
    if note := turn.note():
        st.info(note.message, icon=note.icon)
    row = st.container(horizontal=True, vertical_alignment="center")
    key = f"fb-{turn.message_id or index}"
    default = {1: 1, -1: 0}.get(turn.feedback)
    row.feedback("thumbs", key=key, default=default, on_change=on_feedback, args=(index, key))
    copy = row.popover("Copy", icon=":material/content_copy:", key=f"copy-{key}", on_change="rerun")
    if copy.open:  # filled only when opened: a long answer is not re-sent on every rerun
        copy.code(turn.content, language="markdown", wrap_lines=True)
    if not last or backend is None or session.streaming:
        return
    if turn.resumable:
        actions = [("Retry", "refresh", "retry", session.retry)]
        if turn.content:
            actions.append(("Continue", "play_arrow", "continue", session.continue_answer))
    else:
        actions = [("Regenerate", "refresh", "regenerate", session.retry)]
    for label, icon, key, action in actions:
        row.button(
            label, icon=f":material/{icon}:", key=key, on_click=action, args=(backend, params)
        )


def cost_of(turn: ChatTurn) -> str:
    return format_cost(turn.cost_usd(prices))


def show_turn(index: int, turn: ChatTurn, last: bool) -> None:
    with st.chat_message(turn.role):
        if turn.role == "assistant":
            if turn.reasoning:
                seconds = turn.metrics.thinking_s if turn.metrics else None
                with st.expander(thinking_label(seconds), icon=":material/psychology:"):
                    for piece in reasoning_blocks(turn.reasoning):
                        st.markdown(piece)
            for piece in answer_blocks(turn.content):  # no websocket message over ~12 KB
                st.markdown(piece)
            show_answer_chrome(index, turn, last)
            return
        st.markdown(user_markdown(turn.content))
        if backend is not None and not session.streaming:
            with st.popover("Edit", icon=":material/edit:"):
                key = f"edit-{turn.message_id or index}"
                st.text_area("Your message", value=turn.content, key=key)
                st.button(
                    "Save and resend",
                    key=f"resend-{index}",
                    on_click=on_edit,
                    args=(index, key),
                    help="Later messages are replaced by the new answer.",
                )


def stream_answer(run) -> None:
    """Reasoning live in its own element (collapsed once the answer starts), then the answer."""
    options = {"on_idle": yield_point, "on_event": lambda _seq, _event: session.save_partial()}
    thinking, answer = st.empty(), st.container(key="streaming-answer")
    after = 0
    try:
        if reasoning_first(run, on_idle=yield_point):
            with thinking.status(thinking_label(None, streaming=True), expanded=True) as box:
                thoughts = render_reasoning(run, **options)
                st.write_stream(thoughts, cursor="▌")
                box.update(
                    label=thinking_label(thoughts.thinking_s), state="complete", expanded=False
                )
            after = thoughts.seq
        with answer:
            st.write_stream(render_run(run, after, **options), cursor="▌")
    except Exception:  # never a traceback on screen, never an answer left streaming
        logging.getLogger(__name__).exception("the streaming answer could not be shown")
        run.fail("The answer could not be shown; the text so far is kept.")


# -- the page, top to bottom -------------------------------------------------------------------
base = with_listening_address(load_settings(), st.get_option("server.address"))
store = open_default_store(base)
identity = current_identity(base)  # whose chats: the logged-in user, else this browser
session = chat_session(store, identity)
restore_from_url(session)
with st.sidebar:
    sidebar_account(identity)
    sidebar_chats()
settings, backend, params = sidebar_settings(base)
backend = budgeted(backend, base, settings, store, identity)
prices = sidebar_usage()
with st.sidebar:
    keep_browser_token()

st.title("Streaming chat")
if settings is not None:
    st.caption(f"Back end **{settings.resolved_backend}** · model `{settings.resolved_model}`")
    if settings.resolved_backend == "offline":
        st.info(
            "**Offline model.** Answers are scripted: no key, no network. To chat with a real "
            "model, set `OPENAI_API_KEY` (or `OPENAI_BASE_URL`) in `.env` or "
            "`.streamlit/secrets.toml`, or enter a key in the sidebar.",
            icon=":material/cloud_off:",
        )
if session.conversation_id is not None:
    st.query_params["c"] = session.conversation_id
elif "c" in st.query_params:
    del st.query_params["c"]

for i, turn in enumerate(session.turns):
    show_turn(i, turn, last=i == len(session.turns) - 1)
if error := st.session_state.pop("edit_error", None):
    st.error(error, icon=":material/block:")

prompt = st.chat_input("Ask anything", disabled=session.streaming or backend is None)
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

if session.run is not None:
    with st.chat_message("assistant"):
        st.button("Stop", icon=":material/stop_circle:", key="stop", on_click=session.stop)
        if session.run_kind == "continue" and session.turns:
            for piece in answer_blocks(session.turns[-1].content):
                st.markdown(piece)
        stream_answer(session.run)
    session.finish()
    st.rerun()
