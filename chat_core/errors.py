"""The error hierarchy of chat_core.

    ChatError                 base of everything raised on purpose here
    ├── ConfigError           settings that cannot work (bad back end name, missing URL)
    │   └── EndpointRefusedError  a visitor's endpoint this app may not reach (address guard)
    ├── CapacityError         too many answers streaming at once (HTTP 429)
    ├── RunStoreError         the run store (Redis) is unreachable (HTTP 503)
    ├── ValidationError       bad input, with the offending ``field`` (HTTP 422)
    │   ├── LimitError        input over a size limit (HTTP 413)
    │   └── NotFoundError     no such conversation or message (for this owner)
    ├── StoreError            the chat database failed (unreachable, foreign, newer, full)
    └── BackendError          an upstream failure, carrying a ``StreamError``'s code

Third-party exceptions are converted at the boundary with ``raise ... from exc``;
``str(error)`` is always short and safe to show a user.
"""

from __future__ import annotations

from chat_core.events import ErrorCode, StreamError


class ChatError(Exception):
    """Base class of every error chat_core raises on purpose."""


class ConfigError(ChatError):
    """Settings that cannot work, for example an unknown back end."""


class EndpointRefusedError(ConfigError):
    """A visitor-typed endpoint that ``CHAT_VISITOR_ENDPOINTS`` does not allow."""


class ValidationError(ChatError):
    """Bad input; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class LimitError(ValidationError):
    """Input over a size limit."""


class NotFoundError(ValidationError):
    """No conversation or message with that id for this owner (deleted, or never theirs)."""


class StoreError(ChatError):
    """The database failed: unreachable, not a chat database, from a newer app, or full."""


class BackendError(ChatError):
    """An upstream failure with a stable ``code`` and a ``retryable`` flag."""

    def __init__(self, code: ErrorCode, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.code: ErrorCode = code
        self.message = message
        self.retryable = retryable

    def to_event(self) -> StreamError:
        """This error as a stream event."""
        return StreamError(self.code, self.message, self.retryable)


class CapacityError(ChatError):
    """Too many runs are active; try again shortly."""


class RunStoreError(ChatError):
    """The run store (Redis) cannot be reached: a run cannot start or be found (HTTP 503)."""
