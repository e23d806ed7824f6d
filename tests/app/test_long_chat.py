"""A long chat: the page draws its latest messages, earlier ones a window at a time."""

import pytest

from chat_core.chat.history_window import HISTORY_WINDOW
from chat_core.chat.identity import new_browser_token
from chat_core.storage import ChatStore
from chat_core.storage.records import NewMessage
from tests.app.conftest import new_chat_app

pytestmark = pytest.mark.app


def seed(db_path, owner: str, turns: int) -> str:
    store = ChatStore(f"sqlite:///{db_path}")
    try:
        messages = []
        for i in range(turns):
            messages += [NewMessage("user", f"question {i}")]
            messages += [NewMessage("assistant", f"answer {i}")]
        return store.import_conversation(owner, "long", messages).id
    finally:
        store.close()


def shown_messages(at) -> list[str]:
    return [m.markdown[0].value for m in at.chat_message if m.name in ("user", "assistant")]


def test_a_long_chat_shows_its_latest_messages_and_the_rest_on_request(chat_env):
    token = new_browser_token()
    conversation_id = seed(chat_env / "chats.sqlite3", f"browser:{token}", turns=50)
    at = new_chat_app(token, c=conversation_id)
    assert len(at.session_state["chat"].turns) == 100  # all loaded, not all drawn
    shown = shown_messages(at)
    assert len(shown) == HISTORY_WINDOW
    assert shown[0] == "question 30" and shown[-1] == "answer 49"

    more = at.button(key="show-earlier")
    assert more.label == "Show 60 earlier messages"
    more.click().run()
    assert len(shown_messages(at)) == 2 * HISTORY_WINDOW
    at.button(key="show-earlier").click().run()
    assert shown_messages(at)[0] == "question 0"
    assert not [b for b in at.button if b.key == "show-earlier"]


def test_a_new_answer_in_a_long_chat_streams_below_the_window(chat_env):
    token = new_browser_token()
    conversation_id = seed(chat_env / "chats.sqlite3", f"browser:{token}", turns=30)
    at = new_chat_app(token, c=conversation_id)
    at.chat_input[0].set_value("/echo the newest").run()
    assert not at.exception
    shown = shown_messages(at)
    assert shown[-2:] == ["/echo the newest", "the newest"]
    assert len(shown) <= HISTORY_WINDOW + 2
