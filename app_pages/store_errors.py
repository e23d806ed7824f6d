"""The chat page while its database fails: a short note where a part could not be read.

A database that restarts or fills up is met by a deployed app; the page stays
usable (the chat on screen, the prompt input, the answer streaming) and says
which part is missing, instead of Streamlit's error box over the whole page.
"""

import contextlib
import logging

import streamlit as st

from chat_core import StoreError, save_problem

log = logging.getLogger(__name__)


@contextlib.contextmanager
def store_trouble(what: str):
    """Run a part of the page; if the database fails, say so in one line and go on."""
    try:
        yield
    except StoreError as exc:
        log.warning("%s: %s", what, exc)  # the driver's line, for the owner
        st.warning(f"{what}: {save_problem(exc)}.", icon=":material/database_off:")
