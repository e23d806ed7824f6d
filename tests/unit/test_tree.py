"""The pure tree logic: paths, siblings, the leaf a switch lands on, and what a file may hold."""

from __future__ import annotations

import pytest

from chat_core.errors import LimitError, ValidationError
from chat_core.tree import (
    MAX_SIBLINGS,
    active_path,
    check_tree,
    children_of,
    choose_leaf,
    forks_on,
    ordered_for_insert,
    versions,
)

# 1 user -> 2 answer; 3 answer (regenerated); 2 -> 4 user -> 5 answer; 3 -> 6 user -> 7 answer
# 8 user (the first prompt edited) -> 9 answer
PARENTS: dict[int, int | None] = {1: None, 2: 1, 3: 1, 4: 2, 5: 4, 6: 3, 7: 6, 8: None, 9: 8}


def test_children_are_ordered_by_creation_and_roots_are_siblings() -> None:
    children = children_of(PARENTS)
    assert children[None] == [1, 8]
    assert children[1] == [2, 3]
    assert children[2] == [4] and 9 not in children


def test_active_path_runs_root_to_leaf() -> None:
    assert active_path(PARENTS, 7) == [1, 3, 6, 7]
    assert active_path(PARENTS, 9) == [8, 9]
    assert active_path(PARENTS, None) == []


def test_active_path_refuses_a_cycle_and_an_unknown_id() -> None:
    with pytest.raises(ValidationError, match="cycle"):
        active_path({1: 2, 2: 1}, 1)
    with pytest.raises(ValidationError, match="does not exist"):
        active_path(PARENTS, 42)


def test_versions_label_and_neighbours() -> None:
    first, last = versions([2, 3, 10], 2), versions([2, 3, 10], 10)
    assert (first.label, first.previous_id, first.next_id) == ("1/3", None, 3)
    assert (last.label, last.previous_id, last.next_id) == ("3/3", 3, None)
    assert versions([5], 5).label == "1/1"


def test_choose_leaf_takes_the_remembered_child_else_the_newest() -> None:
    children = children_of(PARENTS)
    assert choose_leaf(children, 1, {}) == 7  # newest at the fork: 3 -> 6 -> 7
    assert choose_leaf(children, 1, {1: 2}) == 5  # the branch last viewed there
    assert choose_leaf(children, 8, {1: 2}) == 9  # a choice elsewhere changes nothing here
    assert choose_leaf(children, 5, {}) == 5  # a leaf is its own leaf
    assert choose_leaf(children, 1, {1: 99}) == 7  # a gone child: the newest instead


def test_choose_leaf_stops_on_a_corrupt_cycle() -> None:
    with pytest.raises(ValidationError, match="cycle"):
        choose_leaf({1: [2], 2: [1]}, 1, {})


def test_forks_on_a_path_are_the_choices_it_implies() -> None:
    children = children_of(PARENTS)
    assert forks_on([1, 3, 6, 7], children) == {0: 1, 1: 3}  # 0: the first prompt's versions
    assert forks_on([8, 9], children) == {0: 8}


def test_check_tree_accepts_a_tree_with_root_versions() -> None:
    check_tree([None, 0, 0, 1, None], ["user", "assistant", "assistant", "user", "user"])
    check_tree([], [])


@pytest.mark.parametrize(
    ("parents", "roles", "error", "words"),
    [
        ([None, 5], ["user", "assistant"], ValidationError, "messages[1].parent points to"),
        ([None, 2, 1], ["user", "assistant", "user"], ValidationError, "cycle"),
        ([1, 0], ["user", "assistant"], ValidationError, "cycle"),
        ([None, None], ["user", "assistant"], ValidationError, "two roots"),
        (
            [None] + [0] * 10_000,
            ["user"] + ["assistant"] * 10_000,
            LimitError,
            f"more than {MAX_SIBLINGS} versions",
        ),
    ],
    ids=["dangling parent", "cycle", "cycle without a root", "two roots", "10,000 siblings"],
)
def test_check_tree_names_the_problem(
    parents: list[int | None], roles: list[str], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        check_tree(parents, roles)


def test_ordered_for_insert_puts_parents_first() -> None:
    parents: list[int | None] = [2, None, 1, 0]
    order = ordered_for_insert(parents)
    assert sorted(order) == [0, 1, 2, 3]
    for i, parent in enumerate(parents):
        if parent is not None:
            assert order.index(parent) < order.index(i)
