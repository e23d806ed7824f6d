"""Benchmark 6, versions: database time per rerun on a big branched chat, SQLite and PostgreSQL.

*The chat.* 2,000 messages with 200 fork points, imported in one transaction:
a main line of 800 turns (1,600 messages); at every fourth turn the answer has
a second version, and that version a follow-up prompt (2 more messages per
fork). The active leaf is the end of the main line, so the shown path is 1,600
messages deep.

*What is timed* (median of N, wall clock around the store calls, so database
time plus the driver and row decoding in Python), as ``ChatSession`` and the
page call them:

- *rerun*: nothing changed; ``session.sync`` asks ``conversation_stamp`` and
  reads no path; the sidebar lists the chats.
- *open*: the chat shown anew: the stamp, ``get_conversation`` (the active path
  and its versions' ids), ``answer_metrics`` (usage of every version), the list.
- *switch*: ``switch_version`` at the deepest fork (the leaf below is chosen
  from the tree's ids, no text), then the open's reads; alternating versions.

``python -m bench versions [--runs N] [--quick]``; PostgreSQL is the newest
installed server (``initdb`` in a temporary folder, as the tests do).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bench.report import machine_line, met, say, table, warn, write_section
from chat_core.storage.records import NewMessage
from chat_core.storage.store import ChatStore

OWNER = "browser:bench"
TURNS = 800
FORK_EVERY = 4  # turns: 800 / 4 = 200 fork points
GOAL_MS = 50.0


def branched_chat(turns: int = TURNS, fork_every: int = FORK_EVERY) -> list[NewMessage]:
    """The main line as a chain, then per fork point a second answer and its follow-up."""
    out = []
    for turn in range(turns):
        out.append(NewMessage("user", f"Question {turn}: how does step {turn} work?"))
        out.append(NewMessage("assistant", f"Step {turn} works like this. " * 20))
    for turn in range(0, turns, fork_every):
        prompt = 2 * turn
        out.append(NewMessage("assistant", f"Another take on step {turn}. " * 20, parent=prompt))
        out.append(NewMessage("user", f"And after that take, {turn}?", parent=len(out) - 1))
    return out


def _median_ms(action: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(store: ChatStore, runs: int) -> dict[str, float]:
    """Median ms of the store calls the chat page makes, as ``ChatSession`` makes them."""
    messages = branched_chat()
    chat = store.import_conversation(OWNER, "bench", messages, active_leaf=2 * TURNS - 1)

    def rerun() -> None:  # nothing changed: session.sync's stamp, the sidebar's chat list
        store.conversation_stamp(OWNER, chat.id)
        store.list_conversations(OWNER, limit=200)

    def open_chat() -> None:  # the chat shown anew: its path, its usage, the chat list
        store.conversation_stamp(OWNER, chat.id)
        store.get_conversation(OWNER, chat.id)
        store.answer_metrics(OWNER, chat.id)
        store.list_conversations(OWNER, limit=200)

    conv = store.get_conversation(OWNER, chat.id)
    assert conv is not None and len(conv.messages) == 2 * TURNS
    deepest = max(conv.siblings, key=lambda i: i)  # the path stays 1,600 deep either way
    targets = list(conv.siblings[deepest])

    def switch() -> None:
        store.switch_version(OWNER, targets[0])
        targets.reverse()
        open_chat()

    open_chat()  # warm the connection pool and caches
    return {
        "rerun": _median_ms(rerun, runs),
        "open": _median_ms(open_chat, runs),
        "switch": _median_ms(switch, runs),
        "path": len(conv.messages),
        "forks": len(conv.siblings),
        "total": conv.total_messages,
    }


def databases() -> Iterator[tuple[str, str]]:
    """(name, SQLAlchemy URL): a SQLite file, then PostgreSQL when it is installed (iterate to
    the end: the server stops and the folders go when the loop is done)."""
    with tempfile.TemporaryDirectory(prefix="bench-versions-") as folder:
        yield "SQLite (file, WAL)", f"sqlite:///{Path(folder) / 'chats.sqlite3'}"
    from tests.support.postgres import run_postgres

    try:
        with run_postgres() as server:
            yield "PostgreSQL", server.new_database()
    except FileNotFoundError as exc:
        warn(f"no PostgreSQL: {exc}")


def run(runs: int = 20) -> None:
    load = os.getloadavg()
    rows = []
    for name, url in databases():
        with ChatStore(url) as store:
            got = measure(store, runs)
        worst = max(got["rerun"], got["open"], got["switch"])
        rows.append(
            [
                name,
                f"{got['rerun']:.1f}",
                f"{got['open']:.1f}",
                f"{got['switch']:.1f}",
                f"{got['path']:.0f} of {got['total']:.0f}",
                f"{got['forks']:.0f}",
                met(worst < GOAL_MS),
            ]
        )
    headers = [
        "database",
        "rerun, nothing changed (ms)",
        "open the chat (ms)",
        "switch a version + its rerun (ms)",
        "messages read on open",
        "forks on the path",
        f"goal < {GOAL_MS:.0f} ms",
    ]
    body = "\n\n".join(
        [
            "## 6. Versions: a 2,000-message chat with 200 fork points",
            "Database time (median ms, store calls as the chat page makes them) of a rerun where"
            " nothing changed (one stamp query says so, then the chat list), of opening the chat"
            " (its active path with the versions' ids, the usage of every version, the list), and"
            " of switching the version at the deepest fork followed by that rerun. Only the"
            " active path is read, never the other branches; a switch reads the tree's ids"
            " (no text) to choose the leaf. `bench/versions.py` says how.",
            table(headers, rows),
            machine_line(runs, load_before=load),
        ]
    )
    say(body)
    write_section("versions", body)
