"""Export to Markdown and JSON, and strict all-or-nothing imports."""

from __future__ import annotations

import copy
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_MESSAGE_CHARS
from chat_core.storage.records import MAX_ANSWER_CHARS, StoredConversation
from chat_core.storage.store import ChatStore
from chat_core.storage.transfer import (
    EXPORT_FORMAT,
    MAX_IMPORT_BYTES,
    MAX_IMPORT_MESSAGES,
    export_filename,
    export_json,
    export_markdown,
    import_json,
    parse_export,
    same_chat,
)

ME = "browser:me"


@pytest.fixture
def store(tmp_path: Path):
    with ChatStore(f"sqlite:///{tmp_path / 'chats.sqlite3'}") as s:
        yield s


def sample(store: ChatStore) -> StoredConversation:
    """A conversation with every kind of message worth exporting."""
    conv = store.create_conversation(ME)
    store.add_message(ME, conv.id, "system", "Be brief.")
    store.add_message(ME, conv.id, "user", 'Ünïcödé, emoji 🚀, a line\u2028separator and "quotes"')
    answer = store.start_answer(ME, conv.id, model="gpt-4o-mini", params={"temperature": 0.7})
    store.update_partial(ME, answer.id, "Here is ")
    store.finish_message(
        ME,
        answer.id,
        "Here is code:\n\n```python\nprint('hi')\n```\n",
        status="complete",
        metrics={"tokens": 12, "prompt_tokens": 30, "first_token_s": 0.1 + 0.2, "error_code": None},
        reasoning="They want code.\n\nPython, then.",
    )
    store.update_message(ME, answer.id, feedback=-1)
    store.add_message(ME, conv.id, "user", "and more?")
    stopped = store.add_message(ME, conv.id, "assistant", "Part", status="stopped", model="gpt-4o")
    store.update_message(ME, stopped.id, feedback=1)
    store.add_message(ME, conv.id, "user", "again")
    store.add_message(
        ME, conv.id, "assistant", "", status="error", metrics={"error_code": "rate_limit"}
    )
    store.add_message(ME, conv.id, "user", "once more")
    store.start_answer(ME, conv.id, model="gpt-4o-mini")  # still streaming
    got = store.get_conversation(ME, conv.id)
    assert got is not None
    return got


# -- export --------------------------------------------------------------------------------------
def test_json_round_trip_is_byte_stable(store: ChatStore) -> None:
    first = export_json(sample(store))
    imported = import_json(store, ME, first.encode("utf-8"))
    second = export_json(store.get_conversation(ME, imported.id))  # type: ignore[arg-type]
    assert second == first
    again = import_json(store, ME, second)
    assert again.id != imported.id
    assert export_json(store.get_conversation(ME, again.id)) == first  # type: ignore[arg-type]


def test_json_export_content(store: ChatStore) -> None:
    conv = sample(store)
    data = json.loads(export_json(conv))
    assert (data["format"], data["version"], data["title"]) == (EXPORT_FORMAT, 2, conv.title)
    assert data["created_at"] == conv.created_at
    messages = data["messages"]
    assert len(messages) == len(conv.messages) == 9
    assert all(
        set(m)
        == {"role", "content", "reasoning", "status", "model", "params", "metrics", "feedback"}
        | {"created_at", "id", "parent"}
        for m in messages
    )
    # the file's own numbering, not database ids: a chain from 1, the last one shown
    assert [(m["id"], m["parent"]) for m in messages[:3]] == [(1, None), (2, 1), (3, 2)]
    assert data["active_leaf"] == 9
    assert messages[2]["reasoning"] == "They want code.\n\nPython, then."
    assert messages[4]["reasoning"] == ""
    assert messages[2]["metrics"]["first_token_s"] == 0.1 + 0.2
    assert messages[2]["feedback"] == -1 and messages[2]["params"] == {"temperature": 0.7}
    assert messages[-1]["status"] == "interrupted"  # a live answer is a snapshot in a file
    assert "\u2028" in messages[1]["content"]


def test_markdown_export_is_readable_with_notes_outside_the_text(store: ChatStore) -> None:
    conv = sample(store)
    text = export_markdown(conv)
    assert text.startswith(f"# {conv.title}\n")
    reasoning = (
        "<details><summary>Reasoning</summary>\n\n> They want code.\n>\n> Python, then.\n\n"
        "</details>\n\n"
    )
    assert f"### Assistant · gpt-4o-mini\n\n{reasoning}Here is code:\n\n```python\n" in text
    assert text.count("<details>") == 1  # only answers with reasoning get the section
    assert "### Assistant · gpt-4o\n\nPart\n\n> **Note:** Stopped" in text
    assert "> **Note:** The answer failed (rate_limit)." in text
    assert text.count("Interrupted") == 1
    assert "> Rated 👎 not helpful" in text and "> Rated 👍 helpful" in text
    assert text.count("### User") == 4 and "### System\n\nBe brief." in text
    # the notes are chrome: the stored text is untouched
    assert store.get_conversation(ME, conv.id).messages[4].content == "Part"  # type: ignore[union-attr]


