"""The render benchmark's baseline: plain ``st.write_stream`` of the raw text, one chunk a token.

Same offline back end (``CHAT_OFFLINE_TPS``) and the same ``Run`` as the chat
page; only the rendering differs. Run by ``python -m bench render``, never by users.
"""

from collections.abc import Iterator

import streamlit as st

from chat_core import (
    GenerationParams,
    OfflineBackend,
    Run,
    TextDelta,
    build_conversation,
    load_settings,
    start_run,
)

backend = OfflineBackend(tokens_per_second=load_settings().offline_tps)


def texts(run: Run) -> Iterator[str]:
    """Every text chunk as it arrives, one write per chunk (no coalescing: the baseline)."""
    seq = 0
    while not (run.finished and seq >= run.last_seq):
        batch = run.read(seq, 0.1)
        seq += len(batch)
        yield from (e.text for e in batch if isinstance(e, TextDelta))


if prompt := st.chat_input("Ask anything"):
    with st.chat_message("user"):
        st.markdown(prompt)
    conversation = build_conversation(prompt, [])
    run = start_run(lambda: backend.astream(conversation, GenerationParams()))
    with st.chat_message("assistant"):
        st.write_stream(texts(run))
