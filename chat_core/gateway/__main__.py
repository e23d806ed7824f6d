"""``python -m chat_core.gateway [--host H] [--port P] [--workers N]`` (also ``chat-gateway``).

On any host but loopback it refuses to start without ``CHAT_GATEWAY_TOKEN``
(before binding), unless ``--insecure-no-auth`` says that is on purpose. Several
workers (or instances) share their streams through Redis (``CHAT_REDIS_URL``):
without it a resumed stream could land on a worker that does not have it, so
``--workers`` above 1 is refused.
"""

from __future__ import annotations

import argparse
import logging
import logging.config
from typing import Any

import uvicorn

from chat_core.errors import ConfigError
from chat_core.gateway.app import create_app
from chat_core.gateway.config import GatewayConfig
from chat_core.gateway.deadline import deadline_protocol, default_parser
from chat_core.gateway.logs import log_config
from chat_core.settings import is_loopback_address, load_settings


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
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (1); above 1 needs CHAT_REDIS_URL"
    )
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")

    logging.config.dictConfig(log_config(args.log_level))
    log = logging.getLogger("chat_core.gateway")
    try:
        settings = load_settings()
        config = GatewayConfig.from_settings(settings)
    except ConfigError as exc:
        parser.exit(2, f"chat-gateway: {exc}\n")
    if args.workers > 1 and not settings.redis_url:
        parser.error(
            f"--workers {args.workers} needs CHAT_REDIS_URL: workers share their streams "
            "through Redis (without it a resumed stream can land on a worker that lacks it)"
        )
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
    app = create_app(settings, config=config)  # also checks the settings before any worker
    log.info(
        "gateway: backend=%s runs=%s workers=%d on http://%s:%d",
        settings.resolved_backend,
        app.state.gateway.store.name,
        args.workers,
        args.host,
        args.port,
    )
    common: dict[str, Any] = {
        "host": args.host,
        "port": args.port,
        "log_level": args.log_level,
        "log_config": log_config(args.log_level),
        "timeout_graceful_shutdown": 5,
    }
    # httptools (uvicorn's C parser) when installed: pure-Python h11 cost a third of the
    # gateway's CPU under a burst of streams (docs/benchmarks.md); both keep the deadline.
    protocol = deadline_protocol(config.request_timeout_s, default_parser())
    if args.workers == 1:
        uvicorn.run(app, http=protocol, **common)
    else:  # each worker builds its own app (and Redis connections) from the same settings;
        # the protocol goes by name (a class made at run time does not pickle to a worker)
        uvicorn.run(
            "chat_core.gateway.app:create_app",
            factory=True,
            workers=args.workers,
            http=f"chat_core.gateway.deadline:{protocol.__name__}",
            **common,
        )


if __name__ == "__main__":
    main()
