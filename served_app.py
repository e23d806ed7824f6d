"""The app as an ASGI app, for response headers ``streamlit run streamlit_app.py`` cannot set.

    streamlit run served_app.py        # or: uvicorn served_app:app --port 8501

The same app as ``streamlit_app.py``; responses of the shared page (``/shared``) carry
``X-Robots-Tag: noindex`` (docs/security.md, "Share links").
"""

from pathlib import Path

import streamlit as st
from starlette.middleware import Middleware

from chat_core.sharing.robots import NoIndexShared

app = st.App(Path(__file__).with_name("streamlit_app.py"), middleware=[Middleware(NoIndexShared)])
