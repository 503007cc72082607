"""`/api/v1/semantic-search` and `/api/v1/reindex`: parse, call, answer. Auth and errors are the
REST API's (otterwiki_api.jsonapi)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Request, Response, current_app
from otterwiki_api.errors import Invalid
from otterwiki_api.jsonapi import body, int_arg, json_response, protect, read_or_write, str_arg

from .runtime import SearchRuntime

bp = Blueprint("wikibot_search", __name__, url_prefix="/api/v1")


def _scope(req: Request) -> str:
    """Reindexing is expensive: it needs an admin key."""
    return "admin" if req.endpoint == "wikibot_search.reindex" else read_or_write(req)


protect(bp, public=set(), scope=_scope)


def runtime() -> SearchRuntime:
    return current_app.extensions["wikibot_search"]


@bp.get("/semantic-search")
def semantic_search() -> Response:
    search, _ = runtime().require()
    return json_response(
        search.semantic(
            str_arg("q"), int_arg("n"), int_arg("max_chunks_per_page"), str_arg("group")
        )
    )


@bp.post("/reindex")
def reindex() -> tuple[Response, int]:
    rt = runtime()
    _, sync = rt.require()
    data = body()
    full = data.get("full", False)
    if not isinstance(full, bool):
        raise Invalid("full must be true or false")
    assert rt.settings is not None
    return json_response(sync.step(rt.settings.reindex_budget, full=full)), 202


@bp.get("/reindex/status")
def reindex_status() -> Response:
    rt = runtime()
    if rt.sync is None:
        answer: dict[str, Any] = {"status": "unavailable", "reason": rt.unavailable_reason}
        return json_response(answer)
    return json_response(rt.sync.status())
