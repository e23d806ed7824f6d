"""The gateway's nesting check: brackets outside strings count, escapes and strings do not."""

import json

import pytest

from chat_core.errors import ValidationError
from chat_core.gateway.requests import MAX_JSON_DEPTH, check_nesting


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_JSON_DEPTH),
        json.dumps({"history": [{"content": "[" * 5000 + "{" * 5000}]}),
        json.dumps({"content": 'a \\" quote, a backslash \\\\ and [[[[' * 100}),
        json.dumps([list(range(10))] * 1000),
    ],
    ids=["at-the-limit", "brackets-in-strings", "escapes", "wide-not-deep"],
)
def test_what_is_not_too_deep_passes(text: str) -> None:
    check_nesting(text, "body")
    json.loads(text)  # and it is valid JSON


@pytest.mark.parametrize(
    "text",
    [
        nested(MAX_JSON_DEPTH + 1),
        nested(10_000),
        "[" * 1_000_000,
        '{"a": "\\\\"' + ', "b": ' + nested(100) + "}",  # an escaped backslash ends the string
    ],
    ids=["one-past", "10000-deep", "1MB-of-brackets", "after-an-escaped-backslash"],
)
def test_too_deep_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        check_nesting(text, "history")
    assert refused.value.field == "history"
    assert f"nested more than {MAX_JSON_DEPTH} deep" in refused.value.message
