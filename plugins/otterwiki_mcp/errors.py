"""The service's typed errors as tool errors a model can act on: what went wrong, what to do next.

Anything else a tool raises is a bug; FastMCP masks its message (mask_error_details) and logs it,
so a client never sees a stack trace or a server path.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from fastmcp.exceptions import ToolError
from otterwiki_api.errors import (
    Busy,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Starting,
    StorageFull,
    TooLarge,
    Unauthorized,
    Unavailable,
    WikiError,
)

P = ParamSpec("P")
T = TypeVar("T")


def _advice(error: WikiError) -> str:
    if error.extra.get("advice"):  # the raiser knows best (a wiki account without write access)
        return str(error.extra["advice"])
    if isinstance(error, Conflict):
        current = error.extra.get("current_revision")
        if current:
            return (
                f"The current revision is {current}: call read_note to see the page as it is "
                f'now, redo your change on that text, and retry with revision="{current}".'
            )
        return "Choose another path, or move or delete what is in the way first."
    if isinstance(error, NotFound):
        return "Check the path with list_notes or search_notes; paths look like 'Folder/Page'."
    if isinstance(error, Invalid):
        return "Fix the arguments and call the tool again."
    if isinstance(error, Busy):
        return "Another write is in progress; retry in a few seconds."
    if isinstance(error, Starting):
        seconds = error.extra.get("retry_after", 5)
        return f"It is starting up: call this tool again in about {seconds} seconds."
    if isinstance(error, Unavailable):
        return "This capability is not available right now; use another tool (e.g. search_notes)."
    if isinstance(error, StorageFull):
        return "The wiki's disk is full; nothing was written. Tell the wiki's operator."
    if isinstance(error, TooLarge):
        return "Send less data in one call (split the note or the file)."
    if isinstance(error, Unauthorized | Forbidden):
        return "The MCP server is not allowed to do this in the wiki; tell the wiki's operator."
    return ""


def tool_error(error: WikiError) -> ToolError:
    """`<code>: <what happened>. <what to do>` — e.g. "conflict: the page changed since ..."."""
    message = error.message.rstrip(".")
    text = f"{error.code}: {message}."
    advice = _advice(error)
    return ToolError(f"{text} {advice}".strip(), log_level=logging.INFO)


def wiki_errors(fn: Callable[P, T]) -> Callable[P, T]:
    """Turn the service's errors raised by a tool into tool errors (the signature is kept, so
    FastMCP still builds the tool's schema from it)."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except WikiError as e:
            raise tool_error(e) from None

    return wrapper
