"""An OpenAI-compatible server over the offline model, for tests, benchmarks and demos.

    python -m chat_core.openai_stub --port 8001
    python -m chat_core.openai_stub --model llama3.2:1b   # only that one; 404 for others
    python -m chat_core.openai_stub --silent              # accepts, never answers
    OPENAI_BASE_URL=http://127.0.0.1:8001/v1 OPENAI_API_KEY=anything ...

Directives in the last user message become real OpenAI-shaped failures: an
HTTP 401/429/500/400/408 before the stream, an in-stream error event, a reset
connection, a stall (see ``chat_core.backends.directives``). ``GET /_stub/stats`` counts
requests and how streams ended; ``POST /_stub/reset`` zeroes the counters.

It serves ``POST /v1/chat/completions`` and streaming ``POST /v1/responses``. The
model name picks a dialect, each one real provider's stream shape (the table with
the details is in ``chat_core.openai_stub.dialects``):

    strict, o1/o3/o4*, gpt-5*      OpenAI reasoning model: 400 to max_tokens, temperature
    magistral                      Mistral typed content parts (thinking, text)
    deepseek, qwen, grok           delta.reasoning_content
    groq, openrouter, gpt-oss      delta.reasoning
    think                          <think>...</think> in the content
    refus                          delta.refusal
    tool                           a tool call, finish tool_calls
    filter, azure                  Azure's content filter shape, finish content_filter
    sonar, perplexity              usage in every chunk
    anything else                  OpenAI's own shape
"""

from __future__ import annotations

from chat_core.openai_stub.app import create_app

__all__ = ["create_app"]
