"""``python -m bench [NAME ...] [--runs N] [--quick]``, NAME from ``BENCHMARKS`` below.

With no names, runs all ten. Each prints its
table and rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import time

from bench.report import SECTIONS, say

BENCHMARKS = SECTIONS  # each benchmark rewrites its own section of docs/benchmarks.md


def run_one(name: str, runs: int | None, quick: bool) -> None:
    if name == "render":
        from bench import render_cost

        render_cost.run(runs=runs or (1 if quick else 2))
    elif name == "gateway":
        from bench import gateway_load

        gateway_load.run(gateway_load.QUICK_LEVELS if quick else gateway_load.LEVELS)
    elif name == "overhead":
        from bench import overhead

        overhead.run(runs=runs or (1 if quick else 3), tokens=100 if quick else 300)
    elif name == "memory":
        from bench import memory

        memory.run()
    elif name == "versions":
        from bench import versions

        versions.run(runs=runs or (5 if quick else 20))
    elif name == "app":
        from bench import app_load

        app_load.run(app_load.QUICK_LEVELS if quick else app_load.LEVELS, runs=runs or 1)
    elif name == "compare":
        from bench import compare

        compare.run(runs=runs or 1)
    elif name == "rerun":
        from bench import rerun_cost

        rerun_cost.run()
    elif name == "share":
        from bench import share_links

        share_links.run(runs=runs or (200 if quick else 2000))
    else:
        from bench import redis_runs

        redis_runs.run(runs=runs or (1 if quick else 2), n=200 if quick else 1000)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"any of {', '.join(BENCHMARKS)}")
    parser.add_argument("--runs", type=int, default=None, help="runs per row (default per bench)")
    parser.add_argument("--quick", action="store_true", help="short runs, for development")
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    started = time.monotonic()
    for name in args.names or BENCHMARKS:
        say(f"== {name}")
        began = time.monotonic()
        run_one(name, args.runs, args.quick)
        say(f"== {name} took {time.monotonic() - began:.0f} s")
    say(f"== all done in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
