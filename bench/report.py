"""Tables on stdout and sections of docs/benchmarks.md, each stamped with where it ran."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SECTIONS = (
    "render",
    "gateway",
    "overhead",
    "memory",
    "redis",
    "versions",
    "app",
    "rerun",
    "share",
    "compare",
)
PACKAGES = (
    "streamlit",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "redis",
    "openai",
    "httpx",
    "markdown-it-py",
    "playwright",
)
_HEADER = """# Benchmarks

Written by `make bench` (`python -m bench`); each section is rewritten by its own
benchmark (`python -m bench render|gateway|overhead|memory|redis|versions|app|rerun|share|compare`),
with the machine, versions and run count it was measured with. The goals are the project's
speed goals. What each benchmark measures, and how, is in its module's docstring under `bench/`.
"""


def table(headers: list[str], rows: list[list[object]]) -> str:
    """A markdown table; floats are shown as given (format them before)."""
    cells = [[str(c) for c in row] for row in rows]
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def chromium_version() -> str:
    try:
        out = subprocess.run(
            ["chromium", "--version"], capture_output=True, text=True, timeout=20, check=False
        )
        return " ".join(out.stdout.split()[:2]) or "-"
    except (OSError, subprocess.TimeoutExpired):
        return "-"


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=10,
            check=False,
        )
        return out.stdout.strip() or "-"
    except (OSError, subprocess.TimeoutExpired):
        return "-"


def machine_line(runs: int, extra: str = "", load_before: tuple[float, ...] | None = None) -> str:
    """Where and with what a section was measured: one paragraph."""
    load = load_before if load_before is not None else os.getloadavg()
    versions = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"_Measured {when} at commit {_commit()}, {runs} run(s) per row; "
        f"{os.cpu_count()} cores ({_cpu_model()}), {_ram_gb()} RAM, "
        f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} (1/5/15 min) at the start; "
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}; "
        f"{versions}{', ' + extra if extra else ''}._"
    )


def write_section(name: str, body: str, path: Path = DOC) -> None:
    """Replace the section ``name`` of the benchmarks page (created when missing)."""
    assert name in SECTIONS
    text = path.read_text() if path.exists() else _HEADER
    for section in SECTIONS:  # every section has its markers, in a fixed order
        if f"<!-- bench:{section} -->" not in text:
            text = text.rstrip("\n") + f"\n\n<!-- bench:{section} -->\n<!-- /bench:{section} -->\n"
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    block = f"<!-- bench:{name} -->\n{body.strip()}\n<!-- /bench:{name} -->"
    text = pattern.sub(lambda _m: block, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def met(ok: bool) -> str:
    """A goal table's last column: 'yes', or a bold 'no'."""
    return "yes" if ok else "**no**"


def say(text: str = "") -> None:
    print(text, flush=True)


def warn(text: str) -> None:
    print(f"bench: {text}", file=sys.stderr, flush=True)
