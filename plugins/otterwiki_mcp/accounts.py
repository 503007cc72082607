"""What the approval page learns from the wiki: who a browser's session belongs to (with that
account's Otterwiki permissions), whether the wiki has accounts at all, what it looks like, and
which API keys may approve. Both come from `GET /api/v1/whoami` through the backend: in the wiki's
process it is worked out in place; in the separate MCP app (which shares the wiki's origin, so
the browser sends it the wiki's cookies) the cookies are forwarded to the wiki, which alone can
read its sessions."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from otterwiki_api.errors import WikiError

from .approval import Identity
from .backend import WikiBackend
from .pages import SiteLook

log = logging.getLogger(__name__)
APPROVING_SCOPES = ("write", "admin")


@dataclass(frozen=True)
class Visit:
    """A browser at the approval page, as the wiki sees it."""

    account: Identity | None = None  # the signed-in account, with its permissions
    can_read: bool = False
    accounts: bool = False  # the wiki has accounts people sign in with
    site: SiteLook = field(default_factory=SiteLook)


VisitCheck = Callable[[str], Visit]
"""The visit of a browser presenting this Cookie header."""


def _site(answer: dict[str, Any]) -> SiteLook:
    site = answer.get("site") or {}
    return SiteLook(str(site.get("name") or "the wiki"), site.get("logo"), site.get("login"))


def visits(backend: WikiBackend) -> VisitCheck:
    def check(cookie: str) -> Visit:
        try:
            answer = backend.whoami(None, cookie or None)
        except WikiError as e:  # the wiki cannot say: nobody is signed in, keys still work
            log.warning("wikibot MCP: the wiki did not say who is signed in: %s", e.message)
            return Visit()
        found = answer.get("account")
        account = None
        if found:
            account = Identity(
                str(found["name"]),
                str(found["email"]),
                account=True,
                write=bool(found.get("write")),
                upload=bool(found.get("upload")),
            )
        can_read = bool(found and found.get("read"))
        return Visit(account, can_read, bool(answer.get("accounts")), _site(answer))

    return check


def wiki_keys(backend: WikiBackend) -> Callable[[str], Identity | None]:
    """The wiki's API keys with write scope (or admin), each naming its own git author."""

    def check(key: str) -> Identity | None:
        if not key:
            return None
        try:
            found = backend.whoami(key)["key"]
        except WikiError:
            return None
        if found.get("scope") not in APPROVING_SCOPES:
            return None
        author = found.get("author") or {}
        return Identity(author.get("name"), author.get("email"))

    return check
