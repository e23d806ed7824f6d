"""The chat page: title, history, prompt, streaming answer; chats and settings in the sidebar.

It reads like Streamlit's chat tutorial; the parts live beside it: the sidebar's chat
list (``chat_sidebar``), settings (``settings_panel``) and account (``identity``, ``login``), the
history (``history``) and the live answer (``live_answer``).
"""

from pathlib import Path

import streamlit as st

from app_pages.attachments_view import checked_files, sent_files, without_refused_images
from app_pages.chat_sidebar import sidebar_chats, sidebar_usage
from app_pages.history import ChatView, show_history
from app_pages.identity import (
    budget_refusal,
    budgeted,
    chat_session,
    current_identity,
    keep_browser_token,
)
from app_pages.live_answer import keep_prompt, prompt_input, stop_button, stream_answer
from app_pages.login import login_gate, login_notices, sidebar_account
from app_pages.settings_panel import sidebar_settings
from app_pages.store_errors import store_trouble
from app_pages.stores import open_default_store
from app_pages.tool_steps import go_on_after_tools, reset_auto_steps, tools_settings
from app_pages.workbench import sidebar_schema, with_variables
from app_pages.workbench_presets import sidebar_presets
from chat_core import (
    ChatError,
    ChatSession,
    Settings,
    directive_list,
    load_settings,
    model_caption,
    with_listening_address,
)

HERE = Path(__file__).parent


def install_behaviour() -> None:
    """Follow-the-answer scrolling, Esc for Stop, one-click Copy (chat_behaviour.js)."""
    css = (HERE / "chat_behaviour.css").read_text()
    js = (HERE / "chat_behaviour.js").read_text()
    st.html(f"<style>{css}</style><script>{js}</script>", unsafe_allow_javascript=True)


def follow_url(session: ChatSession) -> None:
    """The URL names the open chat: on a reload, and when Back or Forward changes it.

    Streamlit pushes a history entry when the page changes the query string and reruns
    with the old one on Back; the chat the page last wrote tells the two apart.
    """
    wanted = st.query_params.get("c", "")
    written = st.session_state.get("url_chat")
    if wanted == written or wanted == (session.conversation_id or ""):
        return
    if not wanted:
        session.new_conversation()
    elif not session.open(wanted):
        del st.query_params["c"]


def write_url(session: ChatSession) -> None:
    """Name the open chat in the URL (a new history entry: Back returns to the last one)."""
    if session.conversation_id is not None:
        st.query_params["c"] = session.conversation_id
    elif "c" in st.query_params:
        del st.query_params["c"]
    st.session_state["url_chat"] = session.conversation_id or ""


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
                "`.streamlit/secrets.toml`, or enter a key in the sidebar. A prompt may start "
                f"with directives, one a line: {directive_list()}.",
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
if not login_gate(base, store, identity):  # CHAT_REQUIRE_LOGIN: anonymous visitors only log in
    st.stop()
session = chat_session(store, identity)
with store_trouble("This chat may be out of date"):  # the database away: chat on from memory
    follow_url(session)
    session.sync()  # another tab's turns; an answer that went on or finished elsewhere
install_behaviour()
with st.sidebar:
    sidebar_account(store, identity)
    chat_list = st.container()  # drawn once the prompt is stored: a new chat is listed
settings, backend, params, problem = sidebar_settings(base)
backend = budgeted(backend, base, settings, store, identity)
backend = without_refused_images(backend)  # the model said it cannot read images
prices = sidebar_usage(session, settings or base)
with st.sidebar:
    keep_browser_token()

st.title("Streaming chat")
# Presets and a JSON schema, in a popover: the sidebar has no room left at 800 px.
with st.popover("Workbench", icon=":material/science:", key="workbench"):
    sidebar_presets(store, session.owner)  # picking one fills the settings panel
    params, schema_problem = sidebar_schema(params)  # a JSON schema: structured output
    params, tools_problem = tools_settings(params, session.conversation_id)  # per chat
if (schema_problem or tools_problem) is not None:  # nothing is sent until they are fixed
    backend, problem = None, schema_problem or tools_problem
show_model_notice(settings, problem)
login_notices(store, identity)  # a refused login; this browser's chats offered to the account

if error := st.session_state.pop("edit_error", None):
    st.error(error, icon=":material/block:")
# The prompt is taken before the messages are drawn, into places made for it below them:
# the answer then streams in the run that stored the prompt, with no whole-page rerun first.
chat_area = st.container()  # the messages: positions in it are counted, see stream_answer
notes_area = st.container()  # tool steps' and the database's notes
prompt_area = st.container()  # a template's fields, a budget's refusal
kind = settings.resolved_backend if settings is not None else "unset"  # no directives
view = ChatView(session, backend, params, prices, settings, backend_kind=kind)

prompt, input_row = prompt_input(session, can_answer=backend is not None)
files = sent_files()  # the prompt's files and pasted images, checked below
typed = prompt
with prompt_area:
    prompt, params, stored = with_variables(prompt, params)  # {{name}}: fields, then send
files = files if prompt is not None or not typed else []  # a held template sends no files
if ((prompt and prompt.strip()) or files) and backend is not None:  # a blank one: quietly ignored
    try:
        attached = checked_files(files, base, session)  # a bad file: named with its limit
        refusal = budget_refusal(backend)  # nothing is stored or sent past the budget
        sent = (
            None
            if refusal
            else session.submit(
                prompt or "", backend, params, stored_params=stored, attachments=attached
            )
        )
        reset_auto_steps()
    except ChatError as exc:  # bad input or the database away: the text goes back in the input
        again = " Attach the files again." if files else ""
        keep_prompt(prompt or "", f"**Not sent:** {exc}{again}", error=True)
        st.rerun()
    if refusal:
        prompt_area.warning(refusal, icon=":material/hourglass_bottom:")
    elif sent is None:  # an answer is streaming (maybe another tab's): keep the text
        keep_prompt(prompt or "")
        st.rerun()
stop_button(input_row, session)
write_url(session)  # a new chat's id too: a reload mid-answer comes back to it
with chat_list, store_trouble("The chat list is unavailable"):
    sidebar_chats(store, session)

drawn = st.session_state.get("messages_drawn", 0)
with chat_area:
    shown = show_history(view)
st.session_state["messages_drawn"] = max(shown, 1)
with notes_area:
    go_on_after_tools(session, backend, params)  # every call answered: the model goes on
    if session.live is None and (notice := session.unsaved_notice()):
        st.warning(notice, icon=":material/database_off:")

if session.live is not None:
    with chat_area:
        stream_answer(session, leftovers=max(0, drawn - shown - 1), backend=backend)
