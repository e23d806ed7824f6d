"""What the settings' Model field shows and uses, from the settings and the server's list. Pure.

The page draws a select when the server lists its models and a text field when it
does not; either way the model used is ``ModelChoice.pick.name`` unless the person
picks or types another, and the field starts over when the endpoint changes
(``endpoint``), so a new server is never asked for the last server's model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from chat_core.backends import OWN_SERVER
from chat_core.backends.endpoints import where
from chat_core.backends.model_list import ModelList
from chat_core.backends.models import ModelPick, model_options, pick_model
from chat_core.backends.openai_params import is_azure_endpoint
from chat_core.chat.backend_cache import endpoint_key
from chat_core.settings import Settings

SHOWN_IN_REPORT = 20


@dataclass(frozen=True)
class ModelChoice:
    """The Model field: its options (None for a text field), the pick, and a line beside it."""

    pick: ModelPick
    options: list[str] | None
    endpoint: tuple[str, ...]
    where: str
    caption: str | None
    server_picks: bool  # a remote server chooses when no name is typed

    def used(self, value: str | None) -> str:
        """The model a field value asks for: the pick when left empty (remote: '')."""
        value = (value or "").strip()
        if value or self.server_picks:
            return value
        return self.pick.name


def choose_model(settings: Settings, listing: ModelList | None) -> ModelChoice:
    """The Model field for ``settings`` (the owner's ``CHAT_MODEL`` in ``settings.model``)."""
    base_url = settings.visitor.openai_base_url or settings.openai_base_url
    # A deployed app's visitors never see where the owner's endpoint is (docs/security.md);
    # locally (visitor endpoints "any": the app listens on loopback) the owner is the visitor.
    owners = not settings.visitor.openai_base_url and settings.visitor_policy != "any"
    at = OWN_SERVER if owners and settings.openai_base_url else where(base_url)
    served = list(listing.models) if listing is not None and listing.models else None
    # Azure's list names base models, not the deployments its requests name.
    trusted = None if is_azure_endpoint(base_url) else served
    default = replace(settings, model=None).resolved_model  # the back end's, not CHAT_MODEL
    pick = pick_model(settings.model, trusted, default=default, where=at)
    openai = settings.resolved_backend == "openai"
    caption = pick.note[:1].upper() + pick.note[1:] if pick.note else None  # "The app's ..."
    if caption is None and listing is not None and openai:
        if listing.pending:
            caption = f"Asking {at} for its models…"
        elif listing.problem:
            caption = listing.problem
    return ModelChoice(
        pick=pick,
        options=model_options(served, pick.name, pick.name) if served else None,
        endpoint=endpoint_key(settings),
        where=at,
        caption=caption,
        server_picks=settings.resolved_backend == "remote",
    )


def connection_report(listing: ModelList, at: str) -> tuple[Literal["ok", "wait", "bad"], str]:
    """What "Test connection" says: the chat models, or why there are none."""
    if listing.models:
        shown = ", ".join(f"`{m}`" for m in listing.models[:SHOWN_IN_REPORT])
        extra = len(listing.models) - SHOWN_IN_REPORT
        more = f" and {extra} more" if extra > 0 else ""
        return "ok", f"{at} answered. Its chat models: {shown}{more}."
    if listing.pending:
        return "wait", f"{at} has not answered yet: try again in a moment."
    return "bad", listing.problem or f"{at} did not answer."


__all__ = ["ModelChoice", "choose_model", "connection_report"]
