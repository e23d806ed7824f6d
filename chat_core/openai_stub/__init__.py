"""An OpenAI-compatible server over the offline model, for tests, benchmarks and demos.

    python -m chat_core.openai_stub --port 8001
    OPENAI_BASE_URL=http://127.0.0.1:8001/v1 OPENAI_API_KEY=anything ...

Directives in the last user message become real OpenAI-shaped failures: an
HTTP 401/429/500/400/408 before the stream, an in-stream error event, a reset
connection, a stall (see ``chat_core.backends.directives``). ``GET /_stub/stats`` counts
requests and how streams ended; ``POST /_stub/reset`` zeroes the counters.
"""

from __future__ import annotations

from chat_core.openai_stub.app import create_app

__all__ = ["create_app"]
