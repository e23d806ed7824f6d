"""Entry point: page config and navigation (`make run` or `streamlit run streamlit_app.py`)."""

import streamlit as st

st.set_page_config(page_title="Streaming chat", page_icon="💬", layout="centered")

pages = [
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app_pages/diagnostics.py", title="Diagnostics", icon=":material/monitoring:"),
]
st.navigation(pages).run()
