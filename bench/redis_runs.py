"""Benchmark 5, run stores: the cost per stream of runs in memory and in Redis.

Part 1, cost per stream. 1,000 streams of ``/lorem 40`` at 20 tok/s (a nominal
2.0 s each) opened at once against, in the same run, a fresh server per row:
*minimal async* (``bench/minimal_server.py``: a plain async ``StreamingResponse``,
no runs), *ours, memory* (the gateway, one process) and *ours, Redis, 2 workers*
(``CHAT_REDIS_URL``, ``--workers 2``). Every server is started with
``python -m uvicorn ... --factory --log-level warning`` twice: with the standard
library (``--loop asyncio --http h11``) and with uvicorn's standard extras
(``--loop uvloop --http httptools``), so the extras are measured, not assumed.
Per row: p99 of stream duration over nominal, the gap to the minimal server of
the same flavour, and the server's RSS growth per open stream (peak RSS of its
whole process tree during the load, minus before, over N).

Part 2, added per-event latency through Redis. An owner process (a
``RedisRunStore``, as a gateway worker) starts N runs whose model emits 40 events
at 20/s, each stamped with the wall-clock time it was produced; it reads each run
from its own mirror (the owner's path: pipeline write, then visible), and a second
process (another instance) reads every run as a follower (multiplexed XREAD). The
latency is the receive time minus the stamp, p50 and p99, at N = 1 and 1,000;
beside it the same for the memory store (append, then visible). Redis memory per
finished stream is ``used_memory`` growth over N.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from bench import procs
from bench.loadclient import http_get, percentile, run_load
from bench.minimal_server import create_app as create_minimal
from bench.report import machine_line, met, say, table, write_section

TPS = 20.0
TOKENS = 40
NOMINAL_S = TOKENS / TPS
FLAVOURS = {
    "stdlib": ["--loop", "asyncio", "--http", "h11"],
    "extras": ["--loop", "uvloop", "--http", "httptools"],
}
SERVERS = ("minimal async", "ours, memory", "ours, Redis, 2 workers")


def minimal_app() -> FastAPI:
    """The minimal server as a uvicorn factory."""
    return create_minimal(TPS)


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway ``redis-server`` (no persistence) on a free port; yields its URL."""
    port = procs.free_port()
    folder = tempfile.mkdtemp(prefix="bench-redis-")
    cmd = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        folder,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.kill()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def tree_rss_kb(pid: int) -> int:
    """RSS of a process and its children (uvicorn's workers)."""
    total = procs.rss_kb(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return total
    return total + sum(tree_rss_kb(int(c)) for c in children)


@dataclass
class Row:
    server: str
    flavour: str
    n: int
    completed: int
    p99_ratio: float
    rss_per_stream_kb: float


def measure(server: str, flavour: str, n: int, workdir: Path, redis_url: str) -> Row:
    base = [procs.PYTHON, "-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--factory"]
    base += ["--log-level", "warning", *FLAVOURS[flavour]]
    env = procs.gateway_env(2000, CHAT_OFFLINE_TPS=str(TPS))
    if server == "minimal async":
        cmd = [*base, "bench.redis_runs:minimal_app"]
    elif server == "ours, memory":
        cmd = [*base, "chat_core.gateway.app:create_app"]
    else:
        cmd = [*base, "--workers", "2", "chat_core.gateway.app:create_app"]
        env["CHAT_REDIS_URL"] = redis_url
    with procs.server(cmd, workdir=workdir, env=env, health_path="/healthz") as srv:
        request = http_get(srv.port, "/api/chat/stream", {"message": f"/lorem {TOKENS}"})
        run_load(srv.port, request, 10, processes=1, timeout_s=30)  # warm up every worker
        before = tree_rss_kb(srv.pid)
        peak = [before]
        stop = False

        def sample() -> None:
            while not stop:
                peak.append(tree_rss_kb(srv.pid))
                time.sleep(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        reports = run_load(srv.port, request, n, processes=1, timeout_s=120)
        stop = True
        sampler.join(2)
    streams = [s for r in reports for s in r.streams]
    done = [s for s in streams if s.complete and s.chunks == TOKENS and s.done is not None]
    ratios = [(s.done - s.started) / NOMINAL_S for s in done if s.done is not None]
    return Row(server, flavour, n, len(done), percentile(ratios, 99), (max(peak) - before) / n)


# -- part 2: latency -------------------------------------------------------------------


async def _stamped(go: asyncio.Event) -> AsyncIterator[object]:
    from chat_core.events import Done, TextDelta

    await go.wait()  # every reader attached first: every event is measured on both sides
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(TOKENS):
        await asyncio.sleep(max(0.0, start + i / TPS - loop.time()))
        yield TextDelta(f"{time.time():.6f}")
    yield Done("stop")


async def _read(run: object, after: int, out: list[float]) -> None:
    from chat_core.events import TextDelta

    seq = after
    while True:
        batch = await run.aread(seq, 10)  # type: ignore[attr-defined]
        now = time.time()
        for event in batch:
            seq += 1
            if isinstance(event, TextDelta):
                out.append(now - float(event.text))
        if run.finished and seq >= run.last_seq:  # type: ignore[attr-defined]
            return


async def _owner(
    store_kind: str, url: str, n: int, ids: mp.Queue, results: mp.Queue, ready: Any
) -> None:  # type: ignore[type-arg]
    from chat_core.runs import MemoryRunStore, RunRegistry
    from chat_core.runs.redis_store import RedisRunStore

    store = RedisRunStore(url) if store_kind == "redis" else MemoryRunStore(RunRegistry())
    await store.open()
    go = asyncio.Event()
    runs = [await store.start(lambda: _stamped(go)) for _ in range(n)]  # type: ignore[arg-type,return-value]
    for run in runs:
        ids.put(run.id)
    ids.put(None)
    lat: list[float] = []
    readers = [asyncio.create_task(_read(run, 0, lat)) for run in runs]
    await asyncio.to_thread(ready.wait, 120)
    lag = asyncio.create_task(_loop_lag())
    cpu = time.process_time()
    go.set()
    await asyncio.gather(*readers)
    cpu = time.process_time() - cpu
    lag.cancel()
    await store.close()
    results.put((lat, cpu, await lag))


async def _loop_lag(tick_s: float = 0.01) -> list[float]:
    """How late a 10 ms timer fires, until cancelled: the owner's event-loop lag."""
    loop = asyncio.get_running_loop()
    late: list[float] = []
    try:
        while True:
            due = loop.time() + tick_s
            await asyncio.sleep(tick_s)
            late.append(loop.time() - due)
    except asyncio.CancelledError:
        return late


def _owner_process(*args: object) -> None:
    asyncio.run(_owner(*args))  # type: ignore[arg-type]


async def _follow(url: str, ids: mp.Queue, ready: Any) -> tuple[list[float], float]:  # type: ignore[type-arg]
    from chat_core.runs.redis_store import RedisRunStore

    store = RedisRunStore(url)
    await store.open()
    lat: list[float] = []
    tasks = []
    while (run_id := await asyncio.to_thread(ids.get, True, 30)) is not None:
        run = await store.attach(run_id)
        assert run is not None
        tasks.append(asyncio.create_task(_read(run, run.last_seq, lat)))
    cpu = time.process_time()
    ready.set()
    await asyncio.gather(*tasks)
    cpu = time.process_time() - cpu
    await store.close()
    return lat, cpu


@dataclass
class Latency:
    """One latency measurement: per-event delays (s), and CPU seconds while the runs streamed."""

    owner: list[float]
    other: list[float]
    owner_cpu_s: float
    other_cpu_s: float
    redis_cpu_s: float
    owner_lag: list[float]  # how late the owner's 10 ms timer fired (its event loop's lag)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _redis_pid(url: str) -> int | None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def latency(store_kind: str, url: str, n: int) -> Latency:
    """Owner-side and other-instance latencies for ``n`` runs, with the CPU each side spent."""
    ctx = mp.get_context("spawn")
    ids, results, ready = ctx.Queue(), ctx.Queue(), ctx.Event()
    owner = ctx.Process(target=_owner_process, args=(store_kind, url, n, ids, results, ready))
    owner.start()
    redis_pid = _redis_pid(url)
    redis_before = _cpu_s(redis_pid) if redis_pid else 0.0
    if store_kind == "redis":
        remote, remote_cpu = asyncio.run(_follow(url, ids, ready))
    else:
        while ids.get(True, 30) is not None:
            pass
        ready.set()
        remote, remote_cpu = [], 0.0
    local, local_cpu, lag = results.get(True, 120)
    redis_cpu = (_cpu_s(redis_pid) - redis_before) if redis_pid else 0.0
    owner.join(20)
    return Latency(local, remote, local_cpu, remote_cpu, redis_cpu, lag)


def redis_bytes_per_stream(url: str, n: int) -> float:
    import redis

    client = redis.Redis.from_url(url)
    client.flushall()
    before = int(client.info("memory")["used_memory"])
    latency("redis", url, n)
    after = int(client.info("memory")["used_memory"])
    client.close()
    return (after - before) / n


def ms(values: list[float], q: float) -> str:
    return f"{1000 * percentile(values, q):.1f} ms" if values else "-"


LATENCY_HEADERS = [
    "store",
    "streams",
    "owner reads p50",
    "owner p99",
    "other instance p50",
    "other instance p99",
    "owner CPU per event",
    "redis-server CPU per event",
    "owner loop lag p99",
]


def latency_rows(url: str, n: int) -> tuple[list[list[str]], list[float]]:
    """Part 2 for the memory store and Redis, at 1 stream and at ``n``.

    Also the Redis owner's per-event delays at ``n`` (seconds), for the goals.
    """
    rows = []
    owner_at_n: list[float] = []
    for kind in ("memory", "redis"):
        for count in (1, n):
            got = latency(kind, url, count)
            if kind == "redis" and count == n:
                owner_at_n = got.owner
            events = count * (TOKENS + 1)
            rows.append(
                [
                    kind,
                    f"{count:,}",
                    ms(got.owner, 50),
                    ms(got.owner, 99),
                    ms(got.other, 50),
                    ms(got.other, 99),
                    f"{1e6 * got.owner_cpu_s / events:.0f} µs",
                    # /proc counts in clock ticks (10 ms): too few ticks say nothing per event
                    f"{1e6 * got.redis_cpu_s / events:.1f} µs"
                    if kind == "redis" and got.redis_cpu_s >= 0.1
                    else "-",
                    ms(got.owner_lag, 99),
                ]
            )
            say(f"  latency {kind} N={count}: {rows[-1][2:]}, load {os.getloadavg()[0]:.2f}")
    return rows, owner_at_n


def run(runs: int = 2, n: int = 1000) -> None:
    load = os.getloadavg()
    rows: list[Row] = []
    with redis_server() as url, tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        for r in range(runs):
            for flavour in FLAVOURS:
                for server in SERVERS:
                    row = measure(server, flavour, n, Path(tmp, f"{r}-{flavour}-{server}"), url)
                    rows.append(row)
                    say(
                        f"  run {r + 1} {server} [{flavour}] N={n}: {row.completed}/{n},"
                        f" p99 {row.p99_ratio:.2f}x, +{row.rss_per_stream_kb:.0f} kB/stream"
                    )
        lat_rows, owner_at_n = latency_rows(url, n)
        per_stream = redis_bytes_per_stream(url, n)
    report(rows, lat_rows, owner_at_n, per_stream, runs, n, load)


def report(
    rows: list[Row],
    lat_rows: list[list[str]],
    owner_at_n: list[float],
    redis_bytes: float,
    runs: int,
    n: int,
    load: tuple[float, ...],
) -> None:
    def best(server: str, flavour: str) -> Row:
        same = [r for r in rows if r.server == server and r.flavour == flavour]
        return sorted(same, key=lambda r: r.p99_ratio)[len(same) // 2]  # the median run (upper)

    cost = []
    for flavour in FLAVOURS:
        floor = best("minimal async", flavour)
        for server in SERVERS:
            all_runs = [r for r in rows if r.server == server and r.flavour == flavour]
            row = best(server, flavour)
            cost.append(
                [
                    server,
                    flavour,
                    f"{row.completed:,}/{n:,}",
                    " / ".join(f"{r.p99_ratio:.2f}x" for r in all_runs),
                    f"{(row.p99_ratio / floor.p99_ratio - 1) * 100:+.0f}%"
                    if server != "minimal async"
                    else "-",
                    f"{row.rss_per_stream_kb:.0f} kB",
                ]
            )
    cost_table = table(
        [
            "server",
            "uvicorn",
            "completed",
            "p99 / nominal, each run",
            "p99 vs minimal (median run)",
            "RSS per open stream",
        ],
        cost,
    )
    lat_table = table(LATENCY_HEADERS, lat_rows)
    mem_one = {f: best("ours, memory", f) for f in FLAVOURS}
    red_two = {f: best("ours, Redis, 2 workers", f) for f in FLAVOURS}
    floor = {f: best("minimal async", f) for f in FLAVOURS}
    # Every flavour must meet a goal: the default entry point uses uvloop and httptools
    # when installed, and the standard library where they are not.
    p50, p99 = (percentile(owner_at_n, q) if owner_at_n else float("inf") for q in (50, 99))
    goals = table(
        ["goal", "measured", "met"],
        [
            [
                f"one process within 5% of the minimal server's p99 ({n:,} at once), each flavour",
                ", ".join(
                    f"{f}: {mem_one[f].p99_ratio:.2f}x vs {floor[f].p99_ratio:.2f}x"
                    for f in FLAVOURS
                ),
                met(
                    all(
                        mem_one[f].completed == n
                        and mem_one[f].p99_ratio <= 1.05 * floor[f].p99_ratio
                        for f in FLAVOURS
                    )
                ),
            ],
            [
                f"Redis, 2 workers: p99 ≤ 1.15x ({n:,} at once), each flavour",
                ", ".join(f"{f}: {red_two[f].p99_ratio:.2f}x" for f in FLAVOURS),
                met(
                    all(
                        red_two[f].completed == n and red_two[f].p99_ratio <= 1.15 for f in FLAVOURS
                    )
                ),
            ],
            [
                f"Redis added latency, owner, {n:,} streams: p50 ≤ 20 ms",
                f"{1000 * p50:.1f} ms",
                met(p50 <= 0.020),
            ],
            [
                f"Redis added latency, owner, {n:,} streams: p99 ≤ 100 ms",
                f"{1000 * p99:.1f} ms",
                met(p99 <= 0.100),
            ],
        ],
    )
    say()
    say(cost_table)
    say()
    say(lat_table)
    say()
    say(goals)
    body = "\n\n".join(
        [
            f"## 5. Run stores: cost per stream, memory and Redis ({n:,} streams of "
            f"`/lorem {TOKENS}` at {TPS:.0f} tok/s)",
            "Every server started by `python -m uvicorn --factory --log-level warning`, with the "
            "standard library (`--loop asyncio --http h11`) and with uvicorn's standard extras "
            f"(`--loop uvloop --http httptools`); all {n:,} streams opened at once by one "
            f"load-client process, nominal {NOMINAL_S:.1f} s each. RSS per open stream is the "
            "server's whole process tree (both workers) at its peak during the load, minus "
            "before, over N. Every ratio moves with the machine's load (see the load average "
            "below): compare rows of one run, not with other sections.",
            cost_table,
            "Added per-event latency (receive time minus the time the model produced the event), "
            "40 events a stream at 20/s: *owner reads* from the owning process's mirror (visible "
            "once Redis confirmed the write; for memory, once appended), *other instance* from a "
            "second process following the run (the model starts once both have attached). "
            "CPU per event is the process's (or redis-server's, from /proc) CPU seconds while the "
            "runs streamed over the events written; the loop lag is how late the owner's 10 ms "
            "timer fired.",
            lat_table,
            f"Redis memory per finished stream of {TOKENS} events: {redis_bytes / 1024:.1f} KiB "
            f"(`used_memory` growth over {n:,}).",
            goals,
            machine_line(runs, f"redis-server {_redis_version()}", load),
        ]
    )
    write_section("redis", body)


def _redis_version() -> str:
    try:
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, timeout=10, check=False
        )
        return next((p.split("=")[1] for p in out.stdout.split() if p.startswith("v=")), "-")
    except OSError:
        return "-"


def main(argv: list[str] | None = None) -> None:
    """``python -m bench.redis_runs --latency [--n N]``: part 2 only, printed (no docs written)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.redis_runs", description=__doc__)
    parser.add_argument("--latency", action="store_true", help="only part 2 (latency), printed")
    parser.add_argument("--n", type=int, default=1000, help="streams (default 1000)")
    parser.add_argument("--runs", type=int, default=2, help="runs per part-1 row")
    args = parser.parse_args(argv)
    if not args.latency:
        run(runs=args.runs, n=args.n)
        return
    load = os.getloadavg()
    with redis_server() as url:
        rows, _owner = latency_rows(url, args.n)
    say(table(LATENCY_HEADERS, rows))
    say(f"load average at the start {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")


if __name__ == "__main__":
    main()
