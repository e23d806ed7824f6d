"""The tree of a version 2 JSON export, checked before any message is read.

A file numbers its messages with ``id`` and links them with ``parent``; this turns
those into indexes into the file's list and refuses, naming the problem, what
``chat_core.tree.check_tree`` refuses (a cycle, two roots, too many versions of
one message) and what only a file can hold: a repeated id, a dangling parent, an
active leaf that is not one of its messages.
"""

from __future__ import annotations

from typing import Any

from chat_core.errors import ValidationError
from chat_core.tree import check_tree


def file_tree(items: list[Any], active_leaf: object) -> tuple[list[int | None], int | None]:
    """A version 2 file's parents as indexes (its ids are its own numbering), checked as a
    tree before anything else: a cycle, a dangling parent, two roots or too many versions."""
    index: dict[int, int] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "id" not in item:
            raise ValidationError(f"messages[{i}].id", f"messages[{i}].id is missing")
        number = item["id"]
        if isinstance(number, bool) or not isinstance(number, int):
            raise ValidationError(f"messages[{i}].id", f"messages[{i}].id must be an integer")
        if number in index:
            raise ValidationError(f"messages[{i}].id", f"messages[{i}].id {number} appears twice")
        index[number] = i
    parents: list[int | None] = []
    for i, item in enumerate(items):
        parent = item.get("parent")
        if parent is not None and (isinstance(parent, bool) or parent not in index):
            raise ValidationError(
                f"messages[{i}].parent",
                f"messages[{i}].parent names no message of the file (a dangling parent)",
            )
        parents.append(None if parent is None else index[parent])
    check_tree(parents, [str(item.get("role")) for item in items])
    if active_leaf is None:
        return parents, None
    if isinstance(active_leaf, bool) or active_leaf not in index:
        raise ValidationError("active_leaf", "active_leaf names no message of the file")
    return parents, index[active_leaf]
