"""Benchmark 9, Compare: 4 lanes of ``/lorem 4000`` at 240 tok/s in headless Chromium.

Two apps in one run, alternating: *plain*, four ``st.write_stream`` columns
(``bench/plain_compare_app.py``: the runs start at once, the page draws them one after
another) and *ours*, the Compare page with four ``offline-scripted`` lanes (one loop
draws every lane per frame, a new element per finished block). Per run, from the
Enter key until the websocket has been quiet for 1 s: websocket bytes and the largest
frame (Playwright's ``framereceived``), when each lane's last words first appear in
the DOM (a MutationObserver per lane) against the model's own 16.7 s, and the app
process's CPU seconds (``/proc/PID/stat``) over the run.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.render_cost import (
    CHROMIUM_ARGS,
    PROMPT,
    Frames,
    _app,
    _median,
    _wait_quiet,
    answer_tail,
)
from bench.report import ROOT, chromium_version, machine_line, met, say, table, write_section

LANES = 4
WAIT_S = 120.0
SINGLE_CHAT_BUDGET_MB = 1.5  # the render benchmark's goal for one answer
_OBSERVER = """([tail, lanes]) => {
  window.__bench = {t0: null, last: Array(lanes).fill(null)};
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && window.__bench.t0 === null) window.__bench.t0 = performance.now();
  }, true);
  new MutationObserver(() => {
    const b = window.__bench;
    if (b.t0 === null) return;
    for (let k = 0; k < lanes; k++) {
      const lane = document.querySelector('.st-key-lane-' + k);
      if (b.last[k] === null && lane && lane.textContent.includes(tail)) {
        b.last[k] = performance.now();
      }
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


@dataclass
class Sample:
    variant: str
    ws_bytes: int
    largest: int
    last_words_s: list[float]
    model_s: float
    cpu_s: float

    @property
    def worst_ratio(self) -> float:
        return max(self.last_words_s) / self.model_s


def _four_scripted_lanes(page: Any) -> None:
    """The editor's lanes as four offline-scripted ones (it opens with fast, scripted, slow)."""
    models = page.get_by_role("combobox", name="Model")
    for action, position, lanes in (
        ("Duplicate", 1, 4),  # fast, scripted, scripted, slow
        ("Remove", 0, 3),  # scripted, scripted, slow
        ("Remove", 2, 2),  # scripted, scripted
        ("Duplicate", 0, 3),
        ("Duplicate", 0, 4),
    ):
        editor = page.locator(f".st-key-editor-lane-{position}")
        editor.get_by_role("button", name=action).click()
        page.wait_for_function(
            "n => document.querySelectorAll('input[aria-label=\"Model\"]').length === n",
            arg=lanes,
            timeout=WAIT_S * 1000,
        )
    chosen = [models.nth(k).input_value() for k in range(LANES)]
    assert chosen == ["offline-scripted"] * LANES, chosen


def measure(browser: Any, server: Any, variant: str, tail: str, model_s: float) -> Sample:
    context = browser.new_context(viewport={"width": 1600, "height": 900})
    try:
        page = context.new_page()
        frames = Frames()
        page.on("websocket", frames.on_socket)
        page.goto(server.url + ("/compare" if variant == "ours" else ""))
        box = page.get_by_placeholder("Send to every lane")
        box.wait_for(timeout=WAIT_S * 1000)
        if variant == "ours":
            _four_scripted_lanes(page)
        _wait_quiet(frames, 0.5, 20)
        page.evaluate(_OBSERVER, [tail, LANES])
        box.fill(PROMPT)
        cpu_before = procs.cpu_s(server.pid)
        start = time.monotonic()
        box.press("Enter")
        page.wait_for_function(
            "() => window.__bench.last.every(t => t !== null)",
            timeout=WAIT_S * 1000,
            polling=100,
        )
        _wait_quiet(frames, 1.0, 30)
        cpu = procs.cpu_s(server.pid) - cpu_before
        t0, last = page.evaluate("() => [window.__bench.t0, window.__bench.last]")
        sizes = frames.between(start, float("inf"))
        return Sample(
            variant,
            sum(sizes),
            max(sizes),
            [(t - t0) / 1000 for t in last],
            model_s,
            cpu,
        )
    finally:
        context.close()


def run(runs: int = 1) -> list[Sample]:
    """Measure both apps ``runs`` times each, alternating; print and record the table."""
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()
    tail, model_s = answer_tail()
    samples: list[Sample] = []
    with (
        tempfile.TemporaryDirectory(prefix="bench-compare-") as tmp,
        _app(Path(tmp, "plain"), ROOT / "bench" / "plain_compare_app.py") as plain,
        _app(Path(tmp, "ours"), ROOT / "streamlit_app.py") as ours,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for i in range(runs):
                for variant, server in (("plain", plain), ("ours", ours)):
                    s = measure(browser, server, variant, tail, model_s)
                    samples.append(s)
                    say(
                        f"  compare run {i + 1}/{runs} {variant}: {s.ws_bytes / 1e6:.2f} MB,"
                        f" largest {s.largest / 1024:.1f} KB, last words "
                        + ", ".join(f"{t:.1f}" for t in s.last_words_s)
                        + f" s, CPU {s.cpu_s:.1f} s"
                    )
        finally:
            browser.close()
    report(samples, runs, model_s, load)
    return samples


def report(samples: list[Sample], runs: int, model_s: float, load: tuple[float, ...]) -> None:
    plain = [s for s in samples if s.variant == "plain"]
    ours = [s for s in samples if s.variant == "ours"]
    rows = []
    for name, group in (("4 plain `st.write_stream` columns", plain), ("ours (Compare)", ours)):
        rows.append(
            [
                name,
                f"{_median(group, 'ws_bytes') / 1e6:.2f} MB",
                f"{_median(group, 'largest') / 1024:.1f} KB",
                " / ".join(
                    f"{statistics.median(s.last_words_s[k] for s in group):.1f}"
                    for k in range(LANES)
                )
                + " s",
                f"{_median(group, 'worst_ratio'):.2f}x",
                f"{_median(group, 'cpu_s'):.1f} s",
            ]
        )
    headers = ["app", "websocket bytes", "largest frame", "last word per lane", "worst lane"]
    headers.append("app CPU")
    result = table(headers, rows)
    most = max(s.ws_bytes for s in ours)
    frame = max(s.largest for s in ours)
    ratio = max(s.worst_ratio for s in ours)
    budget = LANES * SINGLE_CHAT_BUDGET_MB * 1e6
    goals = table(
        ["goal (ours)", "target", "measured (worst run)", "met"],
        [
            ["websocket bytes", f"≤ {budget / 1e6:.0f} MB", f"{most / 1e6:.2f} MB",
             met(most <= budget)],
            ["largest frame", "≤ 16 KB", f"{frame / 1024:.1f} KB", met(frame <= 16384)],
            ["each lane's last word vs model", "≤ 1.05x", f"{ratio:.2f}x", met(ratio <= 1.05)],
        ],
    )  # fmt: skip
    say()
    say(result)
    say()
    say(goals)
    body = "\n\n".join(
        [
            "## 10. Compare: 4 lanes of `/lorem 4000` at 240 tok/s in headless Chromium",
            f"Each lane's model takes {model_s:.1f} s; the four run at once. Medians of {runs} "
            "run(s) per app, alternating in one run. The plain page draws its columns one after "
            "another (`st.write_stream` blocks), so its lanes 2-4 end late by design; its "
            "bytes and CPU are what four naive columns cost. App CPU: the Streamlit process's "
            "user + system seconds from the Enter key to a quiet websocket. The machine is "
            "shared (2 cores, other work running): CPU seconds and lags are upper bounds.",
            result,
            goals,
            machine_line(runs, chromium_version(), load),
        ]
    )
    write_section("compare", body)
