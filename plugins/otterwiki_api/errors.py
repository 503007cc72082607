"""One error taxonomy for the service layer; REST and MCP map these to their own forms."""

from __future__ import annotations

from typing import Any


class WikiError(Exception):
    """Base class: a message for the caller, a machine-readable code, and extra fields."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.message, "code": self.code, **self.extra}


class Invalid(WikiError):
    """The input is malformed or breaks a rule (HTTP 422)."""

    status = 422
    code = "invalid"


class NotFound(WikiError):
    status = 404
    code = "not_found"


class Conflict(WikiError):
    """The target changed or exists already; `current_revision` says what to retry with."""

    status = 409
    code = "conflict"


class Unauthorized(WikiError):
    status = 401
    code = "unauthorized"


class Forbidden(WikiError):
    status = 403
    code = "forbidden"


class TooLarge(WikiError):
    status = 413
    code = "too_large"


def too_large(size: int, limit: int) -> TooLarge:
    """The one answer to an upload over the limit, from REST and MCP alike."""
    return TooLarge(
        f"the request body is {size / 2**20:.1f} MiB; this wiki takes at most "
        f"{limit / 2**20:.1f} MiB per request (WIKIBOT_API_MAX_BODY_BYTES), so attachments up "
        f"to about {limit * 3 / 4 / 2**20:.1f} MiB",
        limit=limit,
    )


class Busy(WikiError):
    """The repository stayed locked by another writer for too long; retrying later is safe."""

    status = 503
    code = "busy"


class Unavailable(WikiError):
    """A capability is not available here (e.g. semantic search without an embedder)."""

    status = 503
    code = "unavailable"


class Starting(Unavailable):
    """Available in a moment (e.g. the embedding model is still loading): retry after
    `retry_after` seconds (also sent as Retry-After)."""

    code = "starting"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)


class StorageFull(WikiError):
    """The disk holding the repository is full: nothing was written; free space, then retry."""

    status = 507
    code = "insufficient_storage"


def bounded_int(value: object, name: str, default: int, low: int, high: int) -> int:
    """An integer argument from `low` to `high` (`default` when absent), else Invalid (422)."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{name} must be an integer from {low} to {high}")
    return value
