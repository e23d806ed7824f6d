"""The gateway's refusals: JSON bodies ``{"error": {"code", "field", "message"}}``.

Every refusal comes before any upstream call and names what was wrong (the
field, or the limit), so a client can fix its request without reading logs.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi.responses import JSONResponse

from chat_core.errors import LimitError, ValidationError
from chat_core.gateway.requests import BODY_FIELDS

log = logging.getLogger("chat_core.gateway")

_LOGGABLE_FIELDS = {*BODY_FIELDS, "body", "authorization", "Last-Event-ID", "stream_id"}


def error_response(
    status: int,
    code: str,
    field: str | None,
    message: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A refusal: ``{"error": {"code", "field", "message", **extra}}``."""
    # An unknown field's name is user input: it goes back to the client, not to the log.
    known = field is None or field.partition("[")[0] in _LOGGABLE_FIELDS
    log.info("refused status=%d code=%s field=%s", status, code, field if known else "(unknown)")
    body = {"error": {"code": code, "field": field, "message": message, **extra}}
    return JSONResponse(body, status_code=status, headers=headers)


def invalid_response(exc: ValidationError) -> JSONResponse:
    """413 for a size limit, else 422."""
    if isinstance(exc, LimitError):
        return error_response(413, "too_large", exc.field, exc.message)
    return error_response(422, "invalid", exc.field, exc.message)
