"""The chat page's history: each turn with its reasoning, answer, status line and actions.

Every control reads the session's one answer phase (idle, streaming, finished): while
an answer streams only Stop acts on it, and a click drawn for an older state of the
chat (``expected=session.version``) is ignored, never an exception.
"""

import functools
from dataclasses import dataclass

import streamlit as st

from app_pages.attachments_view import refused_images, resend_without_images, show_files
from app_pages.chat_sidebar import guarded
from app_pages.tool_steps import offered_tools, show_tool_steps
from app_pages.versions_nav import install_versions_style, versions_row
from app_pages.workbench import (
    edit_fields,
    edit_text,
    filled_edit,
    show_validation,
    view_code_popover,
)
from chat_core import (
    HISTORY_WINDOW,
    Backend,
    ChatError,
    ChatSession,
    ChatTurn,
    GenerationParams,
    ModelPrice,
    Settings,
    Starter,
    answer_badge,
    answer_blocks,
    earlier_label,
    format_cost,
    history_start,
    prompt_preview,
    reasoning_blocks,
    starters_for,
    thinking_label,
    user_markdown,
)


@dataclass(frozen=True)
class ChatView:
    """What this run's controls act on; ``backend`` is None until a setting is fixed."""

    session: ChatSession
    backend: Backend | None
    params: GenerationParams | None
    prices: dict[str, ModelPrice]
    settings: Settings | None = None  # for View code
    backend_kind: str = "offline"  # which starters fit: directives only for the offline model

    @property
    def idle(self) -> bool:
        """A new answer may start: there is a back end and nothing is streaming."""
        return self.backend is not None and self.session.phase == "idle"


def show_history(view: ChatView) -> int:
    """The chat's latest turns (earlier ones on request), or the starter prompts when it is empty.

    Returns how many children it gave the chat area (``stream_answer`` counts them).
    """
    install_versions_style()
    turns = view.session.turns
    wanted = st.session_state.get("history_shown", (None, HISTORY_WINDOW))
    shown = wanted[1] if wanted[0] == view.session.conversation_id else HISTORY_WINDOW
    start = history_start([t.role for t in turns], shown)
    if start:
        # A chat message like every other child of the chat area (see live_answer.py).
        with st.chat_message("earlier", avatar=":material/history:"):
            st.button(
                earlier_label(start),
                key="show-earlier",
                type="tertiary",
                on_click=st.session_state.__setitem__,
                args=("history_shown", (view.session.conversation_id, shown + HISTORY_WINDOW)),
            )
    for i in range(start, len(turns)):
        show_turn(view, i, turns[i], last=i == len(turns) - 1)
    if not turns and not view.session.streaming:
        show_starters(starters_for(view.backend_kind))
    return (1 if start else 0) + len(turns) - start


def show_turn(view: ChatView, index: int, turn: ChatTurn, last: bool) -> None:
    with st.chat_message(turn.role):
        if turn.role == "assistant":
            if turn.reasoning:
                seconds = turn.metrics.thinking_s if turn.metrics else None
                with st.expander(thinking_label(seconds), icon=":material/psychology:"):
                    for piece in reasoning_blocks(turn.reasoning):
                        st.markdown(piece)
            else:
                st.empty()  # the reasoning's slot (see show_answer_chrome)
            with st.container(key=f"answer-{index}"):
                for piece in answer_blocks(turn.content):  # no websocket message over ~12 KB
                    st.markdown(piece)
            if turn.tool_steps:  # its calls, each a step asking for its result
                show_tool_steps(
                    view.session, index, turn, offered_tools(view.params), last and view.idle
                )
            show_answer_chrome(view, index, turn, last)
            return
        show_prompt(turn.content)
        show_files(view.session, index, turn)  # thumbnails and chips
        with st.container(horizontal=True, vertical_alignment="center", key=f"prompt-{index}"):
            show_edit(view, index, turn)
            versions_row(view.session, turn)


def show_edit(view: ChatView, index: int, turn: ChatTurn) -> None:
    """View code of this prompt's answer, and Edit and resend: a new version of the prompt."""
    if not view.idle:
        st.empty()  # the View code and Edit popovers' slots (see show_answer_chrome)
        st.empty()
        return
    # View code sits here: the answer's own row is full on a phone.
    answered = index + 1 < len(view.session.turns)
    settings = view.settings if answered else None
    view_code_popover(view.session, index + 1, settings, view.params, f"code-{index}")
    # A new key per version: the popover is closed again once its resend went out.
    version = view.session.version
    # Lazy (drawn when opened): a text area per prompt made a rerun of a long chat cost
    # 200 of them, each scanning the whole session state.
    edit = st.popover(
        "Edit", icon=":material/edit:", key=f"edit-{index}-{version}", on_change="rerun"
    )
    if not edit.open:
        return
    with edit:
        key = f"edit-text-{turn.message_id or index}-{version}"
        st.text_area("Your message", value=edit_text(turn), key=key)
        edit_fields(turn, key, view.params)  # its {{variables}}, with the values sent
        st.button(
            "Save and resend",
            key=f"resend-{index}",
            on_click=guarded(on_edit),
            args=(view, index, key, version),
            help="A new version of this message, answered anew; the old one stays.",
        )


