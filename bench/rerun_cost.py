"""Benchmark: the CPU and database time of one rerun of the chat page, with a long chat open.

A visitor's every click reruns the whole page script, so this cost multiplies by
visitors and clicks. The database holds 50 chats of one visitor, one of them 200
turns long (200 prompts, 200 answers of about 150 tokens of the offline model's
markdown: lists, code, tables); the page opens that chat from its URL, as a
reload does. Run in-process with Streamlit's AppTest: the page's script thread's
CPU time (``time.thread_time``, so AppTest's own parsing of the result is not
counted) and the wall time spent in SQL statements (SQLAlchemy engine events),
for the first run of a session and for the reruns after it (medians). The page
runs with the app's own ``.streamlit/config.toml`` options (usage statistics off:
with them on, Streamlit records every element call, about a tenth of a rerun).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import tomllib
from pathlib import Path

from bench.report import ROOT, machine_line, met, say, table, write_section
from chat_core import GenerationParams, OfflineBackend, TextDelta, build_conversation
from chat_core.chat.identity import new_browser_token
from chat_core.settings_sources import SETTING_NAMES
from chat_core.storage import ChatStore
from chat_core.storage.records import NewMessage

CHATS = 50
TURNS = 200
GOAL_S = 0.050


def answer(i: int) -> str:
    plan = OfflineBackend(1000.0).plan(
        build_conversation(f"/lorem {140 + i % 20}", []), GenerationParams()
    )
    return "".join(e.text for _, e in plan if isinstance(e, TextDelta))


def seed(db_path: Path, owner: str) -> str:
    """The visitor's chats; returns the id of the long one (the newest)."""
    store = ChatStore(f"sqlite:///{db_path}")
    try:
        for i in range(CHATS - 1):
            store.import_conversation(
                owner,
                f"Chat number {i}",
                [NewMessage("user", f"Question {i}"), NewMessage("assistant", answer(i))],
            )
        messages = []
        for i in range(TURNS):
            messages += [NewMessage("user", f"Question {i}?"), NewMessage("assistant", answer(i))]
        return store.import_conversation(owner, "The long chat", messages).id
    finally:
        store.close()


def app_config() -> None:
    """Apply the app's ``.streamlit/config.toml`` (the bench runs from a temporary directory)."""
    from streamlit import config

    options = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    for section, values in options.items():
        for name, value in values.items():
            config.set_option(f"{section}.{name}", value)


def run(reruns: int = 7) -> dict[str, float]:
    """Time the first run and ``reruns`` reruns; print and record the table."""
    from streamlit.testing.v1 import AppTest

    app_config()

    load = os.getloadavg()
    for name in SETTING_NAMES:
        os.environ.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="bench-rerun-") as tmp:
        db_path = Path(tmp, "chats.sqlite3")
        token = new_browser_token()
        conversation_id = seed(db_path, f"browser:{token}")
        os.environ["CHAT_DB_PATH"] = str(db_path)
        cwd = os.getcwd()
        os.chdir(tmp)  # no .env or secrets of the developer's
        try:
            at = AppTest.from_file(str(ROOT / "bench" / "rerun_page.py"), default_timeout=120)
            at.session_state["browser_token"] = token
            at.query_params["c"] = conversation_id
            at.run()
            assert not at.exception, at.exception
            shown = len(at.session_state["chat"].turns)
            first = at.session_state["bench_rerun"]
            samples = []
            for _ in range(reruns):
                at.run()
                assert not at.exception, at.exception
                samples.append(at.session_state["bench_rerun"])
        finally:
            os.chdir(cwd)
    cpu = statistics.median(s[0] for s in samples)
    sql = statistics.median(s[1] for s in samples)
    statements = statistics.median(s[2] for s in samples)
    rows = [
        [
            "first run of a session",
            f"{first[0] * 1000:.0f} ms",
            f"{first[1] * 1000:.1f} ms",
            first[2],
        ],
        [
            f"rerun (median of {reruns})",
            f"{cpu * 1000:.0f} ms",
            f"{sql * 1000:.1f} ms",
            f"{statements:.0f}",
        ],
    ]
    result = table(["run", "script CPU", "in SQL (wall)", "SQL statements"], rows)
    goals = table(
        ["goal", "target", "measured", "met"],
        [
            [
                "a page rerun",
                f"≤ {GOAL_S * 1000:.0f} ms CPU",
                f"{cpu * 1000:.0f} ms",
                met(cpu <= GOAL_S),
            ]
        ],
    )
    say(result)
    say(goals)
    body = "\n\n".join(
        [
            f"## 8. Rerun cost: the chat page with {CHATS} chats and a {TURNS}-turn chat open",
            f"{shown} messages shown; the page script's CPU (its thread) and its time in SQL, "
            "in-process under Streamlit's AppTest on SQLite.",
            result,
            goals,
            machine_line(reruns, "", load),
        ]
    )
    write_section("rerun", body)
    return {"cpu_s": cpu, "sql_s": sql, "first_cpu_s": first[0]}
