"""What every wikibot JSON blueprint under /api/v1 shares: bearer-key auth with scopes, a body
size limit, JSON errors, and request parsing that turns bad input into 422s."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Request, Response, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .auth import ApiKey
from .authors import acceptable
from .errors import Forbidden, Invalid, WikiError, too_large
from .labels import VIA_HEADER, labelled
from .runtime import ApiRuntime


def api_runtime() -> ApiRuntime:
    return current_app.extensions["wikibot_api"]


def json_response(data: Any) -> Response:
    """JSON without sorted keys: Flask's `jsonify` sorts them, a third of the time of a
    10,000-page listing (benchmarks/bench_api.py)."""
    return current_app.response_class(
        json.dumps(data, ensure_ascii=False, separators=(",", ":")), mimetype="application/json"
    )


def caller() -> ApiKey:
    return g.wikibot_api_key


def read_or_write(req: Request) -> str:
    return "read" if req.method in ("GET", "HEAD", "OPTIONS") else "write"


def protect(
    bp: Blueprint, public: set[str], scope: Callable[[Request], str] = read_or_write
) -> None:
    """Authenticate every request to `bp` but the `public` endpoints; answer errors in JSON."""

    @bp.before_request
    def _authenticate() -> None:
        rt = api_runtime()
        limit = rt.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            raise too_large(request.content_length, limit)
        request.max_content_length = limit
        if request.endpoint in public:
            return
        g.wikibot_api_key = rt.keys.authenticate(
            request.headers.get("Authorization"), scope(request)
        )
        via = request.headers.get(VIA_HEADER, "api").strip().lower()
        g.wikibot_label = labelled(via)  # the MCP app's calls commit as [mcp]
        g.wikibot_label.__enter__()

    @bp.teardown_request
    def _unlabel(_: BaseException | None) -> None:
        label = g.pop("wikibot_label", None)
        if label is not None:
            label.__exit__(None, None, None)

    @bp.errorhandler(WikiError)
    def _wiki_error(error: WikiError) -> tuple[Response, int]:
        response = jsonify(error.to_dict())
        if "retry_after" in error.extra:
            response.headers["Retry-After"] = str(error.extra["retry_after"])
        return response, error.status

    @bp.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response, int]:
        status = error.code or 500
        code = {413: "too_large", 404: "not_found", 405: "method_not_allowed"}.get(
            status, "http_error"
        )
        response = jsonify({"error": error.description or error.name, "code": code})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response, status


def body() -> dict[str, Any]:
    """The request's JSON object; anything else is a 422 with a message saying what was wrong."""
    raw = request.get_data(cache=True)
    if not raw:
        return {}
    try:
        data = request.get_json(silent=True, force=True)
    except RecursionError:  # JSON nested deeper than Python's parser goes
        raise Invalid("request body is nested too deeply") from None
    if data is None:
        raise Invalid("request body is not valid JSON")
    if not isinstance(data, dict):
        raise Invalid("request body must be a JSON object")
    # JSON may escape an unpaired UTF-16 surrogate ("\ud800"), which no file or git can store
    if re.search(rb"\\u[dD][89a-fA-F]", raw):
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise Invalid("request body contains an unpaired surrogate (\\ud800-\\udfff)") from None
    return data


def author_of(data: dict[str, Any]) -> tuple[str, str]:
    """The git author of a write: the key's own, or — for admin keys, which services such as the
    separate MCP app use on behalf of their signed-in users — `{"author": {"name", "email"}}`."""
    key = caller()
    given = data.get("author")
    if given is None:
        return key.author
    if not key.allows("admin"):
        raise Forbidden("only admin keys may name another author")
    if (
        not isinstance(given, dict)
        or not isinstance(given.get("name"), str)
        or not isinstance(given.get("email", ""), str)
        or not acceptable(given["name"], given.get("email", ""))
    ):
        raise Invalid(
            "author must be {name, email} strings without <, > or line breaks, and a name git "
            "accepts: not only spaces and the characters . , : ; < > \" \\ '"
        )
    return given["name"].strip(), given.get("email", "").strip()


def int_arg(name: str) -> int | None:
    value = request.args.get(name)
    if value is None:
        return None
    # only plain decimal digits: int() would also take "", " 5", "1_0" and non-ASCII digits
    if not re.fullmatch(r"-?[0-9]{1,1000}", value):
        raise Invalid(f"{name} must be an integer")
    return int(value)


def str_arg(name: str) -> str | None:
    value = request.args.get(name)
    if value is not None and "\x00" in value:
        raise Invalid(f"{name} must not contain NUL characters")
    return value