def show_prompt(text: str) -> None:
    """A prompt as sent; a long one as its first lines, the whole of it behind "Show all"."""
    preview = prompt_preview(text)
    st.markdown(user_markdown(preview if preview is not None else text))
    if preview is None:
        st.empty()  # the same slots either way (see show_answer_chrome)
        return
    with st.expander(f"Show all ({len(text):,} characters)", icon=":material/unfold_more:"):
        st.markdown(user_markdown(text))


def show_answer_chrome(view: ChatView, index: int, turn: ChatTurn, last: bool) -> None:
    """Status, metrics and cost; the error; thumbs, Copy, and Retry/Continue or Regenerate.

    Every answer draws the same slots (an empty one where nothing is offered): a block
    keeps last run's children beyond what this run drew until the script ends, which
    during a stream would leave an old Retry or error on screen.
    """
    session = view.session
    caption = turn.metrics.caption() if turn.metrics else ""
    cost = turn.cost_usd(view.prices)
    cost_text = format_cost(cost) if cost is not None else ""
    badge = answer_badge(turn.shown_status, turn.finish_reason)
    line = " · ".join(x for x in (badge, caption, cost_text) if x)
    st.caption(line or " ")
    if turn.error is not None:
        st.error(turn.error.message, icon=":material/error:")
    else:
        st.empty()
    if note := turn.note():
        st.info(note.message, icon=note.icon)
    else:
        st.empty()
    show_validation(turn, view.params, view.backend)  # with a JSON schema set
    row = st.container(horizontal=True, vertical_alignment="center", key=f"actions-{index}")
    key = f"fb-{turn.message_id or index}"
    default = {1: 1, -1: 0}.get(turn.feedback)
    row.feedback(
        "thumbs", key=key, default=default, on_change=on_feedback, args=(session, index, key)
    )
    with row:
        copy_button(f"answer-{index}", key)
    actions = []
    if last and view.idle and refused_images(turn):  # the model cannot read images
        again = functools.partial(resend_without_images, session=session)
        actions = [("Resend without images", "hide_image", "resend-no-images", again)]
    elif last and view.idle:
        if not turn.resumable:
            actions = [("Regenerate", "refresh", "regenerate", session.retry)]
        else:
            if turn.retry_helps:
                actions.append(("Retry", "refresh", "retry", session.retry))
            if turn.continuable:
                actions.append(("Continue", "play_arrow", "continue", session.continue_answer))
    for slot in range(2):
        if slot >= len(actions):
            row.empty()
            continue
        label, icon, name, action = actions[slot]
        row.button(
            label,
            icon=f":material/{icon}:",
            key=name,
            on_click=guarded(action),
            args=(view.backend, view.params),
            kwargs={"expected": session.version},
        )
    with row:  # on the actions' line: a finished answer is as tall as it was streaming
        versions_row(session, turn)


def on_feedback(session: ChatSession, index: int, key: str) -> None:
    thumbs = st.session_state.get(key)  # st.feedback: 0 down, 1 up, None cleared
    try:
        session.set_feedback(index, 0 if thumbs is None else (1 if thumbs == 1 else -1))
    except ChatError as exc:  # the database away: say so, the chat stays usable
        st.toast(f"Feedback not saved: {exc}", icon=":material/database_off:")


def on_edit(view: ChatView, index: int, key: str, expected: int) -> None:
    try:
        text, params, stored = filled_edit(key, view.params)
        view.session.edit(
            index, text, view.backend, params, expected=expected, stored_params=stored
        )
    except ChatError as exc:
        st.session_state["edit_error"] = str(exc)


def copy_button(answer_key: str, key: str) -> None:
    """One click copies the answer's markdown; the button says "Copied" (chat_behaviour.js).

    The button names the answer's container; the script reads the markdown shown there on
    click, so the text crosses the websocket once, not twice (a long answer's copy made a
    27 KB frame).
    """
    st.html(
        f'<button type="button" class="copy-{key}" data-label="Copy" '
        f'data-copy-from="{answer_key}">Copy</button>',
        width="content",
    )


def show_starters(starters: tuple[Starter, ...]) -> None:
    """An empty chat offers a few prompts; offline, each shows its directive on the chip."""
    # A chat message, like every other child of the chat area (see live_answer.py).
    with st.chat_message("starters", avatar=":material/lightbulb:"):
        st.caption("Try one of these, or ask anything below.")
        row = st.container(horizontal=True, key="starters")
    with row:
        for i, starter in enumerate(starters):
            st.button(
                starter.chip,
                key=f"starter-{i}",
                help=starter.prompt,
                on_click=st.session_state.__setitem__,
                args=("starter_prompt", starter.prompt),
            )
