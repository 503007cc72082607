"""The wiki backend over HTTP: the REST API under /api/v1 with an API key, for the separate MCP app.

API errors come back as the same otterwiki_api.errors types the service raises, so the tools map
one taxonomy whichever backend they run on. Writes send the caller's identity as `author` in the
body; the REST API commits under it when the key is an admin key (WIKIBOT_API_KEY should be one).
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any
from urllib.parse import quote

import httpx2
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
from otterwiki_api.labels import VIA_HEADER

from .backend import Author

_ERRORS: dict[str, type[WikiError]] = {
    cls.code: cls
    for cls in (
        Invalid,
        NotFound,
        Conflict,
        Unauthorized,
        Forbidden,
        TooLarge,
        Starting,  # before Busy and Unavailable: a bare 503 is Unavailable
        Busy,
        Unavailable,
        StorageFull,
    )
}
_BY_STATUS: dict[int, type[WikiError]] = {cls.status: cls for cls in _ERRORS.values()}


def _page(path: str) -> str:
    """The path for a URL. Dot segments are percent-encoded: an HTTP client would resolve them
    away ('a/../b' -> 'b') and the wiki must see, and refuse, the path as given."""
    segments = quote(path.strip("/"), safe="/").split("/")
    return "/".join(s.replace(".", "%2E") if s in (".", "..") else s for s in segments)


def _author(author: Author) -> dict[str, str]:
    return {"name": author[0], "email": author[1]}


def _keep_none() -> CookieJar:
    """A cookie jar that stores nothing: the client serves every user, so a cookie the wiki
    sets while answering for one (a session) must never go out with another's request."""
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


