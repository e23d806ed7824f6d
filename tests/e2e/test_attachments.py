"""Attachments in a real browser: files through the chat input's file picker, the offline
model's account of them, thumbnails after a reload, export and import byte-identical, the
stub's vision model, a llama.cpp-like server's refusal and Resend without images."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import ChatPage, Server, openai_stub, streamlit_app
from tests.support.files import encrypted_pdf, pdf, photo, png_header_bomb
from tests.support.polling import wait_for

pytestmark = pytest.mark.e2e


def stored_files(db: Path) -> list[tuple[str, str, bytes]]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT name, mime, data FROM attachments ORDER BY id").fetchall()
    conn.close()
    return [(name, mime, bytes(data)) for name, mime, data in rows]


def send_with_files(chat: ChatPage, text: str, *files: Path) -> None:
    """Attach through the chat input's own file input, type, send."""
    chat.page.get_by_test_id("stChatInput").locator("input[type=file]").set_input_files(
        [str(f) for f in files]
    )
    for f in files:  # a chip per file under the input before sending
        expect(chat.page.get_by_test_id("stChatInput")).to_contain_text(f.name)
    chat.input.fill(text)
    submit(chat)


def submit(chat: ChatPage) -> None:
    """Send once the uploads are done (the button is disabled while a file uploads)."""
    button = chat.page.get_by_test_id("stChatInputSubmitButton")
    expect(button).to_be_enabled()
    button.click()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    png, doc = tmp_path / "shot.png", tmp_path / "notes.pdf"
    png.write_bytes(photo(40, 30))
    doc.write_bytes(pdf("Forty two"))
    return png, doc


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    workdir = tmp_path_factory.mktemp("attach-app")
    with streamlit_app(workdir) as server:
        yield server, workdir / "chats.sqlite3"


def test_a_png_and_a_pdf_are_answered_kept_and_exported_exactly(
    page: Page, app: tuple[Server, Path], files: tuple[Path, Path]
) -> None:
    server, db = app
    chat = ChatPage(page).open(server.url)
    send_with_files(chat, "what are these?", *files)
    chat.wait_idle(answers=1)
    answer = chat.answers.last
    expect(answer).to_contain_text("You attached 2 files")
    expect(answer).to_contain_text("shot.png: PNG image")
    expect(answer).to_contain_text("40 x 30 px")
    expect(answer).to_contain_text("notes.pdf: PDF")
    expect(answer).to_contain_text("9 characters of text")
    prompt = chat.user_messages.last
    expect(prompt.locator("img")).to_have_count(1)
    expect(prompt).to_contain_text("notes.pdf")

    page.reload()
    chat.input.wait_for()
    expect(chat.user_messages.last.locator("img")).to_have_count(1)
    expect(chat.user_messages.last).to_contain_text("notes.pdf: PDF")

    before = stored_files(db)
    chat.sidebar().get_by_role("button", name="This chat").click()
    popover = page.get_by_test_id("stPopoverBody")
    with page.expect_download() as download:
        popover.get_by_role("button", name="JSON").click()
    exported = Path(download.value.path()).read_bytes()
    files_in_export = json.loads(exported)["messages"][0]["attachments"]
    assert [f["name"] for f in files_in_export] == ["shot.png", "notes.pdf"]

    data = json.loads(exported)
    data["title"] = "A re-imported chat"  # not the same chat: imported, not just opened
    copy = Path(download.value.path()).with_name("again.json")
    copy.write_text(json.dumps(data))
    page.keyboard.press("Escape")
    sidebar = chat.sidebar()
    sidebar.get_by_test_id("stExpander").filter(has_text="Import a chat").locator("summary").click()
    sidebar.locator(".st-key-import_file input[type=file]").set_input_files(str(copy))
    assert wait_for(lambda: len(stored_files(db)) == len(before) + 2, timeout_s=30)
    after = stored_files(db)
    assert after[len(before) :] == before[-2:]  # the imported copies, byte for byte
    expect(chat.sidebar()).to_contain_text("A re-imported chat")
    expect(chat.user_messages.last.locator("img")).to_have_count(1)


