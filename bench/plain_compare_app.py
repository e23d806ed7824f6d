"""The compare benchmark's baseline: 4 columns, each a plain ``st.write_stream`` of its run.

The four runs start at once on the background loop (as Compare's do); a plain page can
only draw them one after another, since ``st.write_stream`` blocks: column 2 catches up
in one burst when column 1 ends. Raw text, one write per chunk. Run by
``python -m bench compare``, never by users.
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

LANES = 4
backend = OfflineBackend(tokens_per_second=load_settings().offline_tps)
st.set_page_config(layout="wide")


if prompt := st.chat_input("Send to every lane"):
    conversation = build_conversation(prompt, [])
    runs = [
        start_run(lambda: backend.astream(conversation, GenerationParams())) for _ in range(LANES)
    ]
    for k, column in enumerate(st.columns(LANES)):
        with column, st.container(key=f"lane-{k}"):
            st.write_stream(texts(runs[k]))
