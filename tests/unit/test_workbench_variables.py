"""{{variables}}: finding, checking and filling them, and the template kept beside the message."""

from __future__ import annotations

import pytest

from chat_core.errors import LimitError, ValidationError
from chat_core.messages import MAX_MESSAGE_CHARS, MAX_SYSTEM_CHARS
from chat_core.storage.records import check_flat_object
from chat_core.workbench import (
    fill_templates,
    find_variables,
    has_placeholders,
    stored_template,
)


def test_names_in_order_of_first_appearance_across_prompt_and_system() -> None:
    assert find_variables("Weather in {{city}} on {{ day }}, {{city}}", "You know {{topic}}") == [
        "city",
        "day",
        "topic",
    ]
    assert find_variables("no variables {here}", None) == []


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("{{ci{ty}}", "braces inside"),
        ("{{{city}}}", "braces inside"),
        ("{{}}", "no name"),
        ("{{  }}", "no name"),
        ("{{two words}}", "'two words'"),
        ("{{1st}}", "'1st'"),
    ],
)
def test_bad_names_are_refused_with_a_message_naming_them(text: str, named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        find_variables(text)
    assert has_placeholders(text)


def test_fill_replaces_every_occurrence_once_and_never_fills_a_value_again() -> None:
    filled = fill_templates(
        "{{city}} and {{city}} in {{month}}",
        "Answer about {{city}}.",
        {"city": "Oslo {{month}}", "month": "May"},
    )
    assert filled.prompt == "Oslo {{month}} and Oslo {{month}} in May"
    assert filled.system == "Answer about Oslo {{month}}."
    restored = stored_template(filled.stored_params)
    assert restored is not None
    assert restored.prompt == "{{city}} and {{city}} in {{month}}"
    assert restored.system == "Answer about {{city}}."
    assert restored.values == {"city": "Oslo {{month}}", "month": "May"}


def test_a_prompt_without_variables_stores_nothing_extra() -> None:
    filled = fill_templates("plain", "plain system", {})
    assert (filled.prompt, filled.system, filled.stored_params) == ("plain", "plain system", {})
    assert stored_template({}) is None
    assert stored_template({"template": "x", "template_values": "not json"}) is None
    assert stored_template({"template": "x", "template_values": '{"a": 1}'}) is None


@pytest.mark.parametrize("value", ["", "   ", None])
def test_an_empty_variable_is_named_and_nothing_filled(value: str | None) -> None:
    values = {"day": "Monday"} if value is None else {"day": "Monday", "city": value}
    with pytest.raises(ValidationError, match=r"\{\{city\}\} is empty") as caught:
        fill_templates("{{city}} on {{day}}", None, values)
    assert caught.value.field == "city"


def test_too_long_once_filled_names_the_text() -> None:
    big = "x" * (MAX_MESSAGE_CHARS // 2 + 1)
    with pytest.raises(LimitError, match="prompt is over"):
        fill_templates("{{a}}{{a}}", None, {"a": big})
    with pytest.raises(LimitError, match="system prompt is over"):
        fill_templates("hi", "{{a}}", {"a": "y" * (MAX_SYSTEM_CHARS + 1)})
    with pytest.raises(LimitError, match=r"\{\{a\}\} is over"):
        fill_templates("{{a}}", None, {"a": "z" * (MAX_MESSAGE_CHARS + 1)})


def test_long_templates_are_stored_in_pieces_the_store_accepts() -> None:
    template = "Summarise {{doc}} " + "t" * 5000
    filled = fill_templates(template, None, {"doc": "d" * 9000})
    check_flat_object(filled.stored_params, "params")  # what the store checks
    restored = stored_template(filled.stored_params)
    assert restored is not None
    assert restored.prompt == template
    assert restored.values == {"doc": "d" * 9000}


def test_the_store_keeps_the_template_beside_the_text_and_edit_replaces_it() -> None:
    from chat_core import ChatStore
    from chat_core.storage.transfer import export_json

    first = fill_templates("About {{topic}}", None, {"topic": "rivers"})
    second = fill_templates("More on {{topic}}", None, {"topic": "lakes"})
    with ChatStore("sqlite://") as store:
        conv = store.create_conversation("me").id
        sent = store.add_message("me", conv, "user", first.prompt, params=first.stored_params)
        kept = store.get_message("me", sent.id)
        assert kept is not None
        assert stored_template(kept.params) == stored_template(first.stored_params)
        store.edit_message("me", sent.id, second.prompt, params=second.stored_params)
        whole = store.get_conversation("me", conv)
        assert whole is not None
        [edited] = whole.messages
        assert edited.content == "More on lakes"
        restored = stored_template(edited.params)
        assert restored is not None and restored.values == {"topic": "lakes"}
        assert '"More on {{topic}}"' in export_json(whole)  # exported with the message