def test_export_filename_is_safe(store: ChatStore) -> None:
    conv = store.create_conversation(ME, "Why? ../../etc/passwd — «quoted»")
    summary = store.get_conversation(ME, conv.id)
    assert export_filename(summary, "json") == "why-etc-passwd-quoted.json"  # type: ignore[arg-type]
    blank = store.create_conversation(ME, "🚀🚀")
    assert export_filename(store.get_conversation(ME, blank.id), "md") == "chat.md"  # type: ignore[arg-type]


# -- import --------------------------------------------------------------------------------------
def test_minimal_import_fills_defaults(store: ChatStore) -> None:
    data = {
        "format": EXPORT_FORMAT,
        "version": 1,
        "messages": [
            {"role": "user", "content": "What is WAL mode?"},
            {"role": "assistant", "content": "A journal."},
        ],
    }
    summary = import_json(store, ME, "\ufeff" + json.dumps(data))  # a BOM is fine
    conv = store.get_conversation(ME, summary.id)
    assert conv is not None and conv.title == "What is WAL mode?"
    assert [(m.status, m.feedback, m.model, m.params) for m in conv.messages] == [
        ("complete", 0, None, {}),
        ("complete", 0, None, {}),
    ]
    assert conv.messages[0].created_at == conv.created_at


def valid() -> dict[str, Any]:
    return {
        "format": EXPORT_FORMAT,
        "version": 1,
        "title": "ok",
        "created_at": "2025-01-02T03:04:05.000000Z",
        "updated_at": "2025-01-02T03:04:06.000000Z",
        "messages": [
            {
                "role": "user",
                "content": "hi",
                "status": "complete",
                "model": None,
                "params": {},
                "metrics": {},
                "feedback": 0,
                "created_at": "2025-01-02T03:04:05.000000Z",
            },
            {
                "role": "assistant",
                "content": "hello",
                "status": "complete",
                "model": "m",
                "params": {"temperature": 1},
                "metrics": {"tokens": 1},
                "feedback": 1,
                "created_at": "2025-01-02T03:04:06.000000Z",
            },
        ],
    }


def edited(path: str, value: Any) -> bytes:
    """The valid export with one field replaced (``messages.1.role``), as bytes."""
    data = copy.deepcopy(valid())
    *parents, last = path.split(".")
    target: Any = data
    for key in parents:
        target = target[int(key)] if isinstance(target, list) else target[key]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return json.dumps(data).encode()


def test_the_valid_base_imports(store: ChatStore) -> None:
    assert import_json(store, ME, json.dumps(valid())).message_count == 2


def test_reasoning_is_imported_and_older_exports_without_it_still_import(store: ChatStore) -> None:
    summary = import_json(store, ME, edited("messages.1.reasoning", "Greet back."))
    conv = store.get_conversation(ME, summary.id)
    assert conv is not None and [m.reasoning for m in conv.messages] == ["", "Greet back."]
    assert json.loads(export_json(conv))["messages"][1]["reasoning"] == "Greet back."
    assert "reasoning" not in valid()["messages"][1]  # the base is an export from before


