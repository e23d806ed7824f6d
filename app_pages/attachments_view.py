"""Attachments on the chat page: the chat input's files, a prompt's chips and thumbnails, and
the way on when a model cannot read images (Resend without images).

Page-side only: checking and cleaning files is ``chat_core.attachments``.
"""

import streamlit as st

from chat_core import ChatSession, ChatTurn, Settings, user_markdown
from chat_core.attachments import (
    ACCEPTED_EXTENSIONS,
    IMAGES_REFUSED,
    Attachment,
    WithoutImages,
    describe,
    parse_limits,
    prepare_files,
    thumbnail,
)

SENT_FILES = "sent_files"  # the files of the prompt sent this run, (name, bytes)
NO_IMAGES = "images_refused"  # the model that said it cannot read images, this session
THUMBNAIL_PX = 160
INPUT_OPTIONS = {"accept_file": "multiple", "file_type": list(ACCEPTED_EXTENSIONS)}


def keep_sent_files(value: object) -> str | None:
    """The text of what the chat input sent; its files kept for ``sent_files``."""
    if value is None or isinstance(value, str):
        return value
    files = getattr(value, "files", None) or []
    st.session_state[SENT_FILES] = [(f.name, f.getvalue()) for f in files]
    return str(getattr(value, "text", "") or "")


def sent_files() -> list[tuple[str, bytes]]:
    """The files sent with this run's prompt (once)."""
    return st.session_state.pop(SENT_FILES, None) or []


def checked_files(
    files: list[tuple[str, bytes]], settings: Settings, session: ChatSession
) -> tuple[Attachment, ...]:
    """The files checked and cleaned, or a ValidationError naming the file and the limit."""
    if not files:
        return ()
    limits = parse_limits(settings.attachments)
    return prepare_files(files, limits, chat_bytes=session.attachment_bytes())


def show_files(session: ChatSession, index: int, turn: ChatTurn) -> None:
    """A prompt's files: images as thumbnails, documents as chips (one slot either way)."""
    files = session.files_of(turn)
    if not files:
        st.empty()  # the same slots for every prompt (see history.show_answer_chrome)
        return
    with st.container(horizontal=True, key=f"files-{index}"):
        for a in files:
            if a.is_image:
                st.image(small_image(a.data), caption=a.name, width=THUMBNAIL_PX)
            else:
                with st.container(border=True, width="content"):
                    st.caption(":material/description: " + user_markdown(describe(a)))


@st.cache_data(max_entries=200, show_spinner=False)
def small_image(data: bytes) -> bytes:
    """The thumbnail the page shows (twice its width, for sharp screens), made once."""
    return thumbnail(data, THUMBNAIL_PX * 2)


def refused_images(turn: ChatTurn) -> bool:
    """True when this answer failed because the model cannot read images."""
    return turn.error is not None and turn.error.message.startswith(IMAGES_REFUSED)


def resend_without_images(
    backend, params, *, session: ChatSession, expected: int | None = None
) -> None:
    """Answer the last prompt again with its images named, not sent; later prompts too."""
    st.session_state[NO_IMAGES] = getattr(backend, "model", None) or backend.name
    session.retry(WithoutImages(backend), params, expected=expected)


def without_refused_images(backend):
    """The back end as this session must use it: without images once its model refused them."""
    if backend is None or NO_IMAGES not in st.session_state:
        return backend
    if st.session_state[NO_IMAGES] == (getattr(backend, "model", None) or backend.name):
        return WithoutImages(backend)
    return backend
