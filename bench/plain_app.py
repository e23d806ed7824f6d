"""The render benchmark's baseline: plain ``st.write_stream`` of the raw text, one chunk a token.

Same offline back end (``CHAT_OFFLINE_TPS``) and the same ``Run`` as the chat
page; only the rendering differs. Run by ``python -m bench render``, never by users.
"""

import streamlit as st

from bench.run_texts import texts
from chat_core import (
    GenerationParams,
    OfflineBackend,
    build_conversation,
    load_settings,
    start_run,
)

backend = OfflineBackend(tokens_per_second=load_settings().offline_tps)


if prompt := st.chat_input("Ask anything"):
    with st.chat_message("user"):
        st.markdown(prompt)
    conversation = build_conversation(prompt, [])
    run = start_run(lambda: backend.astream(conversation, GenerationParams()))
    with st.chat_message("assistant"):
        st.write_stream(texts(run))