BAD_FILES = {  # name -> (content, what the page says)
    "cat.png": (b"MZ\x90\x00" + b"\x00" * 200, "cat.png: its content is not a PNG file"),
    "locked.pdf": (encrypted_pdf(), "locked.pdf: the PDF is encrypted"),
    "broken.pdf": (pdf()[:60], "broken.pdf: the PDF could not be read"),
    "bomb.png": (png_header_bomb(), "bomb.png: the image is too large to decode safely"),
    "big.txt": (b"a" * 6_000_000, "big.txt is 6 MB: over the 5 MB limit per file"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_a_bad_file_is_refused_by_name_and_the_text_stays(
    page: Page, app: tuple[Server, Path], tmp_path: Path, name: str
) -> None:
    server, db = app
    data, said = BAD_FILES[name]
    bad = tmp_path / name
    bad.write_bytes(data)
    chat = ChatPage(page).open(server.url)
    before = stored_files(db)
    send_with_files(chat, "please read this", bad)
    expect(page.get_by_test_id("stAlert").filter(has_text=name)).to_contain_text(said)
    expect(chat.input).to_have_value("please read this")
    expect(chat.user_messages).to_have_count(0)
    assert stored_files(db) == before


def test_fifty_files_at_once_are_refused_with_the_limit(
    page: Page, app: tuple[Server, Path], tmp_path: Path
) -> None:
    server, db = app
    many = []
    for i in range(50):
        many.append(tmp_path / f"note-{i:02}.txt")
        many[-1].write_text(f"note {i}")
    chat = ChatPage(page).open(server.url)
    before = stored_files(db)
    chat.page.get_by_test_id("stChatInput").locator("input[type=file]").set_input_files(many)
    expect(chat.page.get_by_test_id("stChatInput")).to_contain_text("note-49.txt")
    chat.input.fill("all of them")
    submit(chat)
    alert = page.get_by_test_id("stAlert").filter(has_text="too many")
    expect(alert).to_contain_text("50 files is too many: at most 10 a message")
    expect(chat.input).to_have_value("all of them")
    assert stored_files(db) == before


def test_the_stub_vision_model_gets_an_image_without_exif(
    page: Page, tmp_path: Path, files: tuple[Path, Path]
) -> None:
    with (
        openai_stub(tmp_path / "stub", 400, "--model", "stub-vision") as stub,
        streamlit_app(
            tmp_path / "app", OPENAI_BASE_URL=stub.url + "/v1", CHAT_MODEL="stub-vision"
        ) as server,
    ):
        chat = ChatPage(page).open(server.url)
        send_with_files(chat, "what do you see?", files[0])
        chat.wait_idle(answers=1)
        expect(chat.answers.last).to_contain_text("Image 1: image/png")
        expect(chat.answers.last).to_contain_text("40 x 30 px, EXIF none")


def test_a_model_without_vision_offers_resend_without_images(
    page: Page, tmp_path: Path, files: tuple[Path, Path]
) -> None:
    model = "llamacpp-novision"
    with (
        openai_stub(tmp_path / "stub", 400, "--model", model) as stub,
        streamlit_app(
            tmp_path / "app", OPENAI_BASE_URL=stub.url + "/v1", CHAT_MODEL=model
        ) as server,
    ):
        chat = ChatPage(page).open(server.url)
        send_with_files(chat, "what do you see?", files[0])
        error = page.get_by_test_id("stAlert").filter(has_text="cannot read images")
        expect(error).to_contain_text("This model cannot read images.")
        chat.button("resend-no-images").click()
        expect(chat.answers.last).to_contain_text("[image shot.png: not sent")
        expect(page.get_by_test_id("stAlert").filter(has_text="cannot read images")).to_have_count(
            0
        )
