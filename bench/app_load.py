"""Benchmark: what one Streamlit process spends per visitor streaming an answer.

N real browser sessions (Debian's Chromium through Playwright, one context
each) send ``/lorem 400`` at the same moment (400 tokens at 40 tok/s: 10 s of
model time) to one ``streamlit run`` server, for the chat page (*ours*) and for
*plain*, a bench-only script that passes the raw tokens to ``st.write_stream``
one a chunk (``bench/plain_app.py``, the same offline model and ``Run``). The two
apps alternate within one run, a fresh server for every row, warmed by one
short answer first.

Per row: the server's CPU seconds (user + system, from /proc: the process and
its children) from the first Enter until every page's websocket has been quiet
for 1 s, divided by N (so the chat page's reruns at an answer's start and end
are counted); each answer's lag, from the Enter key to its last words in the
page's DOM (a MutationObserver) over the model's own time; how many answers
completed within the time allowed; and the server's RSS at its peak during
the row minus its RSS after the warm-up, per session.

Chromium runs on the same two cores as the server: lags include the browsers'
own work and move with the machine's load; CPU seconds are the firmer figure.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.render_cost import _OBSERVER, CHROMIUM_ARGS, Frames, _app, _wait_quiet
from bench.report import ROOT, chromium_version, machine_line, met, say, table, write_section
from chat_core import GenerationParams, OfflineBackend, TextDelta, build_conversation

PROMPT = "/lorem 400"
TPS = 40.0
LEVELS = (1, 10, 20)
QUICK_LEVELS = (1, 5)
APPS = {"plain": ROOT / "bench" / "plain_app.py", "ours": ROOT / "streamlit_app.py"}


def answer_tail() -> tuple[str, float]:
    """The answer's last three words, and the model's own duration in seconds."""
    plan = OfflineBackend(TPS).plan(build_conversation(PROMPT, []), GenerationParams())
    text = "".join(e.text for _, e in plan if isinstance(e, TextDelta))
    return " ".join(text.split()[-3:]), plan[-1][0]


def answer_head() -> str:
    """A word from the answer's first line (one that markdown shows as it is)."""
    plan = OfflineBackend(TPS).plan(build_conversation(PROMPT, []), GenerationParams())
    text = "".join(e.text for _, e in plan if isinstance(e, TextDelta))
    return next(w for w in text.split() if w.isalpha() and len(w) >= 5)


# When the answer's first word shows: how long the app takes to start streaming.
_FIRST = """head => {
  const main = () => document.querySelector('[data-testid="stMain"]') || document.body;
  new MutationObserver(() => {
    const b = window.__bench;
    if (b.t0 !== null && b.tFirst === undefined && main().textContent.includes(head)) {
      b.tFirst = performance.now();
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_cpu_s(pid: int) -> float:
    """CPU seconds of a process, its live descendants and its reaped children."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += procs.cpu_s(current)
        todo += _children(current)
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return total


def browsers_cpu_s() -> float:
    """CPU seconds of this process's children: Playwright's driver and the Chromium it runs."""
    me = os.getpid()
    return sum(tree_cpu_s(child) for child in _children(me) if child != me)


@dataclass
class Row:
    variant: str
    n: int
    cpu_per_answer_s: float
    lags: list[float]  # last word / model time, per completed answer
    completed: int
    rss_per_session_mb: float
    browser_cpu_per_answer_s: float = 0.0  # Chromium and Playwright's driver, same cores
    first_words_s: list[float] | None = None  # Enter to the answer's first word, per answer

    @property
    def first_p50_s(self) -> float:
        return statistics.median(self.first_words_s) if self.first_words_s else float("nan")

    def lag(self, q: str) -> float:
        if not self.lags:
            return float("nan")
        return statistics.median(self.lags) if q == "p50" else max(self.lags)


