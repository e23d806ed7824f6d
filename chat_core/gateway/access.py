"""Who may use the gateway and how much: the bearer token, tickets, per-client limits.

``authorize`` answers every route: with ``CHAT_GATEWAY_TOKEN`` set, a request
needs ``Authorization: Bearer <token>``, or (seed-style GET only, for browsers'
EventSource, which cannot send headers) a one-use ``ticket`` from
``POST /api/chat/ticket`` (see ``tickets``). The caller's client key (its
token's digest, else its address) is what the per-client limits count.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse

from chat_core.gateway.config import GatewayConfig
from chat_core.gateway.limits import ClientLimits, client_key
from chat_core.gateway.refusals import error_response
from chat_core.gateway.tickets import TicketBook
from chat_core.wire import parse_event_id

log = logging.getLogger("chat_core.gateway")


@dataclass(frozen=True, slots=True)
class Caller:
    """An authorized request: its client key, and the ticket it redeemed (to bind)."""

    client: str
    ticket: str | None = None


def _unauthorized(message: str) -> JSONResponse:
    return error_response(
        401, "unauthorized", "authorization", message, {"WWW-Authenticate": "Bearer"}
    )


class Access:
    """The token check, the ticket book and the per-client limits of one gateway."""

    def __init__(self, config: GatewayConfig) -> None:
        self._token = config.token.encode() if config.token else None
        self.tickets = TicketBook(config.ticket_ttl_s, resume_ttl_s=config.ttl_s)
        self.limits = ClientLimits(config.client_streams, config.client_starts)

    def _bearer(self, request: Request) -> str | None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given or self._token is None:
            return None
        return given if hmac.compare_digest(given.encode(), self._token) else None

    def authorize(
        self,
        request: Request,
        *,
        ticket: str | None = None,
        last_event_id: str | None = None,
    ) -> Caller | JSONResponse:
        """The caller, or a 401: by token, else (when given) by ticket."""
        address = request.client.host if request.client else None
        if self._token is None:
            return Caller(client_key(None, address))
        if (token := self._bearer(request)) is not None:
            return Caller(client_key(token, None))
        if ticket is None:
            return _unauthorized(
                "A bearer token is required (Authorization: Bearer <CHAT_GATEWAY_TOKEN>), "
                "or a ticket from POST /api/chat/ticket for a GET stream."
            )
        if last_event_id:  # an EventSource reconnecting with the ticket it started with
            try:
                stream_id, _ = parse_event_id(last_event_id)
            except ValueError:
                stream_id = ""
            client = self.tickets.resumes(ticket, stream_id)
            if client is None:
                return _unauthorized("This ticket did not start that stream.")
            return Caller(client)
        client = self.tickets.redeem(ticket)
        if client is None:
            return _unauthorized("The ticket is unknown, used or expired; ask for a new one.")
        return Caller(client, ticket)

    def issue_ticket(self, request: Request) -> JSONResponse:
        """``POST /api/chat/ticket``: a one-use ticket for the bearer of the token."""
        caller = self.authorize(request)
        if isinstance(caller, JSONResponse):
            return caller
        ticket = self.tickets.issue(caller.client)
        if ticket is None:
            return error_response(
                429, "busy", None, "Too many unused tickets; retry shortly.", {"Retry-After": "5"}
            )
        body = {"ticket": ticket, "expires_in": round(self.tickets.ttl_s)}
        return JSONResponse(body, headers={"Cache-Control": "no-store"})
