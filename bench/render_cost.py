"""Benchmark 1, render cost: what a long streamed answer costs the browser's websocket.

``streamlit run`` in a real headless Chromium (Debian's, driven by Playwright):
the offline model streams ``/lorem 4000`` at 240 tok/s (16.7 s of model time).
Two apps in the same run, alternating: *plain*, a bench-only script
(``bench/plain_app.py``) that passes the raw text to ``st.write_stream`` one
token a chunk, and *ours*, the real chat page (``render.py``: chunks coalesced
per 40 ms frame, a new element per finished markdown block, the finished answer
shown in pieces of whole blocks via ``answer_blocks`` where the page uses it).

Measured per run, from the Enter key until the websocket has been quiet for 1 s
after the last word appeared (so the chat page's final rerun is included):
websocket frames received by the page and their payload bytes (Playwright's
``framereceived``; payloads after any websocket compression), the largest frame,
split at the last word into the stream's frames and those after (the page's
final rerun), and when the answer's last words first appear in the page's DOM (a
MutationObserver, so before paint by at most a frame), measured from the Enter
key. "Lag" is that time beyond the model's own 16.7 s: it includes the prompt's
round trip and rerun before the model starts, which the user waits for too.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import procs
from bench.report import ROOT, chromium_version, machine_line, met, say, table, write_section
from chat_core import GenerationParams, OfflineBackend, TextDelta, build_conversation

PROMPT = "/lorem 4000"
TPS = 240.0
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUIET_S = 1.0
WAIT_S = 90.0
_OBSERVER = """tail => {
  window.__bench = {t0: null, tLast: null};
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && window.__bench.t0 === null) window.__bench.t0 = performance.now();
  }, true);
  const main = () => document.querySelector('[data-testid="stMain"]') || document.body;
  new MutationObserver(() => {
    const b = window.__bench;
    if (b.t0 !== null && b.tLast === null && main().textContent.includes(tail)) {
      b.tLast = performance.now();
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def answer_tail() -> tuple[str, float]:
    """The answer's last three words, and the model's own duration in seconds."""
    plan = OfflineBackend(TPS).plan(build_conversation(PROMPT, []), GenerationParams())
    text = "".join(e.text for _, e in plan if isinstance(e, TextDelta))
    return " ".join(text.split()[-3:]), plan[-1][0]


@dataclass
class Sample:
    variant: str
    frames: int
    ws_bytes: int
    largest: int
    largest_streaming: int
    largest_after: int
    last_word_s: float
    model_s: float

    @property
    def lag_pct(self) -> float:
        return 100.0 * (self.last_word_s - self.model_s) / self.model_s


@dataclass
class Frames:
    log: list[tuple[float, int]] = field(default_factory=list)

    def on_socket(self, ws: Any) -> None:
        def got(payload: str | bytes) -> None:
            size = len(payload.encode() if isinstance(payload, str) else payload)
            self.log.append((time.monotonic(), size))

        ws.on("framereceived", got)

    def between(self, start: float, end: float) -> list[int]:
        return [size for when, size in self.log if start <= when < end]


def measure(browser: Any, url: str, variant: str, tail: str, model_s: float) -> Sample:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        frames = Frames()
        page.on("websocket", frames.on_socket)
        page.goto(url)
        box = page.get_by_placeholder("Ask anything")
        box.wait_for(timeout=WAIT_S * 1000)
        _wait_quiet(frames, 0.5, 20)
        page.evaluate(_OBSERVER, tail)
        box.fill(PROMPT)
        start = time.monotonic()
        box.press("Enter")
        page.wait_for_function(
            "() => window.__bench.tLast !== null", timeout=WAIT_S * 1000, polling=100
        )
        _wait_quiet(frames, QUIET_S, 30)
        t0, t_last = page.evaluate("() => [window.__bench.t0, window.__bench.tLast]")
        last_word_s = (t_last - t0) / 1000
        # Frames up to the last word are the stream's; after it, the page's final rerun.
        cut = start + last_word_s + 0.05
        streaming, after = frames.between(start, cut), frames.between(cut, float("inf"))
        sizes = streaming + after
        return Sample(
            variant,
            len(sizes),
            sum(sizes),
            max(sizes),
            max(streaming, default=0),
            max(after, default=0),
            last_word_s,
            model_s,
        )
    finally:
        context.close()


def _wait_quiet(frames: Frames, quiet_s: float, limit_s: float) -> None:
    """Until no frame has arrived for ``quiet_s`` (at most ``limit_s``)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        last = frames.log[-1][0] if frames.log else 0.0
        if time.monotonic() - last >= quiet_s:
            return
        time.sleep(0.1)


def _app(workdir: Path, script: Path, tps: float = TPS) -> Any:
    (workdir / ".streamlit").mkdir(parents=True, exist_ok=True)
    (workdir / ".streamlit" / "config.toml").write_text(
        (ROOT / ".streamlit" / "config.toml").read_text()
    )
    env = procs.clean_env(CHAT_OFFLINE_TPS=str(tps), CHAT_DB_PATH=str(workdir / "chats.sqlite3"))
    cmd = [procs.PYTHON, "-m", "streamlit", "run", str(script), "--server.port={port}"]
    cmd += [
        "--server.address=127.0.0.1",
        "--server.headless=true",
        "--server.fileWatcherType=none",
        "--browser.gatherUsageStats=false",
    ]
    return procs.server(cmd, workdir=workdir, env=env, health_path="/_stcore/health")


def run(runs: int = 2) -> list[Sample]:
    """Measure both apps ``runs`` times each, alternating; print and record the table."""
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    tail, model_s = answer_tail()
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="bench-render-") as tmp:
        plain_dir, ours_dir = Path(tmp, "plain"), Path(tmp, "ours")
        with (
            _app(plain_dir, ROOT / "bench" / "plain_app.py") as plain,
            _app(ours_dir, ROOT / "streamlit_app.py") as ours,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                for i in range(runs):
                    for variant, server in (("plain", plain), ("ours", ours)):
                        sample = measure(browser, server.url, variant, tail, model_s)
                        samples.append(sample)
                        say(
                            f"  render run {i + 1}/{runs} {variant}: {sample.ws_bytes / 1e6:.2f} MB"
                            f" in {sample.frames} frames, largest {sample.largest / 1024:.1f} KB,"
                            f" last word {sample.last_word_s:.2f} s ({sample.lag_pct:+.1f}%)"
                        )
            finally:
                browser.close()
    report(samples, runs, model_s, load)
    return samples


def _median(samples: list[Sample], attr: str) -> float:
    return statistics.median(float(getattr(s, attr)) for s in samples)


def report(samples: list[Sample], runs: int, model_s: float, load: tuple[float, ...]) -> None:
    plain = [s for s in samples if s.variant == "plain"]
    ours = [s for s in samples if s.variant == "ours"]
    rows = []
    for name, group in (("plain `st.write_stream`", plain), ("ours (chat page)", ours)):
        rows.append(
            [
                name,
                f"{_median(group, 'ws_bytes') / 1e6:.2f} MB",
                f"{_median(group, 'frames'):.0f}",
                f"{_median(group, 'largest_streaming') / 1024:.1f} KB"
                f" / {_median(group, 'largest_after') / 1024:.1f} KB",
                f"{_median(group, 'last_word_s'):.2f} s",
                f"{_median(group, 'lag_pct'):+.1f}%",
            ]
        )
    headers = [
        "app",
        "websocket bytes",
        "frames",
        "largest frame: streaming / after",
        "last word",
        "vs model",
    ]
    result = table(headers, rows)
    ratio = _median(plain, "ws_bytes") / max(1.0, _median(ours, "ws_bytes"))
    worst_frame = max(s.largest for s in ours)
    worst_lag = max(s.lag_pct for s in ours)
    most_bytes = max(s.ws_bytes for s in ours)
    worst_after = max(s.largest_after for s in ours)
    where = "the final rerun" if worst_after >= worst_frame else "while streaming"
    mb, kb = f"{most_bytes / 1e6:.2f} MB", f"{worst_frame / 1024:.1f} KB ({where})"
    goals = table(
        ["goal (ours)", "target", "measured (worst run)", "met"],
        [
            ["websocket bytes", "≤ 1.5 MB", mb, met(most_bytes <= 1.5e6)],
            ["less than plain", "≥ 30x", f"{ratio:.0f}x (medians)", met(ratio >= 30)],
            ["largest frame", "≤ 16 KB", kb, met(worst_frame <= 16384)],
            ["last word vs model", "≤ +5%", f"{worst_lag:+.1f}%", met(worst_lag <= 5)],
        ],
    )
    say()
    say(result)
    say()
    say(goals)
    body = "\n\n".join(
        [
            "## 1. Render cost: `/lorem 4000` at 240 tok/s in headless Chromium",
            f"The model takes {model_s:.1f} s. Medians of {runs} run(s) per app, alternating "
            'in one run; "last word" is from the Enter key to the answer\'s last words in '
            'the DOM, "vs model" that time beyond the model\'s own.',
            result,
            goals,
            machine_line(runs, chromium_version(), load),
        ]
    )
    write_section("render", body)
