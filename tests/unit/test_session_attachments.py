"""ChatSession with files: stored with the prompt, resent on later turns, on Retry and Edit."""

from __future__ import annotations

from collections.abc import Iterator

from chat_core import GenerationParams, OfflineBackend
from chat_core.attachments import prepare_files
from chat_core.chat.session import ChatSession
from chat_core.events import StreamEvent
from chat_core.messages import Conversation
from chat_core.storage.store import ChatStore
from tests.support.files import pdf, photo
from tests.support.runs import iter_run

PARAMS = GenerationParams()
FILES = prepare_files([("shot.png", photo(40, 30)), ("notes.pdf", pdf("Forty two"))])


class Recording(OfflineBackend):
    """The offline model, keeping every conversation it was sent."""

    def __init__(self) -> None:
        super().__init__(5000)
        self.sent: list[Conversation] = []

    def plan(self, conversation: Conversation, params: GenerationParams, **kw):  # type: ignore[override]
        self.sent.append(conversation)
        return super().plan(conversation, params, **kw)

    def stream(self, conversation: Conversation, params: GenerationParams) -> Iterator[StreamEvent]:
        return super().stream(conversation, params)


def finish(session: ChatSession) -> None:
    assert session.run is not None
    for _ in iter_run(session.run):
        pass
    session.finish()


def names(conversation: Conversation) -> list[list[str]]:
    return [[a.name for a in m.attachments] for m in conversation.messages]


def test_files_are_sent_stored_and_resent_on_later_turns(tmp_path) -> None:
    store = ChatStore(tmp_path / "chats.sqlite3")
    session = ChatSession(store=store, owner="browser:me")
    backend = Recording()
    session.submit("look", backend, PARAMS, attachments=FILES)
    finish(session)
    assert "You attached 2 files" in session.turns[-1].content
    assert session.attachment_bytes() == sum(len(a.data) for a in FILES)

    fresh = ChatSession(store=store, owner="browser:me")  # a reload: files from the store
    assert fresh.open(session.conversation_id or "")
    fresh.submit("and now?", backend, PARAMS)
    finish(fresh)
    assert names(backend.sent[-1]) == [["shot.png", "notes.pdf"], [], []]

    fresh.retry(backend, PARAMS)
    finish(fresh)
    assert names(backend.sent[-1])[0] == ["shot.png", "notes.pdf"]
    store.close()


def test_retry_and_edit_keep_the_prompt_s_files(tmp_path) -> None:
    store = ChatStore(tmp_path / "chats.sqlite3")
    session = ChatSession(store=store, owner="browser:me")
    backend = Recording()
    session.submit("look", backend, PARAMS, attachments=FILES)
    finish(session)
    session.retry(backend, PARAMS)
    finish(session)
    assert names(backend.sent[-1]) == [["shot.png", "notes.pdf"]]
    session.edit(0, "look again", backend, PARAMS)
    finish(session)
    assert names(backend.sent[-1]) == [["shot.png", "notes.pdf"]]
    edited = session.turns[0].message_id
    assert [a.name for a in store.attachments_of("browser:me", [edited])[edited]] == [
        "shot.png",
        "notes.pdf",
    ]
    store.close()
