"""The chat page's "Model and settings" panel: the back end, the visitor's own fields, the model.

Page-side (Streamlit) code only; what the fields mean lives in ``chat_core``.
"""

import streamlit as st

from chat_core import (
    BACKEND_CHOICES,
    BackendCache,
    ChatError,
    GenerationParams,
    Settings,
    VisitorInput,
    choose_model,
    connection_report,
    endpoint_fields,
    model_name_problem,
    name_the_source,
    url_problem,
)


def endpoint_inputs(base: Settings) -> tuple[str, str]:
    """The visitor's own endpoints; never prefilled with the owner's, hidden when ``off``."""
    fields = endpoint_fields(base)
    if not fields.shown:
        return "", ""
    base_url = st.text_input(
        "Base URL",
        key="base_url",
        placeholder=fields.base_url_placeholder,
        help=f"Any OpenAI-compatible server: Ollama, vLLM, LM Studio, ... {fields.help}",
    )
    if problem := url_problem(base_url):  # beside the field, as it is typed
        st.error(problem, icon=":material/link_off:")
    remote_url = st.text_input(
        "Remote SSE URL", key="remote_url", placeholder=fields.remote_url_placeholder
    )
    if problem := url_problem(remote_url, "Remote SSE URL"):
        st.error(problem, icon=":material/link_off:")
    return base_url, remote_url


def sidebar_settings(base: Settings):
    """The model and settings fields: (settings, back end, params, problem); Nones if unusable."""
    state = st.session_state
    typed = {
        "OPENAI_API_KEY": state.get("api_key", ""),
        "OPENAI_BASE_URL": state.get("base_url", ""),
        "CHAT_REMOTE_URL": state.get("remote_url", ""),
    }
    effective = _effective_backend(base, state.get("backend_choice", base.backend), typed)
    problem = state.get("settings_problem")
    with st.sidebar.expander(
        "Model and settings", icon=":material/tune:", expanded=problem is not None
    ):
        choice = st.selectbox(
            "Back end",
            BACKEND_CHOICES,
            index=BACKEND_CHOICES.index(base.backend),
            key="backend_choice",
            help="auto: a remote URL, else OpenAI when a key or base URL is set, else offline.",
        )
        st.caption(f"In use: **{effective}**", help="The back end answers come from now.")
        problem_slot = st.empty()  # why the settings cannot work, beside the fields
        api_key = st.text_input(
            "OpenAI API key",
            type="password",
            key="api_key",
            help="Kept in this browser session only; never stored.",
        )
        base_url, remote_url = endpoint_inputs(base)
        model_slot = st.empty()
        # Keyed, defaults in state: a preset (workbench_presets) sets these before they draw.
        state.setdefault("temperature", 0.7)
        state.setdefault("max_tokens", 1000)
        system = st.text_area(
            "System prompt", placeholder="You are a helpful assistant.", key="system_prompt"
        )
        temperature = st.slider("Temperature", 0.0, 2.0, step=0.1, key="temperature")
        max_tokens = st.number_input("Max tokens", 1, 32_768, step=100, key="max_tokens")
    backends: BackendCache = state.setdefault("backends", BackendCache())
    from_sidebar = {name for name, value in typed.items() if value}
    if choice != base.backend:
        from_sidebar.add("CHAT_BACKEND")
    settings = backend = params = None
    problem = None
    listing = None
    try:
        visitor = VisitorInput(
            openai_api_key=api_key, openai_base_url=base_url, remote_url=remote_url
        )
        settings = base.with_overrides(backend=choice, visitor=visitor)
        listing = backends.model_list(settings)
    except ChatError as exc:  # no answer can be asked for until the settings are fixed
        problem, settings = name_the_source(str(exc), from_sidebar), None
    with model_slot.container():  # the field stays where it is, usable or not
        model = model_field(settings or base, listing)
        if settings is not None and listing is not None and listing.pending:
            await_model_list(backends, settings)
        if settings is not None and settings.resolved_backend == "openai":
            connection_check(backends, settings)
    if settings is not None and (bad_name := model_name_problem(model)):
        problem, settings = bad_name, None  # nothing is sent or stored under that name
    if settings is not None:
        try:
            settings = settings.with_overrides(model=model)
            backend = backends.backend(settings)
            # Through a remote server the server picks the model unless one is named: no
            # guessed name (and no guessed price) for its answers.
            remote = settings.resolved_backend == "remote"
            params = GenerationParams(
                model=(settings.model or None) if remote else settings.resolved_model,
                temperature=temperature,
                max_tokens=int(max_tokens),
                system=system or None,
            )
        except ChatError as exc:
            problem = name_the_source(str(exc), from_sidebar)
            settings = backend = params = None
    if problem is not None:
        problem = problem[:1].upper() + problem[1:]
    state["settings_problem"] = problem
    # A Base URL's own problem is already shown beside its field.
    if problem is not None and not (url_problem(base_url) or url_problem(remote_url)):
        problem_slot.error(problem, icon=":material/settings_alert:")
    return settings, backend, params, problem


def _effective_backend(base: Settings, choice: str, typed: dict[str, str]) -> str:
    try:
        visitor = VisitorInput(
            openai_api_key=typed["OPENAI_API_KEY"],
            openai_base_url=typed["OPENAI_BASE_URL"],
            remote_url=typed["CHAT_REMOTE_URL"],
        )
        return base.with_overrides(backend=choice, visitor=visitor).resolved_backend
    except ChatError:
        return "?"


def model_field(settings: Settings, listing) -> str:
    """The Model select (the server's list) or text field (no list); the model to use.

    It starts over with the server's model whenever the endpoint changes.
    """
    state = st.session_state
    choice = choose_model(settings, listing)
    # A new server (or its list, come late): its model, not the last one's.
    if state.get("model_endpoint") != (choice.endpoint, choice.options):
        state["model_endpoint"] = (choice.endpoint, choice.options)
        state["model_pick"] = choice.pick.name
        state["model_text"] = ""
        if choice.pick.note:
            st.toast(choice.pick.note, icon=":material/swap_horiz:")
    if choice.options:
        value = st.selectbox("Model", choice.options, accept_new_options=True, key="model_pick")
    else:
        value = st.text_input("Model", placeholder=choice.pick.name, key="model_text")
    model = choice.used(value)
    if choice.caption and (model == choice.pick.name or not choice.pick.note):
        st.caption(choice.caption)
    return model


@st.fragment(run_every=0.5)
def await_model_list(backends: BackendCache, settings: Settings) -> None:
    """While the server's model list is on its way (the page did not wait): a rerun once here."""
    if not backends.model_list(settings).pending:
        st.rerun(scope="app")


def connection_check(backends: BackendCache, settings: Settings) -> None:
    """Ask the server for its models now, and say what came back."""
    if not st.button("Test connection", icon=":material/network_check:", key="test_connection"):
        return
    at = choose_model(settings, None).where
    level, text = connection_report(backends.model_list(settings, fresh=True), at)
    {"ok": st.success, "wait": st.warning, "bad": st.error}[level](text)