HOSTILE: list[tuple[str, bytes | str, type[Exception], str]] = [
    ("not json", b"{'format': 1}", ValidationError, "file"),
    ("truncated json", json.dumps(valid())[:-5], ValidationError, "file"),
    ("not utf-8", b'{"title": "\xff\xfe"}', ValidationError, "file"),
    ("over the size cap", b" " * (MAX_IMPORT_BYTES + 1), LimitError, "file"),
    ("deeply nested", b"[" * 100_000 + b"]" * 100_000, ValidationError, "file"),
    ("a list, not an object", b"[1, 2]", ValidationError, "file"),
    ("NaN", json.dumps(valid()).replace('"tokens": 1', '"tokens": NaN'), ValidationError, "file"),
    (
        "huge integer",
        edited("version", 1).replace(b'"version": 1', b'"version": 1' + b"0" * 5000),
        ValidationError,
        "file",
    ),
    ("duplicate key", b'{"format": "x", "format": "y"}', ValidationError, "file"),
    ("unknown top key", edited("extra", 1), ValidationError, "file"),
    ("wrong format", edited("format", "chatgpt"), ValidationError, "format"),
    ("newer version", edited("version", 3), ValidationError, "version"),
    ("version true", edited("version", True), ValidationError, "version"),
    ("title a number", edited("title", 5), ValidationError, "title"),
    ("huge title", edited("title", "t" * 10_000), LimitError, "title"),
    ("bad time", edited("created_at", "yesterday"), ValidationError, "created_at"),
    (
        "impossible date",
        edited("updated_at", "2025-02-30T00:00:00.000000Z"),
        ValidationError,
        "updated_at",
    ),
    ("messages not a list", edited("messages", {"role": "user"}), ValidationError, "messages"),
    (
        "too many messages",
        edited("messages", [{"role": "user", "content": "q"}] * (MAX_IMPORT_MESSAGES + 1)),
        LimitError,
        "messages",
    ),
    ("message not an object", edited("messages.1", "hello"), ValidationError, "messages[1]"),
    ("unknown message key", edited("messages.1.id", 3), ValidationError, "messages[1]"),
    (
        "missing content",
        edited("messages.1", {"role": "assistant"}),
        ValidationError,
        "messages[1].content",
    ),
    ("unknown role", edited("messages.1.role", "tool"), ValidationError, "messages[1].role"),
    (
        "reasoning a number",
        edited("messages.1.reasoning", 5),
        ValidationError,
        "messages[1].reasoning",
    ),
    (
        "huge reasoning",
        edited("messages.1.reasoning", "r" * (MAX_ANSWER_CHARS + 1)),
        LimitError,
        "messages[1].reasoning",
    ),
    ("role a list", edited("messages.1.role", ["user"]), ValidationError, "messages[1].role"),
    ("content a number", edited("messages.1.content", 42), ValidationError, "messages[1].content"),
    (
        "lone surrogate",
        edited("messages.1.content", "x").replace(b'"x"', b'"\\ud800"'),
        ValidationError,
        "messages[1].content",
    ),
    (
        "huge prompt",
        edited("messages.0.content", "x" * (MAX_MESSAGE_CHARS + 1)),
        LimitError,
        "messages[0].content",
    ),
    (
        "huge answer, after a good message",
        edited("messages.1.content", "x" * (MAX_ANSWER_CHARS + 1)),
        LimitError,
        "messages[1].content",
    ),
    ("empty prompt", edited("messages.0.content", "  "), ValidationError, "messages[0].content"),
    ("unknown status", edited("messages.1.status", "done"), ValidationError, "messages[1].status"),
    (
        "live status",
        edited("messages.1.status", "streaming"),
        ValidationError,
        "messages[1].status",
    ),
    ("empty model", edited("messages.1.model", ""), ValidationError, "messages[1].model"),
    ("huge model", edited("messages.1.model", "m" * 300), ValidationError, "messages[1].model"),
    (
        "nested params",
        edited("messages.1.params", {"a": {"b": [[[1]]]}}),
        ValidationError,
        "messages[1].params.a",
    ),
    ("params a list", edited("messages.1.params", [1, 2]), ValidationError, "messages[1].params"),
    (
        "too many metrics",
        edited("messages.1.metrics", {f"k{i}": i for i in range(100)}),
        LimitError,
        "messages[1].metrics",
    ),
    (
        "huge metric",
        edited("messages.1.metrics", {"note": "n" * 9000}),
        LimitError,
        "messages[1].metrics.note",
    ),
    (
        "huge number metric",
        edited("messages.1.metrics", {"tokens": 10**20}),
        ValidationError,
        "messages[1].metrics.tokens",
    ),
    ("feedback 2", edited("messages.1.feedback", 2), ValidationError, "messages[1].feedback"),
    ("feedback true", edited("messages.1.feedback", True), ValidationError, "messages[1].feedback"),
    (
        "message time",
        edited("messages.1.created_at", 1700000000),
        ValidationError,
        "messages[1].created_at",
    ),
]


@pytest.mark.parametrize(
    ("data", "error", "field"), [c[1:] for c in HOSTILE], ids=[c[0] for c in HOSTILE]
)
def test_hostile_imports_are_refused_and_write_nothing(
    store: ChatStore, tmp_path: Path, data: bytes | str, error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as err:
        import_json(store, ME, data)
    assert isinstance(err.value, ValidationError)
    assert err.value.field == field
    assert len(str(err.value)) < 120  # short enough to show as is
    assert store.list_conversations(ME) == []
    with sqlite3.connect(tmp_path / "chats.sqlite3") as conn:
        assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0


def test_parse_export_writes_nothing(store: ChatStore) -> None:
    parsed = parse_export(json.dumps(valid()))
    assert [m.role for m in parsed.messages] == ["user", "assistant"]
    assert store.list_conversations(ME) == []


def test_same_chat_finds_an_identical_import_only(store: ChatStore) -> None:
    data = json.dumps(valid())
    assert same_chat(store, ME, data) is None
    first = import_json(store, ME, data)
    assert same_chat(store, ME, data) == first.id
    assert same_chat(store, "user:someone-else", data) is None
    changed = copy.deepcopy(valid())
    changed["messages"][0]["content"] = "something else"
    assert same_chat(store, ME, json.dumps(changed)) is None


def test_a_file_that_is_not_an_export_says_so_in_words(store: ChatStore) -> None:
    with pytest.raises(ValidationError) as err:
        import_json(store, ME, b'{"not": "an export"}')
    assert "Not a chat exported from this app" in str(err.value)
    assert "unknown key" not in str(err.value)
