"""Attachments on the chat page (AppTest): files from the chat input reach the offline model
and are stored; bad files are refused by name, nothing sent or stored, the text kept; a model
that cannot read images is offered Resend without images."""

from __future__ import annotations

import pytest

from chat_core import StreamError
from tests.app.conftest import new_chat_app
from tests.support.files import encrypted_pdf, pdf, photo, png_header_bomb

pytestmark = pytest.mark.app


@pytest.fixture
def app(chat_env):
    return new_chat_app()


def send(app, text: str, *files: tuple[str, bytes]):
    box = app.chat_input[0].set_value(text)
    for name, data in files:
        box.upload(name, data)
    return box.run()


def test_a_png_and_a_pdf_reach_the_model_and_the_store(app):
    send(app, "what are these?", ("shot.png", photo(40, 30)), ("notes.pdf", pdf("Forty two")))
    assert not app.exception
    session = app.session_state["chat"]
    answer = session.turns[-1].content
    assert "You attached 2 files:" in answer
    assert "shot.png: PNG image," in answer and "40 x 30 px" in answer
    assert "notes.pdf: PDF," in answer and "9 characters of text" in answer
    prompt = session.turns[0]
    stored = session.store.attachments_of(session.owner, [prompt.message_id])
    assert [a.name for a in stored[prompt.message_id]] == ["shot.png", "notes.pdf"]
    assert len(app.get("image")) == 1  # the thumbnail under the prompt


def test_files_show_again_after_a_reload(app, chat_env):
    send(app, "look", ("shot.png", photo(40, 30)), ("notes.pdf", pdf("Forty two")))
    session = app.session_state["chat"]
    again = new_chat_app(browser=app.session_state["browser_token"], c=session.conversation_id)
    assert not again.exception
    assert len(again.get("image")) == 1
    assert any("notes.pdf: PDF" in c.value for c in again.caption)


@pytest.mark.parametrize(
    ("name", "data", "said"),
    [
        ("cat.png", b"MZ\x90\x00" + b"\x00" * 64, "cat.png: its content is not a PNG file"),
        ("locked.pdf", encrypted_pdf(), "locked.pdf: the PDF is encrypted"),
        ("broken.pdf", pdf()[:50], "broken.pdf: the PDF could not be read"),
        ("bomb.png", png_header_bomb(), "bomb.png: the image is too large"),
    ],
)
def test_a_bad_file_is_refused_by_name_nothing_sent_text_kept(app, name, data, said):
    send(app, "please read this", (name, data))
    assert not app.exception
    session = app.session_state["chat"]
    assert session.turns == [] and session.conversation_id is None  # nothing sent or stored
    errors = " ".join(e.value for e in app.error)
    assert said in errors and "Attach the files again." in errors
    assert app.chat_input[0].value == "please read this"


def test_too_many_files_are_refused_with_the_limit(app):
    send(app, "all of them", *[(f"n{i}.txt", b"hi") for i in range(11)])
    errors = " ".join(e.value for e in app.error)
    assert "11 files is too many: at most 10 a message" in errors
    assert app.session_state["chat"].turns == []


def test_an_image_refusal_offers_resend_without_images(app):
    send(app, "look", ("shot.png", photo(40, 30)))
    session = app.session_state["chat"]
    # The answer failed as a model without vision fails (what the OpenAI back end reports).
    last = session.turns[-1]
    last.error = StreamError(
        "bad_request",
        "This model cannot read images. Resend without images, or choose a model that reads them.",
        False,
    )
    last.status = "error"
    app.run()
    button = next(b for b in app.button if b.label == "Resend without images")
    button.click().run()
    assert not app.exception
    answer = session.turns[-1].content
    assert "[image shot.png: not sent" in answer  # the offline model quotes its prompt
    assert "You attached" not in answer  # no image went
    assert app.session_state["images_refused"]


def test_a_prompt_without_files_is_answered_as_before(app):
    send(app, "hello")
    assert "You attached" not in app.session_state["chat"].turns[-1].content
    assert app.get("image") == []
