"""Stream diagnostics without the UI, for ``app_pages/diagnostics.py``.

eventlog   the EventStream-tab rows
probe      one measured answer from a chosen back end, watched live
views      metric labels, histograms and tables as plain values
loadtest   N concurrent wire-protocol-v1 streams against a gateway
export     measurements as CSV rows or one JSON document
"""

from __future__ import annotations

from chat_core.diagnostics.eventlog import LogRecord, event_records, wire_records
from chat_core.diagnostics.export import export_json, measurement_rows, to_csv
from chat_core.diagnostics.loadtest import (
    MAX_LOAD_STREAMS,
    LoadReport,
    LoadResult,
    LoadTarget,
    aload_test,
    astream_once,
    run_load_target,
    run_load_test,
    stream_url,
)
from chat_core.diagnostics.probe import (
    EXAMPLE_PROMPTS,
    PROBE_BACKENDS,
    Probe,
    ProbeBackendName,
    ProbeTarget,
)
from chat_core.diagnostics.views import (
    header,
    histogram,
    load_progress,
    load_values,
    metric_values,
    nice_step,
    readable_rows,
    session_answers,
    session_summary,
    status_badge,
)

__all__ = [
    "EXAMPLE_PROMPTS",
    "MAX_LOAD_STREAMS",
    "PROBE_BACKENDS",
    "LoadReport",
    "LoadResult",
    "LoadTarget",
    "LogRecord",
    "Probe",
    "ProbeBackendName",
    "ProbeTarget",
    "aload_test",
    "astream_once",
    "event_records",
    "export_json",
    "header",
    "histogram",
    "load_progress",
    "load_values",
    "measurement_rows",
    "metric_values",
    "nice_step",
    "readable_rows",
    "run_load_target",
    "run_load_test",
    "session_answers",
    "session_summary",
    "status_badge",
    "stream_url",
    "to_csv",
    "wire_records",
]
