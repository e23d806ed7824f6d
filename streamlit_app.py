"""Entry point: page config and navigation (`make run` or `streamlit run streamlit_app.py`)."""

import streamlit as st

from app_pages.login import anonymous_behind_login

st.set_page_config(page_title="Streaming chat", page_icon="💬", layout="centered")

pages = [
    st.Page("app_pages/chat.py", title="Chat", icon=":material/chat:", default=True),
    st.Page("app_pages/diagnostics.py", title="Diagnostics", icon=":material/monitoring:"),
]
if anonymous_behind_login():  # CHAT_REQUIRE_LOGIN: only the chat page's Log in until then
    pages = pages[:1]
st.navigation(pages).run()
