"""Versions and branches in the store, on SQLite and PostgreSQL: the tree, switching, forking,
deleting a version, owner rules, and the JSON round trip of a whole tree."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from chat_core.errors import LimitError, NotFoundError, ValidationError
from chat_core.storage.store import ChatStore
from chat_core.storage.transfer import EXPORT_FORMAT, export_json, export_markdown, import_json
from chat_core.tree import MAX_SIBLINGS

ME, OTHER = "browser:me", "browser:other"


@pytest.fixture
def store(store_url: str) -> Iterator[ChatStore]:
    with ChatStore(store_url) as opened:
        yield opened


def texts(store: ChatStore, conversation_id: str, owner: str = ME) -> list[str]:
    conv = store.get_conversation(owner, conversation_id)
    assert conv is not None
    return [m.content for m in conv.messages]


def branched(store: ChatStore) -> tuple[str, dict[str, int]]:
    """q1 -> a1 | a1' (regenerated) ; a1 -> q2 -> a2 ; q1' (edited first prompt) -> b1."""
    cid = store.create_conversation(ME).id
    ids: dict[str, int] = {}
    for name, role in (("q1", "user"), ("a1", "assistant"), ("q2", "user"), ("a2", "assistant")):
        ids[name] = store.add_message(ME, cid, role, name).id
    ids["a1'"] = store.add_message(ME, cid, "assistant", "a1'", parent_id=ids["q1"]).id
    ids["q1'"] = store.add_message(ME, cid, "user", "q1'", parent_id=None).id
    ids["b1"] = store.add_message(ME, cid, "assistant", "b1").id
    return cid, ids


def test_a_new_version_is_a_sibling_and_the_active_path(store: ChatStore) -> None:
    cid, ids = branched(store)
    conv = store.get_conversation(ME, cid)
    assert conv is not None
    assert [m.content for m in conv.messages] == ["q1'", "b1"]
    assert conv.siblings == {ids["q1'"]: (ids["q1"], ids["q1'"])}
    assert conv.total_messages == 7 and conv.messages[-1].id == ids["b1"]
    assert [m.parent_id for m in conv.messages] == [None, ids["q1'"]]


def test_switching_lands_on_the_branch_last_viewed(store: ChatStore) -> None:
    cid, ids = branched(store)
    assert store.switch_version(ME, ids["q1"]) == ids["a1'"]  # the regenerated answer was newest
    conv = store.get_conversation(ME, cid)
    assert conv is not None and [m.content for m in conv.messages] == ["q1", "a1'"]
    assert conv.siblings[ids["a1'"]] == (ids["a1"], ids["a1'"])
    assert store.switch_version(ME, ids["a1"]) == ids["a2"]  # the old branch, all its turns
    assert texts(store, cid) == ["q1", "a1", "q2", "a2"]
    store.switch_version(ME, ids["q1'"])
    assert texts(store, cid) == ["q1'", "b1"]
    # back to the first prompt: below it, the answer last viewed (a1), not the newest (a1')
    assert store.switch_version(ME, ids["q1"]) == ids["a2"]
    with ChatStore(store.db.url) as second:  # another process (a reload, a second tab)
        assert texts(second, cid) == ["q1", "a1", "q2", "a2"]


def test_appending_goes_after_the_active_leaf(store: ChatStore) -> None:
    cid, ids = branched(store)
    store.switch_version(ME, ids["a1"])
    added = store.add_message(ME, cid, "user", "q3")
    assert added.parent_id == ids["a2"]
    assert texts(store, cid) == ["q1", "a1", "q2", "a2", "q3"]


def test_delete_a_version_deletes_its_subtree_only(store: ChatStore) -> None:
    cid, ids = branched(store)
    store.switch_version(ME, ids["a1"])
    assert store.delete_version(ME, ids["a1"]) == 3  # a1, q2, a2
    assert texts(store, cid) == ["q1", "a1'"]  # its sibling is shown instead
    assert store.get_message(ME, ids["q2"]) is None
    assert store.get_message(ME, ids["b1"]) is not None
    conv = store.get_conversation(ME, cid)
    assert conv is not None and conv.total_messages == 4
    assert store.delete_version(ME, ids["a1'"]) == 1  # the last answer: its prompt is the leaf
    assert texts(store, cid) == ["q1"]


def test_fork_copies_the_path_into_a_new_chat(store: ChatStore) -> None:
    cid, ids = branched(store)
    store.rename(ME, cid, "Trip plan")
    store.switch_version(ME, ids["a1"])
    fork = store.fork(ME, ids["a1"])
    assert fork.id != cid and fork.title == "Fork of Trip plan" and fork.message_count == 2
    conv = store.get_conversation(ME, fork.id)
    assert conv is not None and [m.content for m in conv.messages] == ["q1", "a1"]
    assert conv.siblings == {} and conv.total_messages == 2
    assert texts(store, cid) == ["q1", "a1", "q2", "a2"]  # the original is untouched


@pytest.mark.parametrize("action", ["switch_version", "delete_version", "fork"])
def test_unknown_or_foreign_ids_change_nothing(store: ChatStore, action: str) -> None:
    cid, _ids = branched(store)
    theirs = store.create_conversation(OTHER).id
    their_message = store.add_message(OTHER, theirs, "user", "private").id
    before = store.get_conversation(ME, cid)
    for wrong in (their_message, 999_999):
        with pytest.raises(NotFoundError, match="no such message"):
            getattr(store, action)(ME, wrong)
    with pytest.raises(ValidationError):
        getattr(store, action)(ME, "1")
    assert store.get_conversation(ME, cid) == before
    assert texts(store, theirs, OTHER) == ["private"]
    assert [c.id for c in store.list_conversations(ME)] == [cid]


def test_a_parent_from_another_chat_is_refused(store: ChatStore) -> None:
    _cid, ids = branched(store)
    other = store.create_conversation(ME).id
    with pytest.raises(NotFoundError):
        store.add_message(ME, other, "assistant", "x", parent_id=ids["q1"])
    assert texts(store, other) == []


def test_at_most_max_siblings_versions(store: ChatStore) -> None:
    cid = store.create_conversation(ME).id
    prompt = store.add_message(ME, cid, "user", "q").id
    for _ in range(MAX_SIBLINGS):
        store.add_message(ME, cid, "assistant", "a", parent_id=prompt)
    with pytest.raises(LimitError, match="versions"):
        store.add_message(ME, cid, "assistant", "a", parent_id=prompt)


def test_json_export_of_a_tree_round_trips_identical(store: ChatStore) -> None:
    cid, ids = branched(store)
    store.switch_version(ME, ids["a1"])
    conv = store.get_conversation(ME, cid, whole_tree=True)
    assert conv is not None
    first = export_json(conv)
    data = json.loads(first)
    assert len(data["messages"]) == 7 and data["active_leaf"] == 4  # a2, the 4th created
    imported = import_json(store, ME, first)
    again = store.get_conversation(ME, imported.id, whole_tree=True)
    assert again is not None and export_json(again) == first
    assert [m.content for m in again.messages] == ["q1", "a1", "q2", "a2"]
    # the branch the file showed is remembered: switching to the other prompt and back
    q1 = again.messages[0].id
    other = next(i for i in again.siblings[q1] if i != q1)
    store.switch_version(ME, other)
    store.switch_version(ME, q1)
    assert texts(store, imported.id) == ["q1", "a1", "q2", "a2"]


def test_markdown_exports_the_active_path_and_counts_other_versions(store: ChatStore) -> None:
    cid, _ids = branched(store)
    conv = store.get_conversation(ME, cid)
    assert conv is not None
    text = export_markdown(conv)
    assert "q1'" in text and "b1" in text and "a2" not in text
    assert "other versions hold 5 more messages" in text


def tree_file(messages: list[dict[str, object]], active: object = None) -> str:
    return json.dumps(
        {"format": EXPORT_FORMAT, "version": 2, "active_leaf": active, "messages": messages}
    )


def m(number: int, parent: int | None, role: str = "user") -> dict[str, object]:
    return {"id": number, "parent": parent, "role": role, "content": f"m{number}"}


BAD_TREES = [
    ("cycle", [m(1, None), m(2, 3, "assistant"), m(3, 2)], "cycle"),
    ("dangling parent", [m(1, None), m(2, 7, "assistant")], "dangling parent"),
    ("two roots", [m(1, None), m(2, None, "assistant")], "two roots"),
    (
        "10,000 siblings",
        [m(1, None)] + [m(i, 1, "assistant") for i in range(2, 10_002)],
        "more than 100 versions",
    ),
    ("repeated id", [m(1, None), m(1, 1, "assistant")], "appears twice"),
]


@pytest.mark.parametrize(("name", "messages", "words"), BAD_TREES, ids=[b[0] for b in BAD_TREES])
def test_bad_trees_are_refused_by_name_and_nothing_is_stored(
    store: ChatStore, name: str, messages: list[dict[str, object]], words: str
) -> None:
    with pytest.raises(ValidationError, match=words):
        import_json(store, ME, tree_file(messages))
    assert store.list_conversations(ME) == []


def test_an_active_leaf_outside_the_file_is_refused(store: ChatStore) -> None:
    with pytest.raises(ValidationError, match="active_leaf"):
        import_json(store, ME, tree_file([m(1, None)], active=5))
    assert store.list_conversations(ME) == []
