"""Parsing offline directives: pure, line by line, invalid lines reported."""

from __future__ import annotations

import pytest

from chat_core.backends.directives import (
    MAX_LOREM_TOKENS,
    MAX_STALL_S,
    Directives,
    ErrorDirective,
    parse_directives,
)


def test_plain_prompt_has_no_directives() -> None:
    d = parse_directives("  What is SSE?\n/lorem 5")
    assert d == Directives(text="What is SSE?\n/lorem 5")
    assert not d.any


def test_every_directive_on_its_own_line() -> None:
    d = parse_directives(
        "/lorem 120\n/error rate_limit after 7 times 2\n/stall 1.5 after 3\n"
        "/stall 2\n/drop after 40\nAnd the question"
    )
    assert d.lorem == 120
    assert d.error == ErrorDirective("rate_limit", after=7, times=2)
    assert d.stalls == ((3, 1.5), (0, 2.0))
    assert d.drop_after == 40
    assert d.text == "And the question"
    assert d.invalid == ()
    assert d.any


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("/error auth", ErrorDirective("auth", 0, None)),
        ("/error server after 5", ErrorDirective("server", 5, None)),
        ("/error timeout times 3", ErrorDirective("timeout", 0, 3)),
        ("/error connection after 2 times 1", ErrorDirective("connection", 2, 1)),
        ("/error bad_request", ErrorDirective("bad_request", 0, None)),
    ],
)
def test_error_forms(line: str, expected: ErrorDirective) -> None:
    assert parse_directives(line).error == expected


def test_drop_without_after_means_at_once() -> None:
    assert parse_directives("/drop\nhi").drop_after == 0


@pytest.mark.parametrize(
    "line",
    ["/error teapot", "/lorem", "/lorem many", "/stall", "/drop after", "/frobnicate", "/errors"],
)
def test_invalid_lines_are_reported_not_obeyed(line: str) -> None:
    d = parse_directives(f"{line}\n/lorem 3\nhello")
    assert d.invalid == (line,)
    assert d.error is None
    assert d.lorem == 3  # later valid lines still count
    assert d.text == "hello"


def test_invalid_line_is_shortened() -> None:
    d = parse_directives("/" + "x" * 500)
    assert len(d.invalid[0]) == 80


def test_limits_are_clamped() -> None:
    d = parse_directives("/lorem 999999\n/stall 9999")
    assert d.lorem == MAX_LOREM_TOKENS
    assert d.stalls == ((0, MAX_STALL_S),)


def test_echo_keeps_the_rest_verbatim() -> None:
    prompt = "/stall 1\n/echo  two spaces kept\n\n  indented\n/lorem 5\n"
    d = parse_directives(prompt)
    assert d.echo == " two spaces kept\n\n  indented\n/lorem 5\n"
    assert d.lorem is None  # lines after /echo are text, not directives
    assert d.stalls == ((0, 1.0),)
    assert d.any


def test_echo_alone_echoes_the_following_lines() -> None:
    assert parse_directives("/echo\nline one\nline two").echo == "\nline one\nline two"


def test_echoes_is_not_echo() -> None:
    d = parse_directives("/echoes hi")
    assert d.echo is None
    assert d.invalid == ("/echoes hi",)


def test_only_directives_leaves_empty_text() -> None:
    d = parse_directives("/lorem 4\n/drop after 2")
    assert d.text == ""
    assert d.lorem == 4


def test_think_takes_seconds_and_is_clamped() -> None:
    d = parse_directives("/think 2.5\nWhy is the sky blue?")
    assert d.think_s == 2.5 and d.any and d.text == "Why is the sky blue?"
    assert parse_directives("/think 9999").think_s == 600.0
    assert parse_directives("/think soon").invalid == ("/think soon",)
    assert parse_directives("Why?").think_s is None
