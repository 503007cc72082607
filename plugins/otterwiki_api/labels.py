"""Which door a change came through, the label of its default commit message: `[api]` for the
REST API, `[mcp]` for the MCP tools (in-process, or the separate MCP app calling the REST API with
`VIA_HEADER`), so the history shows how each change was made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

VIA_HEADER = "X-Wikibot-Via"
LABELS = ("api", "mcp")
_LABEL: ContextVar[str] = ContextVar("wikibot_commit_label", default="api")


@contextmanager
def labelled(label: str) -> Iterator[None]:
    """Default commit messages made in the block start with `[label]` (an unknown label: api)."""
    token = _LABEL.set(label if label in LABELS else "api")
    try:
        yield
    finally:
        _LABEL.reset(token)


def tag() -> str:
    return f"[{_LABEL.get()}]"
