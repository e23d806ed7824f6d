"""An answer's tool calls and the results typed for them, stored with the conversation.

Rows of ``tool_calls`` keyed by (answer message id, position): the calls in the
order the model made them, each with its result (NULL until answered) and whether
the result is an error. Every call is scoped to the owner through the answer's
conversation, like the messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import and_, delete, insert, select, update

from chat_core.errors import LimitError, NotFoundError
from chat_core.messages import MAX_MESSAGE_CHARS, ToolCall
from chat_core.storage.base import StoreBase
from chat_core.storage.records import check_owner, now_text
from chat_core.storage.schema import conversations, messages, tool_calls

__all__ = ["StoredToolCall", "ToolCalls"]

MAX_STORED_CALLS = 100
MAX_ARGUMENTS_CHARS = 32_000


@dataclass(frozen=True, slots=True)
class StoredToolCall:
    """One call of an answer and its result (None: not answered yet)."""

    message_id: int
    position: int
    call: ToolCall
    result: str | None = None
    is_error: bool = False


class ToolCalls(StoreBase):
    """The tool-call methods of ``ChatStore``."""

    def save_tool_calls(self, owner: str, message_id: int, calls: Sequence[ToolCall]) -> None:
        """Store an answer's calls (replacing any stored before), at most 100."""
        if len(calls) > MAX_STORED_CALLS:
            raise LimitError("tool_calls", f"an answer keeps at most {MAX_STORED_CALLS} calls")
        if any(len(c.arguments) > MAX_ARGUMENTS_CHARS for c in calls):
            raise LimitError("arguments", f"arguments are over {MAX_ARGUMENTS_CHARS} characters")
        with self.db.write() as conn:
            self._message_row(conn, owner, message_id)
            conn.execute(delete(tool_calls).where(tool_calls.c.message_id == message_id))
            if calls:
                conn.execute(
                    insert(tool_calls),
                    [
                        {
                            "message_id": message_id,
                            "position": i,
                            "call_id": c.id,
                            "name": c.name,
                            "arguments": c.arguments,
                        }
                        for i, c in enumerate(calls)
                    ],
                )

    def restore_tool_calls(
        self, owner: str, message_id: int, calls: Sequence[StoredToolCall]
    ) -> None:
        """Store calls with their results as they were (an import), in one transaction."""
        self.save_tool_calls(owner, message_id, [c.call for c in calls])
        answered = [c for c in calls if c.result is not None]
        if any(len(c.result or "") > MAX_MESSAGE_CHARS for c in answered):
            raise LimitError("result", f"a result is over {MAX_MESSAGE_CHARS:,} characters")
        with self.db.write() as conn:
            for position, c in enumerate(calls):
                if c.result is not None:
                    conn.execute(
                        update(tool_calls)
                        .where(
                            tool_calls.c.message_id == message_id,
                            tool_calls.c.position == position,
                        )
                        .values(result=c.result, is_error=int(c.is_error), answered_at=now_text())
                    )

    def answer_tool_call(
        self, owner: str, message_id: int, position: int, result: str, *, is_error: bool = False
    ) -> None:
        """Store the result of one call; NotFoundError when there is no such call."""
        if len(result) > MAX_MESSAGE_CHARS:
            raise LimitError("result", f"the result is over {MAX_MESSAGE_CHARS:,} characters")
        with self.db.write() as conn:
            self._message_row(conn, owner, message_id)
            done = conn.execute(
                update(tool_calls)
                .where(tool_calls.c.message_id == message_id, tool_calls.c.position == position)
                .values(result=result, is_error=int(is_error), answered_at=now_text())
            )
        if not done.rowcount:
            raise NotFoundError("position", "no such tool call")

    def tool_calls_of(
        self, owner: str, message_ids: Iterable[int]
    ) -> dict[int, list[StoredToolCall]]:
        """The calls of these answers (the owner's only), in order, by message id."""
        ids = [i for i in message_ids if isinstance(i, int)]
        if not ids:
            return {}
        query = (
            select(tool_calls)
            .join(messages, messages.c.id == tool_calls.c.message_id)
            .join(
                conversations,
                and_(
                    conversations.c.id == messages.c.conversation_id,
                    conversations.c.owner == check_owner(owner),
                ),
            )
            .where(tool_calls.c.message_id.in_(ids))
            .order_by(tool_calls.c.message_id, tool_calls.c.position)
        )
        out: dict[int, list[StoredToolCall]] = {}
        with self.db.read() as conn:
            for row in conn.execute(query).mappings():
                out.setdefault(row["message_id"], []).append(
                    StoredToolCall(
                        row["message_id"],
                        row["position"],
                        ToolCall(row["call_id"], row["name"], row["arguments"]),
                        row["result"],
                        bool(row["is_error"]),
                    )
                )
        return out
