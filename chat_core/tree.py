"""Conversations as trees: paths, siblings, which leaf a switch lands on, and what a file may hold.

Pure: no I/O. A message has a parent (None for the first prompt's versions);
its siblings are the messages with the same parent, ordered by creation (ids
grow with creation), never stored as child lists: storing both directions
drifts, and a chat that loses a child list loses every later turn. The
conversation keeps one active leaf; the active path runs root -> leaf, and it
is what the page shows, what the model is sent and what Markdown exports.

Each fork point remembers the child last viewed (``choices``), so switching a
version lands on the branch the person was on below it, never an unrelated
one: at every fork under the switched message the remembered child wins, and
the newest child where nothing was remembered.

Storage (``storage/``) and the chat session both use this module; it imports
only the errors, so either layer may.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chat_core.errors import LimitError, ValidationError

MAX_SIBLINGS = 100  # versions of one message: regenerate / edit / Compare lanes, with room to spare

Parents = Mapping[int, int | None]  # message id -> parent id (None: a first prompt)


@dataclass(frozen=True, slots=True)
class Versions:
    """Where a message sits among its siblings: ``‹ index/count ›`` and the neighbours' ids."""

    index: int  # 1-based, as shown
    count: int
    previous_id: int | None
    next_id: int | None

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"


def children_of(parents: Parents) -> dict[int | None, list[int]]:
    """Parent id -> its children, oldest first (None: the first prompt's versions)."""
    children: dict[int | None, list[int]] = {}
    for message_id in sorted(parents):
        children.setdefault(parents[message_id], []).append(message_id)
    return children


def active_path(parents: Parents, leaf: int | None) -> list[int]:
    """The ids from the root down to ``leaf``; [] for no leaf. A cycle raises ValidationError."""
    path: list[int] = []
    seen: set[int] = set()
    node = leaf
    while node is not None:
        if node in seen:
            raise ValidationError("parent", f"the messages form a cycle through id {node}")
        if node not in parents:
            raise ValidationError("parent", f"message {node} does not exist")
        seen.add(node)
        path.append(node)
        node = parents[node]
    path.reverse()
    return path


def versions(siblings: Sequence[int], message_id: int) -> Versions:
    """``message_id``'s place among ``siblings`` (itself included, oldest first)."""
    i = siblings.index(message_id)
    return Versions(
        i + 1,
        len(siblings),
        siblings[i - 1] if i > 0 else None,
        siblings[i + 1] if i + 1 < len(siblings) else None,
    )


def choose_leaf(
    children: Mapping[int | None, Sequence[int]],
    start: int,
    choices: Mapping[int | None, int],
) -> int:
    """The leaf a switch to ``start`` lands on: below it, the remembered child at every fork,
    else the newest child."""
    node = start
    for _ in range(sum(len(c) for c in children.values()) + 1):  # a cycle cannot loop forever
        below = children.get(node)
        if not below:
            return node
        chosen = choices.get(node)
        node = chosen if chosen is not None and chosen in below else below[-1]
    raise ValidationError("parent", f"the messages form a cycle through id {node}")


def forks_on(path: Sequence[int], children: Mapping[int | None, Sequence[int]]) -> dict[int, int]:
    """The choices a path implies: at each of its forks, the child it takes (parent 0 = root)."""
    out: dict[int, int] = {}
    previous: int | None = None
    for node in path:
        if len(children.get(previous, ())) > 1:
            out[0 if previous is None else previous] = node
        previous = node
    return out


def check_tree(
    parents: Sequence[int | None], roles: Sequence[str], field_name: str = "messages"
) -> None:
    """A file's tree, given each message's parent as an index into the list (None: a root).

    Refuses, naming the problem: a dangling parent, a cycle, two roots (first messages that
    are not versions of one message: different roles), more than ``MAX_SIBLINGS`` versions.
    """
    count = len(parents)
    for i, parent in enumerate(parents):
        if parent is not None and not 0 <= parent < count:
            raise ValidationError(
                f"{field_name}[{i}].parent",
                f"{field_name}[{i}].parent points to a message that is not in the file",
            )
    siblings: dict[int | None, int] = {}
    for i, parent in enumerate(parents):
        siblings[parent] = siblings.get(parent, 0) + 1
        if siblings[parent] > MAX_SIBLINGS:
            raise LimitError(
                f"{field_name}[{i}].parent",
                f"{field_name}[{i}] is one of more than {MAX_SIBLINGS} versions of one message",
            )
    roots = [i for i, parent in enumerate(parents) if parent is None]
    if count and not roots:
        raise ValidationError(field_name, f"the {field_name} form a cycle: none is the first")
    for i in roots[1:]:
        if roles[i] != roles[roots[0]]:
            raise ValidationError(
                f"{field_name}[{i}].parent",
                f"two roots: {field_name}[{roots[0]}] and {field_name}[{i}] both start the chat"
                " but are not versions of one message",
            )
    _no_cycle(parents, field_name)


def _no_cycle(parents: Sequence[int | None], field_name: str) -> None:
    # Every message must reach a root; walk each once, remembering the ones known to reach one.
    reaches_root: set[int] = set()
    for start in range(len(parents)):
        trail: list[int] = []
        on_trail: set[int] = set()
        node: int | None = start
        while node is not None and node not in reaches_root:
            if node in on_trail:
                raise ValidationError(
                    f"{field_name}[{node}].parent",
                    f"the {field_name} form a cycle through {field_name}[{node}]",
                )
            trail.append(node)
            on_trail.add(node)
            node = parents[node]
        reaches_root.update(trail)


def ordered_for_insert(parents: Sequence[int | None]) -> list[int]:
    """The indexes with every parent before its children (for writing a checked tree)."""
    done: set[int] = set()
    order: list[int] = []
    for start in range(len(parents)):
        trail: list[int] = []
        node: int | None = start
        while node is not None and node not in done:
            trail.append(node)
            node = parents[node]
        for index in reversed(trail):
            done.add(index)
            order.append(index)
    return order


__all__ = [
    "MAX_SIBLINGS",
    "Parents",
    "Versions",
    "active_path",
    "check_tree",
    "children_of",
    "choose_leaf",
    "forks_on",
    "ordered_for_insert",
    "versions",
]
