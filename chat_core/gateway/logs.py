"""The gateway's logging: uvicorn's plus ours, with query strings kept out of the access log."""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

import uvicorn.config

_QUERY = re.compile(r"\?.*")


class RedactQuery(logging.Filter):
    """Drop query strings from uvicorn's access log: a seed-style GET carries the prompt."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], _QUERY.sub("?...", args[2]), *args[3:])
        return True


def log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging plus ours, as a dict: worker processes apply it too."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["filters"] = {"redact_query": {"()": f"{__name__}.RedactQuery"}}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_query"]
    config["formatters"]["plain"] = {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    config["handlers"]["plain"] = {
        "formatter": "plain",
        "class": "logging.StreamHandler",
        "stream": "ext://sys.stderr",
    }
    config["loggers"]["chat_core"] = {
        "handlers": ["plain"],
        "level": level.upper(),
        "propagate": False,
    }
    return config
