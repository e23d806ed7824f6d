"""The chat page: title, history, prompt, streaming answer; chats and settings in the sidebar.

It reads like Streamlit's chat tutorial; the parts live beside it: the sidebar's chat
list (``chat_sidebar``), settings (``settings_panel``) and account (``identity``), the
history (``history``) and the live answer (``live_answer``).
"""

from pathlib import Path

import streamlit as st

from app_pages.chat_sidebar import sidebar_chats, sidebar_usage
from app_pages.history import ChatView, show_history
from app_pages.identity import (
    budget_refusal,
    budgeted,
    chat_session,
    current_identity,
    keep_browser_token,
    sidebar_account,
)
from app_pages.live_answer import prompt_input, stream_answer
from app_pages.settings_panel import sidebar_settings
from app_pages.workbench import sidebar_schema, with_variables
from app_pages.workbench_presets import sidebar_presets
from chat_core import (
    ChatError,
    ChatSession,
    ChatStore,
    Settings,
    load_settings,
    model_caption,
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


def show_model_notice(settings: Settings | None, problem: str | None) -> None:
    """Which model answers, the offline model's hint, or what keeps answers from starting."""
    if settings is not None:
        st.caption(
            model_caption(settings.resolved_backend, settings.resolved_model, settings.remote_url)
        )
        if settings.resolved_backend == "offline":
            st.info(
                "**Offline model.** Answers are scripted: no key, no network. To chat with a "
                "real model, set `OPENAI_API_KEY` (or `OPENAI_BASE_URL`) in `.env` or "
                "`.streamlit/secrets.toml`, or enter a key in the sidebar.",
                icon=":material/cloud_off:",
            )
    if problem is not None:
        st.error(
            f"**No answers until a setting is fixed.** {problem}",
            icon=":material/settings_alert:",
        )


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
    sidebar_chats(store, session)
settings, backend, params, problem = sidebar_settings(base)
backend = budgeted(backend, base, settings, store, identity)
prices = sidebar_usage(session)
with st.sidebar:
    keep_browser_token()

st.title("Streaming chat")
# Presets and a JSON schema, in a popover: the sidebar has no room left at 800 px.
with st.popover("Workbench", icon=":material/science:", key="workbench"):
    sidebar_presets(store, session.owner)  # picking one fills the settings panel
    params, schema_problem = sidebar_schema(params)  # a JSON schema: structured output
if schema_problem is not None:  # nothing is sent until the schema is fixed
    backend, problem = None, schema_problem
show_model_notice(settings, problem)
if session.conversation_id is not None:
    st.query_params["c"] = session.conversation_id
elif "c" in st.query_params:
    del st.query_params["c"]

if error := st.session_state.pop("edit_error", None):
    st.error(error, icon=":material/block:")
chat_area = st.container()  # the messages: positions in it are counted, see stream_answer
drawn = st.session_state.get("messages_drawn", 0)
with chat_area:
    show_history(ChatView(session, backend, params, prices, settings))
st.session_state["messages_drawn"] = max(len(session.turns), 1)

prompt = prompt_input(session, can_answer=backend is not None)
prompt, params, stored = with_variables(prompt, params)  # {{name}}: fields first, then send
if prompt and backend is not None:
    if refusal := budget_refusal(backend):  # nothing is stored or sent past the budget
        st.warning(refusal, icon=":material/hourglass_bottom:")
    else:
        try:
            session.submit(prompt, backend, params, stored_params=stored)
        except ChatError as exc:
            st.error(str(exc), icon=":material/block:")
        else:
            st.rerun()

if session.live is not None:
    with chat_area:
        stream_answer(session, leftovers=max(0, drawn - len(session.turns) - 1))
