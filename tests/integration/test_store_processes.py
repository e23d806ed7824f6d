"""Several processes on one chat database (SQLite file or real PostgreSQL), and a SIGKILL."""

from __future__ import annotations

import multiprocessing
import multiprocessing.synchronize
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading

import pytest

from chat_core.storage.db import Database, sqlite_url
from chat_core.storage.schema import SCHEMA_VERSION
from chat_core.storage.store import ChatStore
from tests.support.servers import ROOT

pytestmark = pytest.mark.integration

ME = "browser:me"


def python(code: str, *args: str, timeout_s: float = 60) -> str:
    """Run ``code`` in a fresh interpreter (a second app process); returns its stdout."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def at_once(code: str, *argvs: tuple[str, ...]) -> list[str]:
    """Run ``code`` in one fresh interpreter per argv, all released together; their stdouts.

    Each prints "ready" and waits for a line on stdin, so the work starts at once.
    """
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, *argv],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in argvs
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        results = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert [p.returncode for p in procs] == [0] * len(procs), [err[-2000:] for _, err in results]
    return [out for out, _ in results]


def test_two_processes_on_one_postgres_database_both_see_a_conversation(postgres_server) -> None:
    url = postgres_server.new_database()
    created = python(
        """
        import sys
        from chat_core.storage.store import ChatStore
        with ChatStore(sys.argv[1]) as store:
            conv = store.create_conversation("browser:me", "made by process A")
            store.add_message("browser:me", conv.id, "user", "hello from A")
            print(conv.id)
        """,
        url,
    ).strip()
    seen = python(
        """
        import sys
        from chat_core.storage.store import ChatStore
        with ChatStore(sys.argv[1]) as store:
            conv = store.get_conversation("browser:me", sys.argv[2])
            print(conv.title, "|", conv.messages[0].content)
            print(len(store.list_conversations("browser:someone-else")))
        """,
        url,
        created,
    )
    assert seen.splitlines() == ["made by process A | hello from A", "0"]
    with ChatStore(url) as here:  # and this process, as a third app instance after a restart
        assert [c.id for c in here.list_conversations(ME)] == [created]


APPENDER = """
import sys
from chat_core.storage.store import ChatStore
url, conversation_id, name, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
with ChatStore(url) as store:
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for i in range(count):
        store.add_message("browser:me", conversation_id, "user", f"{name} {i}")
        answer = store.start_answer("browser:me", conversation_id)
        store.update_partial("browser:me", answer.id, "x" * i)
        store.finish_message("browser:me", answer.id, f"{name} done {i}", status="complete")
"""


def test_positions_stay_unique_when_two_processes_append_at_once(store_url: str) -> None:
    rounds = 40
    with ChatStore(store_url) as store:
        shared = store.create_conversation(ME, "shared").id
        at_once(APPENDER, *((store_url, shared, name, str(rounds)) for name in ("left", "right")))
        conv = store.get_conversation(ME, shared)
        assert conv is not None
        assert [m.position for m in conv.messages] == list(range(4 * rounds))
        for name in ("left", "right"):
            mine = [m.content for m in conv.messages if m.role == "user" and name in m.content]
            assert mine == [f"{name} {i}" for i in range(rounds)]
        assert {m.status for m in conv.messages} == {"complete"}


def run_writers(
    make_store, shared: str, *, own_store: bool, rounds: int = 60
) -> list[BaseException]:
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def writer(name: str) -> None:
        try:
            store = make_store()
            own = store.create_conversation(ME, name).id
            barrier.wait(timeout=10)
            for i in range(rounds):
                store.add_message(ME, shared, "user", f"{name} {i}")
                answer = store.start_answer(ME, own)
                store.update_partial(ME, answer.id, "x" * i)
                store.finish_message(ME, answer.id, f"{name} done {i}", status="complete")
            if own_store:
                store.close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("left", "right")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


@pytest.mark.parametrize("mode", ["one store per thread", "one shared store"])
def test_two_threads_write_concurrently(store_url: str, mode: str) -> None:
    with ChatStore(store_url) as main:
        shared = main.create_conversation(ME, "shared").id
        if mode == "one shared store":
            errors = run_writers(lambda: main, shared, own_store=False)
        else:
            errors = run_writers(lambda: ChatStore(store_url), shared, own_store=True)
        assert errors == []
        conv = main.get_conversation(ME, shared)
        assert conv is not None
        assert [m.position for m in conv.messages] == list(range(120))
        for name in ("left", "right"):
            mine = [m.content for m in conv.messages if m.content.startswith(name)]
            assert mine == [f"{name} {i}" for i in range(60)]
        for summary in main.list_conversations(ME):
            if summary.title in ("left", "right"):
                answers = main.get_conversation(ME, summary.id).messages  # type: ignore[union-attr]
                assert {m.status for m in answers} == {"complete"} and len(answers) == 60


KILLED = """
import sys
from chat_core.storage.store import ChatStore, NewMessage