@contextlib.contextmanager
def _profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy samples the server while the row runs (by default the GIL holder: its Python work).

    Written when py-spy gets SIGINT; ``PY_SPY`` names the binary, ``PY_SPY_ARGS`` its mode.
    """
    if out is None:
        yield
        return
    spy_cmd = [
        os.environ.get("PY_SPY", "py-spy"),
        "record",
        "--pid",
        str(pid),
        *os.environ.get("PY_SPY_ARGS", "--gil").split(),
        "-r",
        "100",
    ]
    spy = subprocess.Popen(
        [*spy_cmd, "-f", "raw", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)


def _open_page(browser: Any, url: str, frames: Frames) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("websocket", frames.on_socket)
    page.goto(url)
    page.get_by_placeholder("Ask anything").wait_for(timeout=120_000)
    return context, page


def _warm_up(browser: Any, url: str) -> None:
    """One short answer: the first script run imports the app's modules."""
    frames = Frames()
    context, page = _open_page(browser, url, frames)
    try:
        box = page.get_by_placeholder("Ask anything")
        box.fill("/lorem 5")
        box.press("Enter")
        page.get_by_test_id("stChatMessage").nth(1).wait_for(timeout=60_000)
        _wait_quiet(frames, 1.0, 30)
    finally:
        context.close()


def measure(
    browser: Any,
    server: procs.Server,
    variant: str,
    n: int,
    tail: str,
    model_s: float,
    profile: Path | None = None,
    head: str = "",
) -> Row:
    _warm_up(browser, server.url)
    time.sleep(1.0)
    base_kb = procs.rss_kb(server.pid)
    frames = Frames()
    opened = [_open_page(browser, server.url, frames) for _ in range(n)]
    try:
        _wait_quiet(frames, 1.0, 60)
        pages = [page for _, page in opened]
        for page in pages:
            page.evaluate(_OBSERVER, tail)
            page.evaluate(_FIRST, head)
            page.get_by_placeholder("Ask anything").fill(PROMPT)
        with procs.PeakRss(server.pid) as peak, _profiled(server.pid, profile):
            cpu_before = tree_cpu_s(server.pid)
            browsers_before = browsers_cpu_s()
            for page in pages:
                page.get_by_placeholder("Ask anything").press("Enter")
            deadline = time.monotonic() + 3 * model_s + 30
            done: dict[int, float] = {}
            first: dict[int, float] = {}
            while len(done) < n and time.monotonic() < deadline:
                for i, page in enumerate(pages):
                    if i not in done:
                        t0, t_first, t_last = page.evaluate(
                            "() => [window.__bench.t0, window.__bench.tFirst ?? null,"
                            " window.__bench.tLast]"
                        )
                        if t_last is not None and t0 is not None:
                            done[i] = (t_last - t0) / 1000 / model_s
                            if t_first is not None:
                                first[i] = (t_first - t0) / 1000
                time.sleep(0.25)
            _wait_quiet(frames, 1.0, 30)
            cpu = tree_cpu_s(server.pid) - cpu_before
            browsers = browsers_cpu_s() - browsers_before
        rss_mb = max(0, peak.peak_kb - base_kb) / 1024 / n
        return Row(
            variant,
            n,
            cpu / n,
            sorted(done.values()),
            len(done),
            rss_mb,
            browsers / n,
            sorted(first.values()),
        )
    finally:
        for context, _ in opened:
            context.close()


def run(
    levels: tuple[int, ...] = LEVELS,
    runs: int = 1,
    profile: Path | None = None,
    apps: tuple[str, ...] = tuple(APPS),
) -> list[Row]:
    """Each level, the apps alternating, ``runs`` times; print and record the table.

    ``profile``: a directory for a py-spy profile of each row (``PY_SPY``, ``PY_SPY_ARGS``).
    """
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    tail, model_s = answer_tail()
    head = answer_head()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-app-") as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for i in range(runs):
                for n in levels:
                    for variant in apps:
                        script = APPS[variant]
                        workdir = Path(tmp, f"{variant}-{n}-{i}")
                        out = None if profile is None else profile / f"{variant}-{n}-{i}.txt"
                        with _app(workdir, script, TPS) as server:
                            row = measure(browser, server, variant, n, tail, model_s, out, head)
                        rows.append(row)
                        say(
                            f"  app N={n} {variant}: {row.cpu_per_answer_s:.3f} CPU s/answer, "
                            f"lag p50 {row.lag('p50'):.2f}x max {row.lag('max'):.2f}x, "
                            f"{row.completed}/{n} done, {row.rss_per_session_mb:.1f} MB/session, "
                            f"browsers {row.browser_cpu_per_answer_s:.2f} CPU s/answer, "
                            f"first word p50 {row.first_p50_s:.2f} s"
                        )
        finally:
            browser.close()
    if set(apps) == set(APPS):
        report(rows, runs, model_s, load)
    return rows


