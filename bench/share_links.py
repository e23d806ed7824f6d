"""Benchmark 9, share links: what opening a link costs, per kind of token, SQLite and PostgreSQL.

A dead link must not say why it is dead (docs/security.md, "Share links"): the page is the
same, and this measures whether the time says anything. Kinds of token, each opened
``runs`` times, interleaved (kind after kind, so drift hits all alike), through
``chat_core.sharing.open_link`` as the shared page calls it:

- *live*: a link to a 20-message chat (its snapshot read and parsed: the page differs anyway);
- *unknown*: a well-formed random token; *truncated*: a live token less its last character;
- *malformed*: 5,000 characters of junk; *revoked*; *expired* (made 8 days ago for 7).

Median and 90th percentile in microseconds, wall clock around the call (database, driver
and Python). ``python -m bench share [--runs N] [--quick]``.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.report import machine_line, say, table, write_section
from bench.versions import databases
from chat_core.sharing import ShareOptions, link_id, open_link, revoke_link, share_chat
from chat_core.storage.records import NewMessage
from chat_core.storage.share_tokens import new_token
from chat_core.storage.store import ChatStore

OWNER = "browser:bench"


def tokens(store: ChatStore) -> dict[str, str]:
    """One token of each kind, for a 20-message chat of OWNER's."""
    chat = [
        NewMessage("user" if i % 2 == 0 else "assistant", f"Message {i}. " * 40) for i in range(20)
    ]
    conv = store.import_conversation(OWNER, "bench", chat).id
    now = datetime.now(UTC)

    def make(at: datetime, expiry: str) -> str:
        return share_chat(store, OWNER, conv, ShareOptions(), expiry=expiry, app="bench", now=at)

    live, revoked = make(now, "7 days"), make(now, "7 days")
    revoke_link(store, OWNER, link_id(revoked), now=now)
    return {
        "live": live,
        "unknown": new_token(),
        "truncated": live[:-1],
        "malformed": "%" * 5000,
        "revoked": revoked,
        "expired": make(now - timedelta(days=8), "7 days"),
    }


def measure(store: ChatStore, runs: int) -> dict[str, list[float]]:
    kinds = tokens(store)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(runs):
        for kind, token in kinds.items():
            started = time.perf_counter()
            found = open_link(store, token, now=datetime.now(UTC))
            times[kind].append((time.perf_counter() - started) * 1e6)
            assert (found is not None) == (kind == "live"), kind
    return times


def run(runs: int = 2000) -> None:
    load = os.getloadavg()
    rows = []
    headers = ["database", "token"]
    for name, url in databases():
        with ChatStore(url) as store:
            got = measure(store, runs)
        dead = {k: statistics.median(v) for k, v in got.items() if k != "live"}
        for kind, values in got.items():
            p90 = statistics.quantiles(values, n=10)[-1]
            rows.append([name, kind, f"{statistics.median(values):.0f}", f"{p90:.0f}"])
        spread = max(dead.values()) - min(dead.values())
        rows.append([name, "dead kinds: spread of medians", f"{spread:.0f}", ""])
    headers += ["median (µs)", "p90 (µs)"]
    body = "\n\n".join(
        [
            "## 9. Share links: opening a link, by kind of token",
            "Time to open a link through `open_link` (one indexed lookup by the token's sha256,"
            " then the snapshot read only for a live link), per kind of token, interleaved."
            " Every dead kind gets the same page; the spread of their medians is what timing"
            " could tell an attacker, before the network's own jitter. `bench/share_links.py`"
            " says how.",
            table(headers, rows),
            machine_line(runs, load_before=load),
        ]
    )
    say(body)
    write_section("share", body)
