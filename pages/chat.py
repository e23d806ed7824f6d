"""The chat page: sidebar settings, the history, the prompt, the streaming answer."""

import streamlit as st

from chat_core import (
    ChatError,
    GenerationParams,
    Settings,
    load_settings,
    make_backend,
    render_run,
)
from chat_core.render import answer_blocks, user_markdown
from chat_core.session import ChatSession, ChatTurn
from chat_core.settings import BACKEND_CHOICES

STATUS_LABELS = {
    "complete": "",
    "stopped": ":orange-badge[:material/stop_circle: stopped]",
    "interrupted": ":orange-badge[:material/link_off: interrupted]",
    "error": ":red-badge[:material/error: failed]",
    "streaming": ":blue-badge[streaming]",
}
# Follows the growing answer while the reader is near the bottom; scrolling up stops it.
AUTO_SCROLL_JS = """
<script>
(() => {
  if (window.__chatAutoScroll) return;
  window.__chatAutoScroll = true;
  const scroller = () =>
    document.querySelector('[data-testid="stMain"]') || document.scrollingElement;
  let pinned = true;
  document.addEventListener('scroll', () => {
    const s = scroller();
    pinned = s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }, true);
  new MutationObserver(() => {
    const s = scroller();
    if (pinned && document.querySelector('.st-key-streaming-answer')) s.scrollTop = s.scrollHeight;
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
})();
</script>
"""


def yield_point() -> None:
    """Reading session state lets Streamlit handle a click (Stop) while the stream is quiet."""
    st.session_state.get("chat")


session: ChatSession = st.session_state.setdefault("chat", ChatSession())
base = load_settings()

with st.sidebar:
    st.header("Settings")
    choice = st.selectbox(
        "Back end",
        BACKEND_CHOICES,
        index=BACKEND_CHOICES.index(base.backend),
        help="auto: a remote URL, else OpenAI when a key or base URL is set, else offline.",
    )
    model = st.text_input("Model", placeholder=base.resolved_model)
    api_key = st.text_input(
        "OpenAI API key", type="password", help="Kept in this browser session only; never stored."
    )
    base_url = st.text_input(
        "Base URL",
        value=base.openai_base_url or "",
        placeholder="https://api.openai.com/v1",
        help="Any OpenAI-compatible server: Ollama, vLLM, LM Studio, ...",
    )
    remote_url = st.text_input(
        "Remote SSE URL",
        value=base.remote_url or "",
        placeholder="http://127.0.0.1:8000/api/chat/stream",
    )
    system = st.text_area("System prompt", placeholder="You are a helpful assistant.")
    temperature = st.slider("Temperature", 0.0, 2.0, 0.7, 0.1)
    max_tokens = st.number_input("Max tokens", 1, 32_768, 1000, 100)
    st.button(
        "Clear chat",
        on_click=session.clear,
        icon=":material/delete_sweep:",
        disabled=not session.turns and not session.streaming,
    )

settings: Settings | None = None
backend = None
try:
    settings = base.with_overrides(
        backend=choice,
        model=model,
        openai_api_key=api_key,
        openai_base_url=base_url,
        remote_url=remote_url,
    )
    cache = st.session_state.setdefault("backends", {})
    if settings not in cache:
        cache.clear()
        cache[settings] = make_backend(settings)
    backend = cache[settings]
    params = GenerationParams(
        model=settings.resolved_model,
        temperature=temperature,
        max_tokens=int(max_tokens),
        system=system or None,
    )
except ChatError as exc:
    st.sidebar.error(str(exc), icon=":material/settings_alert:")

st.title("Streaming chat")
if settings is not None:
    st.caption(f"Back end **{settings.resolved_backend}** · model `{settings.resolved_model}`")
    if settings.resolved_backend == "offline":
        st.info(
            "**Offline model.** Answers are scripted: no key, no network. To chat with a real "
            "model, set `OPENAI_API_KEY` (or `OPENAI_BASE_URL`) in `.env` or "
            "`.streamlit/secrets.toml`, or enter a key in the sidebar.",
            icon=":material/cloud_off:",
        )
st.html(AUTO_SCROLL_JS, unsafe_allow_javascript=True)


def show_turn(turn: ChatTurn, last: bool) -> None:
    with st.chat_message(turn.role):
        if turn.role == "assistant":
            for piece in answer_blocks(turn.content):  # no websocket message over ~12 KB
                st.markdown(piece)
        elif turn.content:
            st.markdown(user_markdown(turn.content))
        if turn.role != "assistant":
            return
        line = " · ".join(
            x
            for x in (STATUS_LABELS[turn.status], turn.metrics.caption() if turn.metrics else "")
            if x
        )
        if line:
            st.caption(line)
        if turn.error is not None:
            st.error(turn.error.message, icon=":material/error:")
        if last and turn.resumable and backend is not None and not session.streaming:
            left, right = st.columns(2, width=260)
            left.button(
                "Retry",
                icon=":material/refresh:",
                key="retry",
                on_click=session.retry,
                args=(backend, params),
            )
            if turn.content:
                right.button(
                    "Continue",
                    icon=":material/play_arrow:",
                    key="continue",
                    on_click=session.continue_answer,
                    args=(backend, params),
                )


for i, turn in enumerate(session.turns):
    show_turn(turn, last=i == len(session.turns) - 1)

prompt = st.chat_input("Ask anything", disabled=session.streaming or backend is None)
if prompt and backend is not None:
    try:
        session.submit(prompt, backend, params)
    except ChatError as exc:
        st.error(str(exc), icon=":material/block:")
    else:
        st.rerun()

if session.run is not None:
    with st.chat_message("assistant"):
        st.button("Stop", icon=":material/stop_circle:", key="stop", on_click=session.stop)
        if session.run_kind == "continue" and session.turns:
            for piece in answer_blocks(session.turns[-1].content):
                st.markdown(piece)
        with st.container(key="streaming-answer"):
            st.write_stream(render_run(session.run, on_idle=yield_point), cursor="▌")
    session.finish()
    st.rerun()
