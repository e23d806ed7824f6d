"""``python -m chat_core.gateway --host 127.0.0.1 --port 8000`` (also ``chat-gateway``)."""

from __future__ import annotations

import argparse
import logging
import re

import uvicorn

from chat_core.gateway.app import create_app
from chat_core.settings import load_settings

_QUERY = re.compile(r"\?.*")


class RedactQuery(logging.Filter):
    """Drop query strings from uvicorn's access log: a seed-style GET carries the prompt."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], _QUERY.sub("?...", args[2]), *args[3:])
        return True


def main(argv: list[str] | None = None) -> None:
    """Serve the gateway with uvicorn."""
    parser = argparse.ArgumentParser(prog="chat-gateway", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning"])
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = load_settings()
    app = create_app(settings)
    logging.getLogger("chat_core.gateway").info(
        "gateway: backend=%s on http://%s:%d", settings.resolved_backend, args.host, args.port
    )
    logging.getLogger("uvicorn.access").addFilter(RedactQuery())
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
