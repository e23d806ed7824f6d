"""Measurements out: one flat row per measured stream (CSV), or everything (JSON)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from chat_core.diagnostics.loadtest import LoadReport
from chat_core.diagnostics.probe import Probe
from chat_core.metrics import SessionStats


def measurement_rows(
    probe: Probe | None, answers: Sequence[dict[str, Any]], load: LoadReport | None
) -> list[dict[str, Any]]:
    """Every measured stream as one row, ``source`` saying where: probe, chat or load."""
    rows: list[dict[str, Any]] = []
    if probe is not None:
        head = {"source": "probe", "stream_id": probe.run.id, "backend": probe.target.backend}
        rows.append({**head, **probe.metrics().to_dict()})
    rows += [{"source": "chat", **row} for row in answers]
    if load is not None:
        rows += [{"source": "load", **r.row()} for r in load.results]
    return rows


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as CSV; the columns are the union of the rows' keys, in first-seen order."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export_json(
    probe: Probe | None,
    stats: SessionStats | None,
    answers: Sequence[dict[str, Any]],
    load: LoadReport | None,
) -> str:
    """Everything measured as one JSON document, the probe's event log included."""
    doc: dict[str, Any] = {"version": 1}
    if probe is not None:
        doc["probe"] = {
            "stream_id": probe.run.id,
            "backend": probe.target.backend,
            "prompt_chars": len(probe.prompt),
            "metrics": probe.metrics().to_dict(),
            "events": [asdict(r) for r in probe.log()],
        }
    if stats is not None:
        doc["session"] = {"aggregates": stats.to_dict(), "answers": list(answers)}
    if load is not None:
        doc["load_test"] = {
            "url": load.url,
            "summary": load.summary(),
            "streams": [r.row() for r in load.results],
        }
    return json.dumps(doc, indent=2)
