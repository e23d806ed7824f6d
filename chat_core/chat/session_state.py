"""A chat session's state: its turns, the live answer and its phase, and the conversation shown.

``ChatSession`` (``session.py``) is this state plus what users do with it. Here:
the fields the page reads, the answer's phase, what the model is sent, and which
stored conversation is shown, kept in step with the store: ``open`` and ``sync``
re-read it and re-attach to an answer still streaming in this process
(``chat_core.chat.live``), or mark a ``streaming`` row no run produces any more
as interrupted. Nothing here starts or stops a run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chat_core.chat.live import LIVE_ANSWERS, LiveAnswer, LiveAnswers
from chat_core.chat.pricing import ModelPrice, UsageSummary, conversation_usage
from chat_core.chat.saving import FINAL_SAVE_DELAYS_S, UNSAVED, Backoff, UnsavedAnswers
from chat_core.chat.turns import ChatTurn
from chat_core.errors import StoreError
from chat_core.messages import Attachment, ChatMessage
from chat_core.metrics import SessionStats
from chat_core.runs import Run
from chat_core.storage.records import StoredConversation
from chat_core.storage.store import ChatStore
from chat_core.tools.steps import ToolStep, tool_messages

Phase = Literal["idle", "streaming", "finished"]


@dataclass(frozen=True)
class _Answer:
    role: str
    model: str | None
    metrics: Mapping[str, Any]


def _signature(stored: StoredConversation) -> tuple[Any, ...]:
    shown = tuple(
        (m.id, m.status, len(m.content), m.content[-32:], m.feedback, m.model)
        for m in stored.messages
    )
    return shown, tuple(sorted(stored.siblings.items())), stored.total_messages


@dataclass
class SessionState:
    """Turns, the live answer (if any), the session's aggregates, and the store link."""

    turns: list[ChatTurn] = field(default_factory=list)
    live: LiveAnswer | None = None
    stats: SessionStats = field(default_factory=SessionStats)
    store: ChatStore | None = None
    conversation_id: str | None = None
    owner: str = ""  # whose chats these are; the store refuses an empty owner
    version: int = 0  # bumped whenever what the page shows changes: stale clicks compare it
    live_answers: LiveAnswers = field(default=LIVE_ANSWERS, repr=False)
    _last_save: float = 0.0  # when ChatSession.save_partial last wrote the text so far
    _save_backoff: Backoff = field(default_factory=Backoff, repr=False)  # after failed saves
    unsaved: UnsavedAnswers = field(default=UNSAVED, repr=False)
    final_save_delays_s: tuple[float, ...] = field(default=FINAL_SAVE_DELAYS_S, repr=False)
    _signature: tuple[Any, ...] = ()  # () forces the next sync to read the path again
    _stamp: tuple[Any, ...] | None = None  # the store's conversation_stamp at the last read
    shown: StoredConversation | None = None  # the stored conversation last read (the sidebar's)
    _usage: tuple[int, list[_Answer]] | None = None  # (version, every version's answers)
    _files: dict[int, tuple[Attachment, ...]] = field(default_factory=dict, repr=False)

    # -- the answer's phase --------------------------------------------------------------------
    @property
    def phase(self) -> Phase:
        if self.live is None:
            return "idle"
        return "finished" if self.live.run.finished else "streaming"

    @property
    def streaming(self) -> bool:
        """True while an answer is live (streaming, or finished and not yet in the turns)."""
        return self.live is not None

    @property
    def run(self) -> Run | None:
        return self.live.run if self.live else None

    def may_start(self, expected: int | None = None) -> bool:
        """Whether an action may start an answer now (idle, and the chat is as it was drawn)."""
        return self.live is None and (expected is None or expected == self.version)

    def unsaved_notice(self) -> str | None:
        """Why the live or last answer is not (yet) in the database, to show beside it."""
        if self.live is not None:
            return self.unsaved.get(self.live.message_id)
        last = self.turns[-1] if self.turns else None
        return self.unsaved.get(last.message_id) if last is not None else None

    def model_history(self, turns: list[ChatTurn] | None = None) -> list[ChatMessage]:
        """What the model is sent: the texts exactly as produced, empty answers left out;
        prompts with their files (the APIs keep no state: a model sees an earlier image
        only when it is sent again; the per-chat cap bounds what that costs)."""
        chosen = self.turns if turns is None else turns
        self._load_files(chosen)
        out: list[ChatMessage] = []
        for t in chosen:
            files = self.files_of(t)
            if t.tool_steps:  # the calls and their results (chat_core.tools.steps)
                out += tool_messages(t.content, t.tool_steps)
            elif t.content or files:
                out.append(ChatMessage(t.role, t.content, files))
        return out

    def files_of(self, turn: ChatTurn) -> tuple[Attachment, ...]:
        """A prompt's files: its own (just sent), else the store's (read once, then kept)."""
        if turn.role != "user" or turn.attachments:
            return turn.attachments
        if turn.message_id is not None and turn.message_id not in self._files:
            self._load_files([turn])
        return self._files.get(turn.message_id or -1, ())

    def _load_files(self, turns: list[ChatTurn]) -> None:
        """One query for the prompts whose files are not known yet (a message's never change)."""
        wanted = [
            t.message_id
            for t in turns
            if t.role == "user" and t.message_id is not None and t.message_id not in self._files
        ]
        if not wanted or self.store is None:
            return
        try:
            found = self.store.attachments_of(self.owner, wanted)
        except StoreError:  # the database away: the text goes on its own, tried again next time
            return
        for message_id in wanted:
            self._files[message_id] = tuple(found.get(message_id, ()))

    def attachment_bytes(self) -> int:
        """What this chat's files already weigh, for the per-chat cap."""
        if self.store is not None and self.conversation_id is not None:
            return self.store.attachment_bytes(self.owner, self.conversation_id)
        return sum(len(a.data) for t in self.turns for a in t.attachments)

    def usage(self, prices: Mapping[str, ModelPrice]) -> UsageSummary:
        """Tokens and estimated cost over this conversation's answers, every version counted
        (they were paid for); read from the store once per change of what is shown."""
        answers = [_Answer(t.role, t.model, t.metrics_dict) for t in self.turns]
        if self.store is not None and self.conversation_id is not None:
            if self._usage is None or self._usage[0] != self.version:
                stored = self.store.answer_metrics(self.owner, self.conversation_id)
                self._usage = (self.version, [_Answer("assistant", *a) for a in stored])
            answers = self._usage[1]
        return conversation_usage(answers, prices)

    # -- the conversation shown ----------------------------------------------------------------
    def open(self, conversation_id: str) -> bool:
        """Show a stored conversation, re-attached to its live answer if one is streaming."""
        stored = self._read(conversation_id)
        if stored is None:
            return False
        self._detach()
        self.conversation_id = conversation_id
        self._stamp = None
        self._load(stored)
        return True

    def sync(self) -> bool:
        """Catch up with the store while idle (another tab's turns); True if anything changed.

        Every rerun calls it: one small query says whether anything shown moved, and only
        then is the path read again (a long chat's path is most of a rerun's database time).

        Raises StoreError when the database is away; the turns shown stay as they are.
        """
        if self.live is not None or self.store is None or self.conversation_id is None:
            return False
        stamp = self.store.conversation_stamp(self.owner, self.conversation_id)
        if stamp is not None and stamp == self._stamp and self._signature:
            return False
        stored = self._read(self.conversation_id)
        if stored is None:  # deleted elsewhere
            self.new_conversation()
            return True
        self._stamp = stamp  # taken before the read: a change in between shows next time
        return self._load(stored)

    def _read(self, conversation_id: str) -> StoredConversation | None:
        """The conversation's active path (not its whole tree: this runs on every rerun)."""
        if self.store is None:
            return None
        stored = self.store.get_conversation(self.owner, conversation_id)
        if stored is None:
            return None
        last = stored.messages[-1] if stored.messages else None
        if last is not None and last.status == "streaming" and not self.live_answers.get(last.id):
            # Its run may have finished between the read and the look-up: the run stores the
            # final answer before it leaves the registry, so a second read sees it.
            stored = (
                self.store.get_conversation(self.owner, conversation_id) if self.store else None
            )
        return stored

    def _load(self, stored: StoredConversation) -> bool:
        self.shown = stored
        signature = _signature(stored)
        if signature == self._signature and self.live is None:
            return False
        messages = stored.messages
        turns = [ChatTurn.from_stored(m, stored.siblings.get(m.id, ())) for m in messages]
        self._attach_tool_steps(turns)
        last = messages[-1] if messages else None
        if last is not None and last.status == "streaming":
            live = self.live_answers.get(last.id)
            if live is not None:
                self.live = live  # re-attach: the page streams it from where it is
                turns.pop()
            else:  # no run is producing it any more: say so, never a frozen "streaming"
                turns[-1].status = "interrupted"
        self.turns = turns
        self._signature = signature
        self._bump()
        return True

    def _attach_tool_steps(self, turns: list[ChatTurn]) -> None:
        """The stored calls of the answers that made some, with their results (one query)."""
        asked = [t.message_id for t in turns if t.tool_names and t.message_id is not None]
        if self.store is None or not asked:
            return
        stored = self.store.tool_calls_of(self.owner, asked)
        for turn in turns:
            rows = stored.get(turn.message_id or -1, [])
            turn.tool_steps = [ToolStep(r.call, r.result, r.is_error) for r in rows]

    def new_conversation(self) -> None:
        """An empty chat; it is stored once its first prompt is sent."""
        self._detach()
        self.conversation_id = None
        self.turns = []
        self.shown = None
        self._signature = ()
        self._bump()

    def _detach(self) -> None:
        self.live = None  # not a cancel: the run goes on and its finish callback stores it

    def _bump(self) -> None:
        self.version += 1
