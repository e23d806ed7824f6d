"""The chat page draws the latest messages of a long chat, never an answer without its prompt."""

from chat_core.chat.history_window import HISTORY_WINDOW, earlier_label, history_start


def roles(turns: int) -> list[str]:
    return ["user", "assistant"] * turns


def test_a_short_chat_is_drawn_whole():
    assert history_start(roles(3)) == 0
    assert history_start(roles(HISTORY_WINDOW // 2)) == 0
    assert history_start([]) == 0


def test_a_long_chat_draws_the_latest_window():
    chat = roles(200)
    start = history_start(chat)
    assert len(chat) - start == HISTORY_WINDOW
    assert chat[start] == "user"


def test_the_window_never_starts_on_an_answer():
    chat = ["user", "assistant", "user", "assistant", "assistant", "user"]
    assert history_start(chat, shown=2) == 2  # back from the answer to its prompt
    assert history_start(chat, shown=3) == 2
    assert history_start(["assistant", "assistant", "user"], shown=2) == 0


def test_asking_for_more_than_there_is_draws_everything():
    assert history_start(roles(10), shown=1000) == 0


def test_the_button_says_how_many_are_hidden():
    assert earlier_label(1) == "Show 1 earlier message"
    assert earlier_label(360) == "Show 360 earlier messages"