class HttpBackend:
    def __init__(
        self,
        api_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        transport: httpx2.BaseTransport | None = None,
    ) -> None:
        root = api_url.rstrip("/")
        if root.endswith("/api/v1"):
            root = root[: -len("/api/v1")]
        self.api_url = root + "/api/v1"
        self.client = httpx2.Client(
            headers={
                "Authorization": f"Bearer {api_key}",
                "Accept": "application/json",
                VIA_HEADER: "mcp",  # its commits are labelled [mcp]
            },
            timeout=timeout,
            transport=transport,
            cookies=_keep_none(),
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        try:
            response = self.client.request(
                method,
                self.api_url + path,
                params=_drop_none(params or {}) or None,
                json=body,
                headers=headers,
            )
        except httpx2.TimeoutException:
            raise Busy(f"the wiki at {self.api_url} answered too slowly; retry shortly") from None
        except httpx2.HTTPError as e:
            raise Unavailable(f"the wiki at {self.api_url} cannot be reached ({e})") from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code < 400 and isinstance(data, dict):
            return data
        if not isinstance(data, dict):
            raise Unavailable(
                f"the wiki answered {method} {path} with HTTP {response.status_code} and no JSON"
            )
        cls = _ERRORS.get(str(data.get("code"))) or _BY_STATUS.get(response.status_code, WikiError)
        extra = {k: v for k, v in data.items() if k not in ("error", "code")}
        raise cls(str(data.get("error") or f"HTTP {response.status_code}"), **extra)

    def _write(
        self, method: str, path: str, message: str | None, author: Author, **fields: Any
    ) -> dict[str, Any]:
        """A change, committed as `author` (the API's admin key names the signed-in user)."""
        body = {**fields, "commit_message": message, "author": _author(author)}
        return self._call(method, path, body=_drop_none(body))

    # -- pages ---------------------------------------------------------------------------------
    def get_page(self, path: str, revision: str | None = None) -> dict[str, Any]:
        return self._call("GET", f"/pages/{_page(path)}", params={"revision": revision})

    def put_page(
        self, path: str, content: str, revision: str | None, message: str | None, author: Author
    ) -> dict[str, Any]:
        page = f"/pages/{_page(path)}"
        return self._write("PUT", page, message, author, content=content, revision=revision)

    def apply_edit(
        self,
        path: str,
        operation: dict[str, Any],
        revision: str | None,
        message: str | None,
        author: Author,
    ) -> dict[str, Any]:
        fields = {**operation, "revision": revision}
        return self._write("PATCH", f"/pages/{_page(path)}", message, author, **fields)

    def edit_page(
        self,
        path: str,
        old_string: str,
        new_string: str,
        revision: str,
        message: str | None,
        author: Author,
    ) -> dict[str, Any]:
        return self._write(
            "PATCH",
            f"/pages/{_page(path)}",
            message,
            author,
            old_string=old_string,
            new_string=new_string,
            revision=revision,
        )

    def delete_page(self, path: str, message: str | None, author: Author) -> dict[str, Any]:
        return self._write("DELETE", f"/pages/{_page(path)}", message, author)

    def rename_page(
        self, path: str, new_path: str, message: str | None, author: Author
    ) -> dict[str, Any]:
        return self._write(
            "POST", f"/pages/{_page(path)}/rename", message, author, new_path=new_path
        )

    def list_pages(
        self,
        *,
        prefix: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        updated_since: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "prefix": prefix,
            "category": category,
            "tag": tag,
            "updated_since": updated_since,
            "limit": limit,
            "cursor": cursor,
        }
        return self._call("GET", "/pages", params=params)

    # -- search, links, history ----------------------------------------------------------------
    def search(self, query: str, limit: int) -> dict[str, Any]:
        return self._call("GET", "/search", params={"q": query, "limit": limit})

    def semantic_search(self, query: str, limit: int) -> dict[str, Any]:
        try:
            return self._call(
                "GET", "/semantic-search", params={"q": query, "n": limit, "group": "page"}
            )
        except NotFound as e:
            if "no API route" in e.message:
                raise Unavailable("semantic search is not installed in the wiki") from None
            raise

    def links(self, path: str) -> dict[str, Any]:
        return self._call("GET", f"/links/{_page(path)}")

    def link_graph(self) -> dict[str, Any]:
        return self._call("GET", "/links")

    def history(self, path: str, limit: int | None) -> dict[str, Any]:
        return self._call("GET", f"/pages/{_page(path)}/history", params={"limit": limit})

    def changelog(self, limit: int) -> dict[str, Any]:
        return self._call("GET", "/changelog", params={"limit": limit})

    def context(
        self, path: str, depth: int, since: str | None, max_chars: int, offset: int
    ) -> dict[str, Any]:
        params = {"depth": depth, "since": since, "max_chars": max_chars, "offset": offset}
        return self._call("GET", f"/context/{_page(path)}", params=params)

    def activity(self, since: str, limit: int) -> dict[str, Any]:
        return self._call("GET", "/activity", params={"since": since, "limit": limit})

    def folders(self, prefix: str | None, limit: int) -> dict[str, Any]:
        return self._call("GET", "/folders", params={"prefix": prefix, "limit": limit})

    # -- attachments ---------------------------------------------------------------------------
    def list_attachments(self, path: str) -> dict[str, Any]:
        return self._call("GET", f"/pages/{_page(path)}/attachments")

    def get_attachment(self, path: str, filename: str) -> dict[str, Any]:
        return self._call("GET", f"/pages/{_page(path)}/attachments/{quote(filename, safe='')}")

    def put_attachment(
        self, path: str, filename: str, content_b64: str, message: str | None, author: Author
    ) -> dict[str, Any]:
        return self._write(
            "POST",
            f"/pages/{_page(path)}/attachments",
            message,
            author,
            filename=filename,
            content=content_b64,
        )

    def delete_attachment(
        self, path: str, filename: str, message: str | None, author: Author
    ) -> dict[str, Any]:
        attachment = f"/pages/{_page(path)}/attachments/{quote(filename, safe='')}"
        return self._write("DELETE", attachment, message, author)

    def whoami(self, key: str | None = None, cookie: str | None = None) -> dict[str, Any]:
        """Asks the wiki, presenting `key` instead of the backend's own when given, and the
        browser's cookies (the wiki shares the MCP app's origin, so they are the wiki's)."""
        headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
        if cookie:
            headers["Cookie"] = cookie
        return self._call("GET", "/whoami", headers=headers)
