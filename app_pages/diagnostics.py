"""Stream diagnostics: probe one answer live, read its event log, see the chat session's
aggregates, load-test a gateway, download the measurements."""

import time

import streamlit as st

from chat_core import (
    ChatError,
    GenerationParams,
    VisitorInput,
    directive_list,
    endpoint_fields,
    load_settings,
    render_run,
    safe_markdown,
    with_listening_address,
)
from chat_core.diagnostics import (
    EXAMPLE_PROMPTS,
    MAX_LOAD_STREAMS,
    PROBE_BACKENDS,
    LoadTarget,
    Probe,
    ProbeTarget,
    export_json,
    histogram,
    load_progress,
    load_values,
    measurement_rows,
    metric_values,
    readable_rows,
    run_load_target,
    session_answers,
    session_summary,
    status_badge,
    to_csv,
)

state = st.session_state.setdefault("diagnostics", {"probe": None, "load": None})
base = with_listening_address(load_settings(), st.get_option("server.address"))
fields = endpoint_fields(base)  # a visitor's own endpoints: never prefilled with the owner's
st.session_state.setdefault("probe_prompt", EXAMPLE_PROMPTS[0])


def use_example() -> None:
    if st.session_state.probe_example:
        st.session_state.probe_prompt = st.session_state.probe_example


def metric_grid(count: int, per_row: int = 4) -> list:
    """Empty slots for up to ``count`` metrics, to fill (and refill) later.

    One wrapping row of fixed-width cells, not ``per_row`` columns: a phone stacks
    columns, and 15 metrics stood 1,400 px tall; cells wrap two or three to a line.
    """
    row = st.container(horizontal=True, gap="small", key=f"metrics-{per_row}-{count}")
    return [row.empty() for _ in range(count)]


def show_metrics(slots: list, values: list[tuple[str, str]]) -> None:
    """The metrics in the first slots; slots left over (reasoning not shown) emptied."""
    for i, slot in enumerate(slots):
        if i < len(values):
            slot.metric(*values[i], width=150)
        else:
            slot.empty()


st.title("Stream diagnostics")
about = (
    "Time to first token, tokens per second, gaps, stalls, reconnects and errors, measured "
    "where the answer arrives."
)
if base.resolved_backend == "offline":  # a real model answers directives with nonsense
    about += f" Offline directives: {directive_list()} (`/drop` through a gateway)."
st.caption(about)

# -- the probe: settings ---------------------------------------------------------------
st.header("Probe", divider="gray")
probe: Probe | None = state["probe"]
running = probe is not None and not probe.finished
# The full width: in a column the examples were cut at the right edge.
st.pills("Examples", EXAMPLE_PROMPTS, key="probe_example", on_change=use_example)
left, right = st.columns([1, 2])
with left:
    backend = st.segmented_control(
        "Back end",
        PROBE_BACKENDS,
        default=base.resolved_backend,
        key="probe_backend",
        required=True,
    )
    if backend == "offline":
        tps = st.number_input("Tokens per second", 1.0, 10_000.0, base.offline_tps, 10.0)
        target = ProbeTarget.from_settings(base, "offline", offline_tps=tps)
    elif backend == "openai":
        key = st.text_input(
            "API key", type="password", help="Used for this probe only; never stored."
        )
        url = ""
        if fields.shown:
            url = st.text_input(
                "Base URL", placeholder=fields.base_url_placeholder, help=fields.help
            )
        model = st.text_input("Model", base.model or "", placeholder=base.resolved_model)
        typed = VisitorInput(openai_api_key=key, openai_base_url=url)
        target = ProbeTarget.from_settings(base, "openai", model=model or None, visitor=typed)
    else:  # remote
        url = ""
        if fields.shown:
            url = st.text_input(
                "Remote SSE URL", placeholder=fields.remote_url_placeholder, help=fields.help
            )
        token = st.text_input("Gateway token", type="password")
        typed = VisitorInput(remote_url=url, gateway_token=token)
        target = ProbeTarget.from_settings(base, "remote", visitor=typed)
with right:
    prompt = st.text_area("Prompt or directive", key="probe_prompt", height=100)
    go, stop = st.columns(2, width=320)
    if go.button(
        "Run probe", type="primary", icon=":material/play_arrow:", key="run_probe", disabled=running
    ):
        try:
            probe = state["probe"] = Probe.start(
                target, prompt, GenerationParams(model=target.model)
            )
            running = True
        except ChatError as exc:
            st.error(str(exc), icon=":material/block:")
    if running and probe is not None:
        stop.button(
            "Stop", icon=":material/stop_circle:", key="stop_probe", on_click=probe.run.cancel
        )

