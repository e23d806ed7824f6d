"""``python -m chat_core.openai_stub``: serve the stub with uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn

from chat_core.openai_stub.app import create_app


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 100_000:
        raise argparse.ArgumentTypeError("must be between 0 and 100000")
    return value


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and serve until interrupted."""
    parser = argparse.ArgumentParser(
        prog="chat-openai-stub",
        description="An OpenAI-compatible server answering with the offline model.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8001, help="port (default 8001)")
    parser.add_argument("--tps", type=_rate, default=200.0, help="tokens per second (default 200)")
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        help="serve only this model (repeatable); others get 404 'model not found', as Ollama",
    )
    parser.add_argument(
        "--silent", action="store_true", help="accept /v1 requests and never answer them"
    )
    parser.add_argument("--log-level", default="info", help="uvicorn log level (default info)")
    args = parser.parse_args(argv)
    print(
        f"OpenAI stub: set OPENAI_BASE_URL=http://{args.host}:{args.port}/v1 (any API key)",
        file=sys.stderr,
        flush=True,
    )
    # A short graceful shutdown: a stalled non-streaming request must not hold Ctrl-C for minutes.
    uvicorn.run(
        create_app(
            tokens_per_second=args.tps,
            models=args.models,
            strict_models=bool(args.models),
            silent=args.silent,
        ),
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=2,
    )


if __name__ == "__main__":
    main()
