"""Which back ends a lane may use, and each lane's settings: the owner's, model and kind set.

Lanes use the owner's configured endpoints only (the offline model always; OpenAI or
an OpenAI-compatible server when ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL`` is set; the
remote gateway when ``CHAT_REMOTE_URL`` is): an endpoint typed on the Compare page
would need the chat's whole visitor-endpoint path, so a visitor's typed endpoint is
Chat's alone for now. Owner credentials therefore only ever reach owner endpoints,
and the visitor budget (``BudgetedBackend``, wrapped by the page) counts every lane.
"""

from __future__ import annotations

from dataclasses import replace

from chat_core.compare.lanes import LaneSpec
from chat_core.settings import Settings, VisitorInput


def available_backends(base: Settings) -> list[str]:
    """The back ends the owner configured, offline first."""
    out = ["offline"]
    if base.openai_api_key or base.openai_base_url:
        out.append("openai")
    if base.remote_url:
        out.append("remote")
    return out


def lane_settings(base: Settings, lane: LaneSpec) -> Settings:
    """The owner's settings for one lane: its back end and model, nothing a visitor typed."""
    return replace(base, backend=lane.backend, model=lane.model, visitor=VisitorInput())


__all__ = ["available_backends", "lane_settings"]
