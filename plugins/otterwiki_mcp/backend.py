"""The wiki as the MCP tools see it: one small interface, two implementations.

`InProcessBackend` (inprocess.py) calls otterwiki_api's WikiService inside the wiki's own process;
`HttpBackend` (httpbackend.py) calls the REST API under /api/v1, for the separate MCP app. Both
return the REST API's JSON shapes and raise otterwiki_api.errors types, so the tools are written
once and the same tests run against both.
"""

from __future__ import annotations

from typing import Any, Protocol

from otterwiki_api.authors import Author


class WikiBackend(Protocol):
    def get_page(self, path: str, revision: str | None = None) -> dict[str, Any]: ...

    def put_page(
        self, path: str, content: str, revision: str | None, message: str | None, author: Author
    ) -> dict[str, Any]: ...

    def edit_page(
        self,
        path: str,
        old_string: str,
        new_string: str,
        revision: str,
        message: str | None,
        author: Author,
    ) -> dict[str, Any]: ...

    def apply_edit(
        self,
        path: str,
        operation: dict[str, Any],
        revision: str | None,
        message: str | None,
        author: Author,
    ) -> dict[str, Any]:
        """One edit operation (`otterwiki_api.edits`), as `PATCH /pages/<path>` with
        `operation` does."""
        ...

    def delete_page(self, path: str, message: str | None, author: Author) -> dict[str, Any]: ...

    def rename_page(
        self, path: str, new_path: str, message: str | None, author: Author
    ) -> dict[str, Any]: ...

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
        """`{pages, total, next_cursor?}` as `GET /api/v1/pages` answers."""
        ...

    def search(self, query: str, limit: int) -> dict[str, Any]: ...

    def semantic_search(self, query: str, limit: int) -> dict[str, Any]: ...

    def links(self, path: str) -> dict[str, Any]: ...

    def link_graph(self) -> dict[str, Any]: ...

    def history(self, path: str, limit: int | None) -> dict[str, Any]: ...

    def changelog(self, limit: int) -> dict[str, Any]: ...

    def context(
        self, path: str, depth: int, since: str | None, max_chars: int, offset: int
    ) -> dict[str, Any]:
        """`GET /context/<path>`: the page and its neighbourhood (`otterwiki_api.overview`)."""
        ...

    def activity(self, since: str, limit: int) -> dict[str, Any]: ...

    def folders(self, prefix: str | None, limit: int) -> dict[str, Any]: ...

    def list_attachments(self, path: str) -> dict[str, Any]: ...

    def get_attachment(self, path: str, filename: str) -> dict[str, Any]: ...

    def put_attachment(
        self, path: str, filename: str, content_b64: str, message: str | None, author: Author
    ) -> dict[str, Any]: ...

    def delete_attachment(
        self, path: str, filename: str, message: str | None, author: Author
    ) -> dict[str, Any]: ...

    def whoami(self, key: str | None = None, cookie: str | None = None) -> dict[str, Any]:
        """`GET /api/v1/whoami` (`otterwiki_api.whoami`): `key` (the backend's own when None)
        and the wiki account whose session the browser's `cookie` header carries."""
        ...
