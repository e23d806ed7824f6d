"""The app's one chat store per process and database, shared by every page that reads chats."""

import streamlit as st

from chat_core import ChatError, ChatStore, Settings


@st.cache_resource(on_release=ChatStore.close)  # a cleared cache closes the connections
def get_store(db_url: str) -> ChatStore:
    """One store per process and database: it is thread-safe and recovers crashed answers."""
    return ChatStore(db_url)


def open_default_store(base: Settings) -> ChatStore:
    try:
        return get_store(base.database_url)
    except ChatError as exc:  # an unwritable or foreign file: chat on, without saving
        st.warning(f"Chats are not saved: {exc}", icon=":material/database_off:")
        return get_store("sqlite://")  # in memory
