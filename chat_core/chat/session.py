"""A chat session's state, without Streamlit: turns, the live answer, and what users do.

The chat page keeps one ``ChatSession`` in ``st.session_state``. Its answer is in
one of three phases, which every control reads:

    idle        no answer streams: prompts, Retry, Edit, Clear may start one
    streaming   a run produces the answer: only Stop acts on it
    finished    the run is done; ``finish()`` moves it into the turns (back to idle)

An action that is not allowed in the current phase, or that was shown for an
older state of the chat (``expected`` is the ``version`` the page drew the
button with: a click that arrives late), is ignored and returns None: a late
click is never an exception.

The run lives on in the process (``chat_core.chat.live``), so a rerun, a switch
of chats, a reload or a second tab re-attaches to it. With a ``ChatStore`` the
session writes through: the prompt when it is sent, the answer as a
``streaming`` row grown by ``save_partial`` and finalised by a finish callback
on the run itself, so an answer still lands in the database when no page is
watching. Status and errors are kept beside the text, never inside it.

Here: what users do. The fields, the phase and the stored conversation shown
are ``SessionState`` (``session_state.py``); how an answer's run starts and
ends as a turn is ``answering.py``.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chat_core.backends.base import Backend
from chat_core.chat.answering import finished_turn, metrics_of, start_answer
from chat_core.chat.live import RunKind
from chat_core.chat.saving import save_problem, streaming_notice
from chat_core.chat.session_state import Phase, SessionState
from chat_core.chat.turns import ChatTurn
from chat_core.errors import StoreError
from chat_core.messages import (
    CONTINUE_PROMPT,
    Attachment,
    Conversation,
    GenerationParams,
    build_conversation,
)
from chat_core.runs import Run
from chat_core.tools.calls import check_result
from chat_core.tools.steps import all_answered

# The text so far is stored once a second: another tab and a restarted server see it; a
# reload in this process re-attaches to the live run itself. Every half second was 12% of
# the server's Python time with 10 visitors streaming (py-spy, docs/benchmarks.md).
PARTIAL_SAVE_S = 1.0

__all__ = ["CONTINUE_PROMPT", "ChatSession", "Phase", "RunKind"]


@dataclass
class ChatSession(SessionState):
    """A session's state (``SessionState``) and what users do: send, retry, edit, stop, clear,
    switch versions, fork."""

    # -- the conversation ----------------------------------------------------------------------
    def delete_conversation(self, *, expected: int | None = None) -> None:
        """Delete this chat (stopping its answer) and show an empty one."""
        if expected is not None and expected != self.version:
            return
        self.stop()
        if self.store is not None and self.conversation_id is not None:
            self.store.delete(self.owner, self.conversation_id)
        self.new_conversation()

    def clear(self, *, expected: int | None = None) -> list[ChatTurn] | None:
        """Stop any answer and empty this chat (stored messages too); returns what was cleared."""
        if expected is not None and expected != self.version:
            return None
        self.stop()
        self.live = None
        if self.store is not None and self.conversation_id is not None:
            self.store.truncate_after(self.owner, self.conversation_id, -1)
        cleared, self.turns = self.turns, []
        self._signature = ()
        self._bump()
        return cleared

    # -- sending -------------------------------------------------------------------------------
    def submit(
        self,
        prompt: str,
        backend: Backend,
        params: GenerationParams,
        *,
        stored_params: Mapping[str, Any] | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Run | None:
        """Validate, store and send a prompt; ValidationError if bad, StoreError if not stored.

        Either way nothing is sent and the page can put the prompt back in the input.

        None (nothing sent) while another answer is live. ``stored_params``: kept beside
        the prompt (a ``{{variable}}`` template and its values, chat_core.workbench).
        ``attachments``: its files, already checked (``chat_core.attachments``), stored
        with it in one transaction.
        """
        conversation = build_conversation(prompt, self.model_history(), attachments)
        if not self.may_start():
            return None
        stored = None
        if self.store is not None:
            try:
                if self.conversation_id is None:
                    self.conversation_id = self.store.create_conversation(self.owner).id
                stored = self.store.add_message(
                    self.owner,
                    self.conversation_id,
                    "user",
                    prompt,
                    params=stored_params,
                    attachments=attachments,
                )
                self._files[stored.id] = attachments
            except StoreError as exc:  # nothing is sent that could not be stored
                raise _not_sent(exc) from exc
        self.turns.append(
            ChatTurn(
                "user",
                prompt,
                message_id=stored.id if stored else None,
                params=dict(stored_params or {}),
                attachments=attachments,
            )
        )
        try:
            return self._start(backend, conversation, params, "new")
        except StoreError as exc:  # the answer's row: take the prompt back, to be sent again
            self.turns.pop()
            if self.store is not None and stored is not None:
                with contextlib.suppress(StoreError):  # else it stays, a prompt with no answer
                    self.store.delete_version(self.owner, stored.id)
            raise _not_sent(exc) from exc

    def retry(
        self, backend: Backend, params: GenerationParams, *, expected: int | None = None
    ) -> Run | None:
        """Answer the last prompt again (Regenerate: a new version beside the earlier ones;
        Retry of an errored, stopped or interrupted answer: in that version's place)."""
        turns = self.turns[:-1] if self.turns and self.turns[-1].role == "assistant" else self.turns
        if not self.may_start(expected) or not turns or turns[-1].role != "user":
            return None
        history = self.model_history(turns[:-1])
        conversation = build_conversation(turns[-1].content, history, self.files_of(turns[-1]))
        replaced = self.turns[-1] if len(self.turns) > len(turns) else None
        if replaced is not None and replaced.resumable and replaced.message_id is not None:
            self._delete_version(replaced.message_id)
        elif replaced is not None and self.store is None:
            del self.turns[-1]  # without a store there are no versions: the answer is replaced
        return self.answer_again(len(turns) - 1, backend, params, conversation)

    def answer_again(
        self,
        index: int,
        backend: Backend,
        params: GenerationParams,
        conversation: Conversation | None = None,
    ) -> Run:
        """A new answer to the prompt at ``index``, a sibling of its earlier answers (what
        Regenerate does; Compare adds its lanes this way, one per answer)."""
        prompt = self.turns[index]
        if conversation is None:
            history = self.model_history(self.turns[:index])
            conversation = build_conversation(prompt.content, history, self.files_of(prompt))
        del self.turns[index + 1 :]
        try:
            return self._start(backend, conversation, params, "retry", parent_id=prompt.message_id)
        except BaseException:
            self._signature = ()  # refused (e.g. too many versions): show the store's path again
            raise

    def edit(
        self,
        index: int,
        text: str,
        backend: Backend,
        params: GenerationParams,
        *,
        expected: int | None = None,
        stored_params: Mapping[str, Any] | None = None,
    ) -> Run | None:
        """Send a new version of a user message (a new branch); the old one, with every
        later turn, stays a version to switch back to.

        ``stored_params``: the new version's template and values (chat_core.workbench).
        """
        if not self.may_start(expected) or not 0 <= index < len(self.turns):
            return None
        turn = self.turns[index]
        if turn.role != "user":
            return None
        files = self.files_of(turn)  # the new version keeps the prompt's files
        history = self.model_history(self.turns[:index])
        conversation = build_conversation(text, history, files)
        message_id = None
        kept = dict(stored_params or {})
        if self.store is not None and self.conversation_id is not None:
            parent = self.turns[index - 1].message_id if index else None
            message_id = self.store.add_message(
                self.owner,
                self.conversation_id,
                "user",
                text,
                parent_id=parent,
                params=kept,
                attachments=files,
            ).id
            self._files[message_id] = files
        # its versions show at once: a switch back needs no wait for the answer to end
        before = turn.siblings or tuple(i for i in (turn.message_id,) if i is not None)
        versions = (*before, message_id) if message_id is not None else ()
        del self.turns[index:]
        self.turns.append(
            ChatTurn(
                "user",
                text,
                message_id=message_id,
                siblings=versions,
                params=kept,
                attachments=files,
            )
        )
        return self._start(backend, conversation, params, "retry")

    # -- versions and branches -----------------------------------------------------------------
    def switch_version(self, message_id: int, *, expected: int | None = None) -> bool:
        """Show the branch through ``message_id`` (a version of a shown message), even while an
        answer streams: that answer goes on in its branch, and showing it again re-attaches.
        An unknown or foreign id raises NotFoundError and changes nothing."""
        if expected is not None and expected != self.version:
            return False
        if self.store is None or self.conversation_id is None:
            return False
        self.store.switch_version(self.owner, message_id)
        self._detach()
        self._signature = ()
        return self.sync()

    def fork(self, message_id: int) -> str | None:
        """Branch in new chat: the path down to ``message_id`` as a new conversation, shown."""
        if self.store is None:
            return None
        forked = self.store.fork(self.owner, message_id)
        self.open(forked.id)
        return forked.id

    def delete_version(self, message_id: int, *, expected: int | None = None) -> bool:
        """Delete one version of a message and everything after it on its branch (its subtree
        only); the branch beside it is shown. Not while an answer streams."""
        if not self.may_start(expected) or self.store is None:
            return False
        self.store.delete_version(self.owner, message_id)
        self._signature = ()
        self.sync()
        return True

    def _delete_version(self, message_id: int) -> None:
        if self.store is not None:
            self.store.delete_version(self.owner, message_id)
        del self.turns[-1]

    def continue_answer(
        self, backend: Backend, params: GenerationParams, *, expected: int | None = None
    ) -> Run | None:
        """Ask the model to go on from a stopped or interrupted answer; the text is appended."""
        if not self.may_start(expected):
            return None
        if not self.turns or not self.turns[-1].resumable or not self.turns[-1].content:
            return None
        conversation = build_conversation(CONTINUE_PROMPT, self.model_history())
        return self._start(backend, conversation, params, "continue")

    # -- tool calls ----------------------------------------------------------------------------
    def answer_tool(
        self, index: int, position: int, result: str, *, is_error: bool = False
    ) -> None:
        """Give one call of the answer at ``index`` its result (stored first; LimitError when
        too long, and nothing changes)."""
        if not 0 <= index < len(self.turns) or not 0 <= position < len(
            self.turns[index].tool_steps
        ):
            return
        turn = self.turns[index]
        check_result(result)
        if self.store is not None and turn.message_id is not None:
            self.store.answer_tool_call(
                self.owner, turn.message_id, position, result, is_error=is_error
            )
        step = turn.tool_steps[position]
        step.result, step.is_error = result, is_error
        self._bump()

    def go_on_after_tools(
        self, backend: Backend, params: GenerationParams, *, expected: int | None = None
    ) -> Run | None:
        """The model's next answer once every call of the last answer has a result."""
        if not self.may_start(expected) or not self.turns:
            return None
        last = self.turns[-1]
        if last.role != "assistant" or not all_answered(last.tool_steps):
            return None
        conversation = Conversation(tuple(self.model_history()))
        return self._start(backend, conversation, params, "new")

    def set_feedback(self, index: int, value: int) -> None:
        """Thumbs up (1), down (-1) or none (0) on an answer."""
        if not 0 <= index < len(self.turns):
            return
        turn = self.turns[index]
        if self.store is not None and turn.message_id is not None:
            self.store.update_message(self.owner, turn.message_id, feedback=value)
        turn.feedback = value  # after the write: a failed one (StoreError) changes nothing

    def _start(
        self,
        backend: Backend,
        conversation: Conversation,
        params: GenerationParams,
        kind: RunKind,
        *,
        parent_id: int | None = None,
    ) -> Run:
        # A continued answer leaves the turns while it streams: the live answer shows it
        # whole, once (issue: it was shown twice).
        continued = self.turns.pop() if kind == "continue" else None
        try:
            live = start_answer(
                backend,
                conversation,
                params,
                kind,
                continued=continued,
                store=self.store,
                owner=self.owner,
                conversation_id=self.conversation_id,
                registry=self.live_answers,
                parent_id=parent_id,
                final_save_delays_s=self.final_save_delays_s,
                unsaved=self.unsaved,
            )
        except StoreError:  # its row could not be written: nothing started, nothing lost
            if continued is not None:
                self.turns.append(continued)
            raise
        self.live = live
        self._bump()
        return live.run

    # -- while streaming -----------------------------------------------------------------------
    def save_partial(self, *, now: float | None = None) -> None:
        """Store the text so far, at most every PARTIAL_SAVE_S (called while rendering)."""
        now = time.monotonic() if now is None else now
        live = self.live
        if self.store is None or live is None or live.message_id is None or live.run.finished:
            return
        if now - self._last_save < PARTIAL_SAVE_S or not self._save_backoff.due(now):
            return
        self._last_save = now
        try:
            self.store.update_partial(self.owner, live.message_id, live.text)  # type: ignore[arg-type]
        except StoreError as exc:  # the stream goes on; the run keeps the text; try again later
            self._save_backoff.failed(now)
            self.unsaved.set(live.message_id, streaming_notice(save_problem(exc)))
        else:
            if self._save_backoff.failures:  # back: the notice goes, the text is in
                self._save_backoff.reset()
                self.unsaved.clear(live.message_id)

    def finish(self) -> ChatTurn | None:
        """Move a finished answer into the turns (back to idle); None while it streams."""
        live = self.live
        if live is None or not live.run.finished:
            return None
        metrics = metrics_of(live.run)
        self.stats.add(metrics)
        turn = finished_turn(live, metrics)
        self.turns.append(turn)
        self.live = None
        self._signature = ()  # the store now holds the final answer: re-read it next sync
        self._bump()
        return turn

    def stop(self) -> None:
        """Cancel the live answer; the partial text is kept, marked stopped. Late: a no-op."""
        if self.live is not None:
            self.live.run.cancel()


def _not_sent(exc: StoreError) -> StoreError:
    return StoreError(
        f"{save_problem(exc)[:1].upper()}{save_problem(exc)[1:]}. Your prompt is back in the input."
    )