store = ChatStore(sys.argv[1])
conv = store.create_conversation("browser:me", "killed")
store.add_message("browser:me", conv.id, "user", "tell me a long story")
answer = store.start_answer("browser:me", conv.id, model="offline-scripted")
bulk = [NewMessage("user" if k % 2 == 0 else "assistant", f"m{k}") for k in range(100)]
print(conv.id, flush=True)
text = ""
i = 0
while True:
    i += 1
    text += f"w{i} "
    store.update_partial("browser:me", answer.id, text)
    print(i, flush=True)
    store.import_conversation("browser:me", "bulk", bulk)
"""


def test_sigkill_mid_answer_leaves_a_readable_db(store_url: str) -> None:
    ChatStore(store_url).close()  # create the schema first: the child starts writing at once
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED, store_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    last = 0
    try:
        assert child.stdout is not None
        killed_id = child.stdout.readline().strip()
        for line in child.stdout:
            last = int(line)
            if last >= 20:
                break
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        child.stdout.close()  # type: ignore[union-attr]
        child.stderr.close()  # type: ignore[union-attr]
    assert last >= 20, "the child did not start"
    assert child.returncode == -signal.SIGKILL
    # the dead process's answer is stale at once for a store told so (the default waits 120 s)
    with ChatStore(store_url, stale_after_s=0) as store:
        assert store.interrupted_on_open == 1
        killed = store.get_conversation(ME, killed_id)
        assert killed is not None and killed.title == "killed"
        answer = killed.messages[1]
        assert answer.status == "interrupted"
        words = answer.content.split()
        assert len(words) >= last  # every printed partial was committed
        assert words == [f"w{k}" for k in range(1, len(words) + 1)]  # a prefix, not garbage
        bulk = [c for c in store.list_conversations(ME) if c.title == "bulk"]
        assert len(bulk) >= last - 1
        assert {c.message_count for c in bulk} == {100}  # each import all or nothing
        database = store.db.url.database
    if store_url.startswith("sqlite"):
        with sqlite3.connect(str(database)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


OPENER = """
import sys
from chat_core.storage.store import ChatStore
print("ready", flush=True)
sys.stdin.readline()
with ChatStore(sys.argv[1]) as store:
    print(store.migrated_from, store.create_conversation("browser:me").id, flush=True)
"""


def test_two_processes_creating_the_schema_at_once_both_succeed(store_url: str) -> None:
    outputs = at_once(OPENER, (store_url,), (store_url,))
    found = sorted(out.split()[0] for out in outputs)
    assert found == ["0", str(SCHEMA_VERSION)]  # one created the schema, the other found it
    with ChatStore(store_url) as store:
        assert len(store.list_conversations(ME)) == 2


def _open_at(path: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    barrier.wait()
    db = Database(sqlite_url(path))
    with db.write() as conn:
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
    db.close()


def test_two_processes_opening_a_new_sqlite_file_at_once_never_see_it_locked(tmp_path) -> None:
    # Switching a new file to WAL raced here: about 1 try in 20 failed with "database is
    # locked" at once, not after the busy timeout. Forked openers meet at a barrier.
    fork = multiprocessing.get_context("fork")
    for attempt in range(100):
        path = str(tmp_path / f"race-{attempt}.sqlite3")
        barrier = fork.Barrier(2)
        procs = [fork.Process(target=_open_at, args=(path, barrier)) for _ in range(2)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=30)
        assert [proc.exitcode for proc in procs] == [0, 0], f"attempt {attempt}"
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
