"""``python -m chat_core.gateway --host 127.0.0.1 --port 8000`` (also ``chat-gateway``).

On any host but loopback it refuses to start without ``CHAT_GATEWAY_TOKEN``
(before binding), unless ``--insecure-no-auth`` says that is on purpose.
"""

from __future__ import annotations

import argparse
import logging
import re

import uvicorn

from chat_core.errors import ConfigError
from chat_core.gateway.app import create_app
from chat_core.gateway.config import GatewayConfig
from chat_core.gateway.deadline import deadline_protocol
from chat_core.settings import is_loopback_address, load_settings

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
    parser.add_argument(
        "--insecure-no-auth",
        action="store_true",
        help="serve a non-loopback host without CHAT_GATEWAY_TOKEN (anyone can spend the key)",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    log = logging.getLogger("chat_core.gateway")
    try:
        settings = load_settings()
        config = GatewayConfig.from_settings(settings)
    except ConfigError as exc:
        parser.exit(2, f"chat-gateway: {exc}\n")
    if not config.token and not is_loopback_address(args.host):
        if not args.insecure_no_auth:
            parser.exit(
                2,
                f"chat-gateway: refusing to serve {args.host} without CHAT_GATEWAY_TOKEN: anyone "
                "who reaches it could use the back end. Set CHAT_GATEWAY_TOKEN, bind 127.0.0.1, "
                "or pass --insecure-no-auth if that is really what you want.\n",
            )
        log.warning(
            "!!! INSECURE: serving %s with NO AUTHENTICATION (--insecure-no-auth). Anyone who "
            "can reach this port can stream from the back end, on its owner's key. !!!",
            args.host,
        )
    app = create_app(settings, config=config)
    log.info("gateway: backend=%s on http://%s:%d", settings.resolved_backend, args.host, args.port)
    logging.getLogger("uvicorn.access").addFilter(RedactQuery())
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        timeout_graceful_shutdown=5,
        http=deadline_protocol(config.request_timeout_s),
    )


if __name__ == "__main__":
    main()