# -- the probe: live view (filled now, or by the stream at the end of the page) --------
if probe is not None:
    status_slot = st.empty()
    metric_slots = metric_grid(15)
    answer_box = st.container(border=True, height=320)
    tokens_col, gaps_col = st.columns(2)
    tokens_col.caption("Tokens over time (s)")
    gaps_col.caption("Inter-chunk gaps (ms)")
    tokens_chart, gaps_chart = tokens_col.empty(), gaps_col.empty()
    st.subheader("Event log")
    st.caption(
        "One row per event: its id, type, data, time since the request and size on the "
        "wire. For the remote back end, what arrived over SSE, as received."
    )
    log_slot = st.empty()

    def redraw(now: float | None) -> None:
        m = probe.metrics(now)
        status_slot.markdown(f"{status_badge(m)} · {probe.target.backend}")  # no raw run id
        show_metrics(metric_slots, metric_values(m, probe.nbytes()))
        tokens_chart.line_chart(probe.timeline(), x="seconds", y="tokens", height=220)
        gaps_chart.bar_chart(
            histogram(probe.gaps_ms(), 12, min_width=1.0),
            x="from",
            y="count",
            x_label="Gap between chunks (ms)",
            y_label="Gaps",
            height=220,
        )
        log_slot.dataframe(
            probe.log_rows(),
            hide_index=True,
            height=280,
            column_config={
                "t_ms": st.column_config.NumberColumn("t (ms)", format="%.1f"),
                "nbytes": "bytes",
            },
        )

    redraw(time.monotonic())
    if not running:
        with answer_box:
            if probe.run.text:
                st.markdown(safe_markdown(probe.run.text))
            if probe.run.error is not None:
                st.error(probe.run.error.message, icon=":material/error:")

# -- the chat page's session ----------------------------------------------------------
st.header("This session's chat answers", divider="gray")
chat = st.session_state.get("chat")
if chat is None or not chat.stats.requests:
    st.info("No answers yet: ask something on the Chat page.", icon=":material/forum:")
    answers: list = []
else:
    show_metrics(metric_grid(6, 6), session_summary(chat.stats))
    if chat.stats.errors_by_code:
        st.caption(
            "Errors by code: "
            + ", ".join(f"`{code}` {n}" for code, n in sorted(chat.stats.errors_by_code.items()))
        )
    answers = session_answers(chat.turns)
    st.dataframe(readable_rows(answers), hide_index=True)

# -- the load test -------------------------------------------------------------------
st.header("Load test", divider="gray")
st.caption(
    "Many streams at once through an SSE gateway. No gateway yet? `make gateway` starts one "
    "with the offline model at `http://127.0.0.1:8000/api/chat/stream`."
)
with st.form("load_test"):
    url_col, n_col = st.columns([2, 1])
    load_url = ""
    if fields.shown:
        load_url = url_col.text_input(
            "Gateway URL",
            placeholder=fields.remote_url_placeholder,
            help=fields.help,
            key="load_url",
        )
    streams = n_col.slider("Concurrent streams", 1, MAX_LOAD_STREAMS, 20, key="load_streams")
    load_prompt = url_col.text_input("Prompt", "/lorem 100", key="load_prompt")
    load_token = n_col.text_input("Gateway token", type="password", key="load_token")
    start_load = st.form_submit_button("Run load test", icon=":material/speed:", disabled=running)
if start_load:
    bar = st.progress(*load_progress(0, 0, streams))
    failed: list[int] = []

    def on_progress(finished: int, result) -> None:
        failed.extend([1] if result.metrics.status != "complete" else [])
        bar.progress(*load_progress(finished, len(failed), streams))

    try:
        state["load"] = run_load_target(
            LoadTarget.choose(base, load_url, load_token),
            streams,
            load_prompt,
            on_progress=on_progress,
        )
    except (ChatError, ValueError) as exc:
        st.error(str(exc), icon=":material/block:")
if (load := state["load"]) is not None:
    s = load.summary()
    if s["failures"] and s["failures"] == s["streams"]:
        st.error(f"All {s['streams']} streams failed.", icon=":material/error:")
    elif s["failures"]:
        st.warning(f"{s['failures']} of {s['streams']} streams failed.", icon=":material/warning:")
    show_metrics(metric_grid(6, 3), load_values(s))
    if s["failures_by_code"]:
        st.caption(
            "Failures by code: " + ", ".join(f"`{c}` {n}" for c, n in s["failures_by_code"].items())
        )
    charts = (  # in ms, at least 1 ms a bin: short labels a reader can take in
        ("First-token time (ms)", "First token (ms)", load.first_token_s()),
        ("Duration (ms)", "Duration (ms)", load.total_s()),
    )
    for column, (title, x_label, seconds) in zip(st.columns(2), charts, strict=True):
        column.caption(title)
        column.bar_chart(
            histogram([v * 1000 for v in seconds], 10, min_width=1.0),
            x="from",
            y="count",
            x_label=x_label,
            y_label="Streams",
            height=200,
        )
    with st.expander(f"Every stream ({len(load.results)})"):
        st.dataframe(readable_rows(r.row() for r in load.results), hide_index=True)

# -- downloads -----------------------------------------------------------------------
st.header("Download", divider="gray")
rows = measurement_rows(state["probe"], answers, state["load"])
csv_col, json_col = st.columns(2, width=420)
csv_col.download_button(
    "Measurements (CSV)",
    to_csv(rows),
    "stream-measurements.csv",
    "text/csv",
    on_click="ignore",
    icon=":material/download:",
    disabled=not rows,
)
json_col.download_button(
    "Everything (JSON)",
    export_json(state["probe"], chat.stats if chat else None, answers, state["load"]),
    "stream-diagnostics.json",
    "application/json",
    on_click="ignore",
    icon=":material/download:",
    disabled=not rows,
)

# -- last: follow a running probe (it may have just ended), redrawing the live view ----
if running and probe is not None:

    def on_event(seq: int, event: object) -> None:
        now = time.monotonic()
        if probe.observe(seq, event, now=now):
            redraw(now)

    def on_idle() -> None:
        now = time.monotonic()
        if probe.observe(0, None, now=now):
            redraw(now)

    with answer_box:
        st.write_stream(render_run(probe.run, on_event=on_event, on_idle=on_idle), cursor="▌")
    st.rerun()
