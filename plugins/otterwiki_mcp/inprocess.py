"""The wiki backend inside the wiki's own process: otterwiki_api's WikiService, called directly.

Every call runs in the Flask app's context, because the service's listeners (Otterwiki's plugin
hooks, auto-push) and the search plugin expect one; tools run in worker threads that have none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from otterwiki_api.errors import Unavailable
from otterwiki_api.labels import labelled
from otterwiki_api.service import WikiService

from .backend import Author

T = TypeVar("T")


class InProcessBackend:
    def __init__(self, app: Flask) -> None:
        self.app = app

    def _run(self, call: Callable[[WikiService], T]) -> T:
        with self.app.app_context():
            runtime = self.app.extensions.get("wikibot_api")
            if runtime is None:
                raise Unavailable("the wikibot REST API plugin (otterwiki_api) is not loaded")
            with labelled("mcp"):  # its commits say they came through MCP
                return call(runtime.service)

    def get_page(self, path: str, revision: str | None = None) -> dict[str, Any]:
        return self._run(lambda s: s.get_page(path, revision=revision))

    def put_page(
        self, path: str, content: str, revision: str | None, message: str | None, author: Author
    ) -> dict[str, Any]:
        return self._run(lambda s: s.put_page(path, content, author, revision, message)[0])

    def edit_page(
        self,
        path: str,
        old_string: str,
        new_string: str,
        revision: str,
        message: str | None,
        author: Author,
    ) -> dict[str, Any]:
        return self._run(
            lambda s: s.edit_page(path, old_string, new_string, revision, author, message)
        )

    def apply_edit(
        self,
        path: str,
        operation: dict[str, Any],
        revision: str | None,
        message: str | None,
        author: Author,
    ) -> dict[str, Any]:
        return self._run(lambda s: s.apply_edit(path, operation, revision, author, message))

    def delete_page(self, path: str, message: str | None, author: Author) -> dict[str, Any]:
        return self._run(lambda s: s.delete_page(path, author, message))

    def rename_page(
        self, path: str, new_path: str, message: str | None, author: Author
    ) -> dict[str, Any]:
        return self._run(lambda s: s.rename_page(path, new_path, author, message))

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
        listing = self._run(
            lambda s: s.list_pages(
                prefix=prefix,
                category=category,
                tag=tag,
                updated_since=updated_since,
                limit=limit,
                cursor=cursor,
            )
        )
        return listing.as_dict()

    def search(self, query: str, limit: int) -> dict[str, Any]:
        return self._run(lambda s: s.search(query, limit))

    def semantic_search(self, query: str, limit: int) -> dict[str, Any]:
        with self.app.app_context():
            runtime = self.app.extensions.get("wikibot_search")
            if runtime is None:
                raise Unavailable(
                    "semantic search is not installed in this wiki (the otterwiki_search plugin)"
                )
            search, _ = runtime.require()
            return search.semantic(query, limit, None, "page")

    def links(self, path: str) -> dict[str, Any]:
        return self._run(lambda s: s.links(path))

    def link_graph(self) -> dict[str, Any]:
        return self._run(lambda s: s.link_graph())

    def history(self, path: str, limit: int | None) -> dict[str, Any]:
        return self._run(lambda s: s.history(path, limit))

    def changelog(self, limit: int) -> dict[str, Any]:
        return self._run(lambda s: s.changelog(limit))

    def context(
        self, path: str, depth: int, since: str | None, max_chars: int, offset: int
    ) -> dict[str, Any]:
        return self._run(lambda s: s.context(path, depth, since, max_chars, offset))

    def activity(self, since: str, limit: int) -> dict[str, Any]:
        return self._run(lambda s: s.activity(since, limit))

    def folders(self, prefix: str | None, limit: int) -> dict[str, Any]:
        return self._run(lambda s: s.folders(prefix, limit))

    def list_attachments(self, path: str) -> dict[str, Any]:
        return self._run(lambda s: s.list_attachments(path))

    def get_attachment(self, path: str, filename: str) -> dict[str, Any]:
        return self._run(lambda s: s.get_attachment(path, filename))

    def put_attachment(
        self, path: str, filename: str, content_b64: str, message: str | None, author: Author
    ) -> dict[str, Any]:
        return self._run(
            lambda s: s.put_attachment(path, filename, content_b64, author, message)[0]
        )

    def delete_attachment(
        self, path: str, filename: str, message: str | None, author: Author
    ) -> dict[str, Any]:
        return self._run(lambda s: s.delete_attachment(path, filename, author, message))

    def whoami(self, key: str | None = None, cookie: str | None = None) -> dict[str, Any]:
        """What the REST route answers, worked out in a request context that carries the
        browser's cookies (Flask-Login reads the session from them); a missing `key` is the
        wiki's own trust, an admin key in name only."""
        from otterwiki_api.auth import ApiKey
        from otterwiki_api.whoami import describe

        headers = {"Cookie": cookie} if cookie else {}
        with self.app.test_request_context("/api/v1/whoami", headers=headers):
            runtime = self.app.extensions.get("wikibot_api")
            if runtime is None:
                raise Unavailable("the wikibot REST API plugin (otterwiki_api) is not loaded")
            if key is None:
                settings = runtime.settings
                found = ApiKey(
                    "in-process", "", "admin", settings.author_name, settings.author_email
                )
            else:
                found = runtime.keys.authenticate(f"Bearer {key}", "read")
            return describe(found)
