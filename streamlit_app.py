"""Entry point: page config and navigation (`make run` or `streamlit run streamlit_app.py`)."""

import gc
import sys

import streamlit as st

from app_pages.login import anonymous_behind_login


@st.cache_resource(show_spinner=False)
def freeze_heap(modules: int) -> int:
    """Leave what is loaded so far out of later garbage collections (once per module count).

    Streamlit runs a full garbage collection after every script run (``runner.postScriptGC``),
    and a full collection walks every object of the process: the modules of Streamlit,
    SQLAlchemy, pandas, markdown-it and the rest, 60-100 ms of CPU here, three times per
    answer (docs/benchmarks.md). Frozen (``gc.freeze``), they are skipped; what sessions
    create later is still collected. Called with ``len(sys.modules)`` after every run, it
    freezes again only when a run imported something new (the first chat, the first answer).
    The price: cycles among objects alive at a freeze (sessions open then) are never
    collected, a bounded cost paid a few times per process.
    """
    gc.collect()
    gc.freeze()
    return modules


st.set_page_config(page_title="Streaming chat", page_icon="💬", layout="centered")

pages = [
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app_pages/compare.py", title="Compare", icon=":material/view_column:"),
    st.Page("app_pages/diagnostics.py", title="Diagnostics", icon=":material/monitoring:"),
    # A share link's page: reached only through a link, never listed (``?t=`` holds the token).
    st.Page("app_pages/shared.py", title="Shared chat", url_path="shared", visibility="hidden"),
]
if anonymous_behind_login():  # CHAT_REQUIRE_LOGIN: only the chat page's Log in until then
    pages = pages[:1]
try:
    current = st.navigation(pages)
    if current.title == "Compare":  # lanes side by side need the whole width
        st.set_page_config(layout="wide")
    current.run()
finally:  # also when the page ends with st.rerun()
    freeze_heap(len(sys.modules))
