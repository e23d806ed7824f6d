"""Entry point: page config and navigation (`make run` or `streamlit run streamlit_app.py`)."""

import gc

import streamlit as st


@st.cache_resource(show_spinner=False)
def freeze_startup_heap() -> bool:
    """Once per process, after the first run has imported everything: a cheap ``gc.collect``.

    Streamlit runs a full garbage collection after every script run (``runner.postScriptGC``),
    and a full collection walks every object of the process: the modules of Streamlit,
    SQLAlchemy, markdown-it and the rest, about 60-100 ms of CPU here, three times per
    answer (docs/benchmarks.md). Frozen, those objects are left out of every later
    collection, while what sessions create is still collected.
    """
    gc.collect()
    gc.freeze()
    return True


st.set_page_config(page_title="Streaming chat", page_icon="💬", layout="centered")

pages = [
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app_pages/diagnostics.py", title="Diagnostics", icon=":material/monitoring:"),
]
try:
    st.navigation(pages).run()
finally:  # also when the page ends with st.rerun()
    freeze_startup_heap()
