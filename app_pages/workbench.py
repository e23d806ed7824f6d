"""The workbench's controls on the chat page: View code beside each answer, and the
fields of a prompt's ``{{variables}}`` (before sending, and again in Edit).

The logic is ``chat_core.workbench`` (pure, unit-tested); this module only draws it.
Keys and the owner's endpoints appear in View code as environment variable names.
"""

import json
from collections.abc import Mapping
from dataclasses import replace

import streamlit as st

from chat_core import (
    ChatError,
    ChatSession,
    ChatTurn,
    GenerationParams,
    Settings,
    build_conversation,
)
from chat_core.workbench import (
    fill_templates,
    find_variables,
    has_placeholders,
    parse_schema,
    stored_template,
    structured_fell_back,
    validate_answer,
    view_code,
)

_LANGUAGE_HINT = {
    "python": "Needs `pip install openai`; set the variables named in it first.",
    "curl": "Set the variables named in it first; paste into a shell.",
    "gateway": "Wire protocol v1: one JSON object per `data:` line, then `done`.",
}


def view_code_popover(
    session: ChatSession,
    index: int,
    settings: Settings | None,
    params: GenerationParams | None,
    key: str,
) -> None:
    """A "View code" popover for the answer at ``index`` (drawn beside its prompt's Edit, since
    the answer's action row is full at phone width); nothing when it cannot be built."""
    if settings is None or params is None:
        return
    # Lazy: the snippets are built only while the popover is open (one rerun to open it).
    drawer = st.popover(
        "View code",
        icon=":material/code:",
        key=key,
        on_change="rerun",
        help="This answer's request",
    )
    with drawer:
        if drawer.open:
            show_snippets(session, index, settings, params)


def show_snippets(
    session: ChatSession, index: int, settings: Settings, params: GenerationParams
) -> None:
    turns = session.turns
    prompts = [i for i in range(index) if turns[i].role == "user"]
    if not prompts:
        st.caption("No prompt before this answer.")
        return
    asked = prompts[-1]
    try:
        history = session.model_history(turns[:asked])
        files = session.files_of(turns[asked])  # shown as a marker, not their base64
        conversation = build_conversation(turns[asked].content, history, files)
        snippets = view_code(settings, conversation, params)
    except ChatError as exc:
        st.caption(f"No code for this answer: {exc}")
        return
    st.caption("The request for this answer with the current settings. Copy icon: top right.")
    for tab, snippet in zip(st.tabs([s.title for s in snippets]), snippets, strict=True):
        with tab:
            st.caption(_LANGUAGE_HINT[snippet.kind])
            st.code(snippet.source, language=snippet.language)


# -- {{variables}} ---------------------------------------------------------------------------
PENDING = "wb_pending"  # a prompt with variables, held until its fields are filled
TEMPLATE = "wb_template"
REMEMBERED = "wb_values"  # the last values, offered again in the next template's fields


def with_variables(
    prompt: str | None, params: GenerationParams | None
) -> tuple[str | None, GenerationParams | None, dict[str, str] | None]:
    """(prompt to send, params, what to store beside it); prompt None while fields are open.

    A prompt (or the system prompt) with ``{{name}}`` is held: its fields are drawn here,
    and it is sent, filled, when Send is pressed and every field checks out.
    """
    system = params.system if params is not None else None
    if prompt and (has_placeholders(prompt) or has_placeholders(system)):
        st.session_state[PENDING] = True
        st.session_state[TEMPLATE] = prompt
        prompt = None
    if params is None or not st.session_state.get(PENDING):
        return prompt, params, None
    with st.container(border=True, key="variables"):
        st.markdown("**Fill in the variables**")
        template = st.text_area("Prompt", key=TEMPLATE)
        values = variable_fields(template, system, st.session_state.get(REMEMBERED, {}), "wb-var")
        row = st.container(horizontal=True)
        send = row.button("Send", key="wb_send", type="primary", icon=":material/send:")
        if row.button("Cancel", key="wb_cancel"):
            st.session_state[PENDING] = False
            st.rerun()
        if not send or values is None:
            return None, params, None
        try:
            filled = fill_templates(template, system, values)
        except ChatError as exc:
            st.error(str(exc), icon=":material/block:")
            return None, params, None
    st.session_state[PENDING] = False
    st.session_state[REMEMBERED] = {**st.session_state.get(REMEMBERED, {}), **values}
    return filled.prompt, replace(params, system=filled.system), filled.stored_params


def variable_fields(
    template: str, system: str | None, defaults: Mapping[str, str], prefix: str
) -> dict[str, str] | None:
    """One field per variable of the template and system prompt; None (and why) if one is bad."""
    try:
        names = find_variables(template, system)
    except ChatError as exc:
        st.error(str(exc), icon=":material/block:")
        return None
    values = {}
    for name in names:
        key = f"{prefix}-{name}"
        if key not in st.session_state:
            st.session_state[key] = defaults.get(name, "")
        values[name] = st.text_input(f"{{{{{name}}}}}", key=key)
    return values


def edit_text(turn: ChatTurn) -> str:
    """What Edit starts from: the template when the message was sent from one."""
    template = stored_template(turn.params)
    return template.prompt if template is not None else turn.content


def edit_fields(turn: ChatTurn, text_key: str, params: GenerationParams | None) -> None:
    """Edit's fields for the variables of the text being edited, with the values sent last."""
    template = stored_template(turn.params)
    text = st.session_state.get(text_key, edit_text(turn))
    system = params.system if params is not None else None
    variable_fields(text, system, template.values if template else {}, f"{text_key}-var")


def filled_edit(
    text_key: str, params: GenerationParams | None
) -> tuple[str, GenerationParams | None, dict[str, str]]:
    """The edited text with its variables filled (ChatError naming a bad one), and what to store."""
    text = st.session_state[text_key]
    system = params.system if params is not None else None
    names = find_variables(text, system)
    values = {name: st.session_state.get(f"{text_key}-var-{name}", "") for name in names}
    filled = fill_templates(text, system, values)
    if params is not None:
        params = replace(params, system=filled.system)
    return filled.prompt, params, filled.stored_params


# -- structured output -----------------------------------------------------------------------
def sidebar_schema(params: GenerationParams | None) -> tuple[GenerationParams | None, str | None]:
    """The JSON schema field: (params asking for it, problem that stops answers)."""
    with st.container(key="structured"):
        st.markdown("**Structured output**")
        text = st.text_area(
            "JSON schema",
            key="wb_schema",
            placeholder='{"type": "object", "properties": {...}, "required": [...]}',
            help="Answers are asked for JSON matching it and checked against it.",
        )
    if not text.strip() or params is None:
        return params, None
    try:
        schema = parse_schema(text)
    except ChatError as exc:
        return params, str(exc)
    return replace(params, response_schema=json.dumps(schema)), None


def show_validation(turn: ChatTurn, params: GenerationParams | None, backend: object) -> None:
    """Under an answer, with a schema set: "valid" or the first failing path; one slot always."""
    slot = st.container()
    if params is None or params.response_schema is None or turn.status != "complete":
        return
    schema = json.loads(params.response_schema)
    result = validate_answer(turn.content, schema)
    with slot:
        if result.valid:
            st.caption(":green[:material/check_circle: valid] against the JSON schema")
        else:
            st.caption(f":red[:material/error: not valid] at `{result.path}`: {result.message}")
        if structured_fell_back(params, backend):
            st.caption(
                "This server refused `response_format`: the schema went in the system prompt."
            )
        if result.formatted:
            with st.expander("As JSON", icon=":material/data_object:"):
                st.code(result.formatted, language="json")
