"""The <think> splitter: the same reasoning and answer wherever the chunks are cut."""

from __future__ import annotations

import itertools

import pytest

from chat_core.backends.think_tags import ThinkTagSplitter


def split(pieces: list[str]) -> tuple[str, str]:
    splitter = ThinkTagSplitter()
    reasoning, answer = "", ""
    for piece in pieces:
        r, a = splitter.feed(piece)
        reasoning, answer = reasoning + r, answer + a
    r, a = splitter.flush()
    return reasoning + r, answer + a


CASES = [
    ("<think>Plan: add.</think>\n\n2 + 2 = 4", ("Plan: add.", "2 + 2 = 4")),
    ("\n<think>\nhm\n</think>\nYes", ("\nhm\n", "Yes")),
    ("No tags here.", ("", "No tags here.")),
    ("An answer that mentions <think> later", ("", "An answer that mentions <think> later")),
    ("<thin", ("", "<thin")),  # a stream that ends undecided is answer text
    ("<think>cut off mid-reasoning </thi", ("cut off mid-reasoning </thi", "")),
    ("<think>a < b and </ not a tag</think>ok", ("a < b and </ not a tag", "ok")),
    ("<think></think>Only the answer", ("", "Only the answer")),
    ("", ("", "")),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_every_single_split_point(text: str, expected: tuple[str, str]) -> None:
    assert split([text]) == expected
    for cut in range(len(text) + 1):
        assert split([text[:cut], text[cut:]]) == expected, cut


@pytest.mark.parametrize(("text", "expected"), CASES[:3])
def test_every_pair_of_split_points(text: str, expected: tuple[str, str]) -> None:
    for a, b in itertools.combinations(range(len(text) + 1), 2):
        assert split([text[:a], text[a:b], text[b:]]) == expected, (a, b)


def test_one_character_at_a_time() -> None:
    text = "<think>Let me count the r's.</think>\n\nThree."
    assert split(list(text)) == ("Let me count the r's.", "Three.")


def test_reasoning_streams_before_the_close_tag_arrives() -> None:
    splitter = ThinkTagSplitter()
    assert splitter.feed("<think>The user") == ("The user", "")
    assert splitter.feed(" asks</") == (" asks", "")  # "</" could start </think>
    assert splitter.feed("b>") == ("</b>", "")
    assert splitter.feed("</think>Hi") == ("", "Hi")
    assert splitter.feed(" <think>") == ("", " <think>")
