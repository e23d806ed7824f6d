"""The chat page, run by ``bench/rerun_cost.py`` under AppTest with its script thread's CPU timed.

Bench-only: executes ``app_pages/chat.py`` in this script run and records the
thread's CPU time and the database's time in session state (the page's own
script thread, so AppTest's parsing of the result is not counted).
"""

import runpy
import time
from pathlib import Path

import streamlit as st

from bench.sql_timer import SQL_TIMER

PAGE = Path(__file__).resolve().parents[1] / "app_pages" / "chat.py"

SQL_TIMER.reset()
started = time.thread_time()
try:
    runpy.run_path(str(PAGE), run_name="__main__")
finally:
    st.session_state["bench_rerun"] = (
        time.thread_time() - started,
        SQL_TIMER.seconds,
        SQL_TIMER.statements,
    )