def _cell(rows: list[Row], fmt: str, value: Any) -> str:
    return " / ".join(fmt.format(value(r)) for r in rows)


def report(rows: list[Row], runs: int, model_s: float, load: tuple[float, ...]) -> None:
    body_rows, goals = [], []
    levels = sorted({r.n for r in rows})
    for n in levels:
        plain = [r for r in rows if r.n == n and r.variant == "plain"]
        ours = [r for r in rows if r.n == n and r.variant == "ours"]
        for name, group in (("plain `st.write_stream`", plain), ("ours (chat page)", ours)):
            body_rows.append(
                [
                    n,
                    name,
                    _cell(group, "{:.2f} s", lambda r: r.cpu_per_answer_s),
                    _cell(group, "{:.2f}x", lambda r: r.lag("p50")),
                    _cell(group, "{:.2f}x", lambda r: r.lag("max")),
                    _cell(group, "{}", lambda r: f"{r.completed}/{r.n}"),
                    _cell(group, "{:.1f} MB", lambda r: r.rss_per_session_mb),
                    _cell(group, "{:.2f} s", lambda r: r.browser_cpu_per_answer_s),
                    _cell(group, "{:.2f} s", lambda r: r.first_p50_s),
                ]
            )
        p_cpu = statistics.median(r.cpu_per_answer_s for r in plain)
        o_cpu = statistics.median(r.cpu_per_answer_s for r in ours)
        target = 0.25 if n == 1 else 1.0
        goals.append(
            [
                f"N = {n}: server CPU per answer",
                f"≤ {target:g}x plain's",
                f"{o_cpu:.2f} s vs {p_cpu:.2f} s ({o_cpu / max(p_cpu, 1e-9):.2f}x)",
                met(o_cpu <= target * p_cpu),
            ]
        )
        complete = all(r.completed == r.n for r in ours)
        goals.append(
            [
                f"N = {n}: every answer complete",
                "all",
                _cell(ours, "{}", lambda r: f"{r.completed}/{r.n}"),
                met(complete),
            ]
        )
        if n == max(levels):
            p_lag = statistics.median(r.lag("p50") for r in plain)
            o_lag = statistics.median(r.lag("p50") for r in ours)
            goals.append(
                [
                    f"N = {n}: lag p50",
                    "≤ plain's",
                    f"{o_lag:.2f}x vs {p_lag:.2f}x",
                    met(o_lag <= p_lag),
                ]
            )
    headers = [
        "N",
        "app",
        "server CPU per answer",
        "lag p50",
        "lag max",
        "completed",
        "RSS per session",
        "browsers' CPU per answer",
        "first word p50",
    ]
    result = table(headers, body_rows)
    goal_table = table(["goal (ours)", "target", "measured (medians)", "met"], goals)
    say()
    say(result)
    say()
    say(goal_table)
    body = "\n\n".join(
        [
            f"## 7. Visitors per core: N sessions streaming `{PROMPT}` at {TPS:.0f} tok/s at once",
            f"The model takes {model_s:.1f} s. One Streamlit server per row (fresh, warmed by one "
            "short answer), N Chromium contexts pressing Enter together; the apps alternate in one "
            'run. "Server CPU per answer" is the process\'s CPU (from /proc) from the first Enter '
            'until the websockets were quiet for 1 s, over N; "lag" is each answer\'s last word '
            "in the DOM over the model's time; RSS per session is the server's peak during the "
            "row over its RSS after the warm-up, per session; the browsers' CPU (Chromium and "
            "Playwright's driver) is over the same window, per answer. Cells with several values "
            "are separate runs. Chromium shares the server's two cores: lags move with the load, "
            "CPU seconds are the firmer figure.",
            result,
            goal_table,
            machine_line(runs, chromium_version(), load),
        ]
    )
    write_section("app", body)
