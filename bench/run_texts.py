"""The plain baselines' stream: a run's text chunks as they arrive, for ``st.write_stream``.

Shared by ``plain_app.py`` and ``plain_compare_app.py`` (bench-only pages, never users').
"""

from collections.abc import Iterator

from chat_core import Run, TextDelta


def texts(run: Run) -> Iterator[str]:
    """Every text chunk as it arrives, one write per chunk (no coalescing: the baseline)."""
    seq = 0
    while not (run.finished and seq >= run.last_seq):
        batch = run.read(seq, 0.1)
        seq += len(batch)
        yield from (e.text for e in batch if isinstance(e, TextDelta))
