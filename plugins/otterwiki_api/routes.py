"""The `/api/v1` blueprint: parse the request, call the service, map errors. Nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request, send_from_directory
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound
from werkzeug.routing import PathConverter

from . import apidocs
from .errors import Invalid, NotFound, Unavailable, WikiError
from .jsonapi import api_runtime, author_of, body, int_arg, json_response, protect, str_arg
from .openapi import openapi_document
from .runtime import ApiRuntime

bp = Blueprint("wikibot_api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = {
    "wikibot_api.health",
    "wikibot_api.openapi",
    "wikibot_api.unknown",
    "wikibot_api.api_index",
    "wikibot_api.api_docs",
    "wikibot_api.api_docs_plain",
    "wikibot_api.api_docs_asset",
}


class WikiPathConverter(PathConverter):
    """Werkzeug's `path`, but also matching newlines (which `.` leaves out), so a page path with
    a control character reaches the API's validation (a JSON 422) instead of missing the route."""

    regex = "[^/](?s:.)*?"


bp.record(lambda state: state.app.url_map.converters.setdefault("wikipath", WikiPathConverter))


def route(rule: str, methods: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`bp.route` without slash merging."""
    # no slash merging: `pages//etc/passwd` must reach validation (422), not redirect (308)
    return bp.route(rule, methods=methods, merge_slashes=False)


def runtime() -> ApiRuntime:
    return api_runtime()


protect(bp, PUBLIC_ENDPOINTS)


# -- routes ------------------------------------------------------------------------------------
@route("/health", ["GET"])
def health() -> Response:
    return json_response({"status": "ok"})


def _document() -> dict[str, Any]:
    extra = current_app.extensions.get("wikibot_openapi_paths", {})
    return openapi_document(request.host_url.rstrip("/"), extra)


@route("/openapi.json", ["GET"])
def openapi() -> Response:
    return json_response(_document())


@route("/", ["GET"])
def api_index() -> Response:
    """What the banner points at: the routes, and where the reference is."""
    return json_response(apidocs.index(_document(), request.base_url.rstrip("/")))


@route("/docs", ["GET"])
def api_docs() -> Response:
    """Swagger UI where swagger-ui-py is installed, else the plain reference."""
    if apidocs.swagger_folder() is None:
        return api_docs_plain()
    base = request.base_url.rstrip("/")
    page = apidocs.interactive(
        _document(), base.removesuffix("/docs") + "/openapi.json", base + "/assets", base + "/plain"
    )
    return Response(page, mimetype="text/html")


@route("/docs/plain", ["GET"])
def api_docs_plain() -> Response:
    return Response(apidocs.render(_document()), mimetype="text/html")


@route("/docs/assets/<name>", ["GET"])
def api_docs_asset(name: str) -> Response:
    folder = apidocs.swagger_folder()
    if folder is None or name not in apidocs.SWAGGER_FILES:
        raise NotFound(f"no such file of the API reference: {name}")
    response = send_from_directory(folder, name, mimetype=apidocs.SWAGGER_FILES[name])
    response.cache_control.max_age = 86400
    return response


@route("/pages", ["GET"])
def list_pages() -> Response:
    since = str_arg("updated_since")
    listing = runtime().service.list_pages(
        prefix=str_arg("prefix"),
        category=str_arg("category"),
        tag=str_arg("tag"),
        updated_since=since and since.replace(" ", "+"),  # a "+" in a query string reads " "
        limit=int_arg("limit"),
        cursor=str_arg("cursor") or None,
        offset=int_arg("offset"),
    )
    return json_response(listing.as_dict())


@route("/pages/<wikipath:path>", ["GET"])
def get_page(path: str) -> Response:
    return json_response(runtime().service.get_page(path, revision=str_arg("revision") or None))


@route("/pages/<wikipath:path>", ["PUT"])
def put_page(path: str) -> tuple[Response, int]:
    data = body()
    if "content" not in data:
        raise Invalid("request body must include 'content'")
    result, created = runtime().service.put_page(
        path, data["content"], author_of(data), data.get("revision"), data.get("commit_message")
    )
    return json_response(result), 201 if created else 200


@route("/pages/<wikipath:path>", ["PATCH"])
def edit_page(path: str) -> Response:
    data = body()
    if "operation" in data:  # append, prepend, replace_section, find_replace, set_frontmatter
        return json_response(
            runtime().service.apply_edit(
                path, data, data.get("revision"), author_of(data), data.get("commit_message")
            )
        )
    for field in ("revision", "old_string", "new_string"):
        if field not in data:
            raise Invalid(f"request body must include '{field}'")
    return json_response(
        runtime().service.edit_page(
            path,
            data["old_string"],
            data["new_string"],
            data["revision"],
            author_of(data),
            data.get("commit_message"),
        )
    )


@route("/pages/<wikipath:path>", ["DELETE"])
def delete_page(path: str) -> Response:
    data = body()
    return json_response(
        runtime().service.delete_page(path, author_of(data), data.get("commit_message"))
    )


@route("/pages/<wikipath:path>/rename", ["POST"])
def rename_page(path: str) -> Response:
    data = body()
    return json_response(
        runtime().service.rename_page(
            path, data.get("new_path"), author_of(data), data.get("commit_message")
        )
    )


@route("/pages/<wikipath:path>/history", ["GET"])
def page_history(path: str) -> Response:
    return json_response(runtime().service.history(path, int_arg("limit")))


@route("/context/<wikipath:path>", ["GET"])
def page_context(path: str) -> Response:
    return json_response(
        runtime().service.context(
            path, int_arg("depth"), str_arg("since"), int_arg("max_chars"), int_arg("offset")
        )
    )


@route("/activity", ["GET"])
def activity() -> Response:
    return json_response(runtime().service.activity(str_arg("since"), int_arg("limit")))


@route("/folders", ["GET"])
def folders() -> Response:
    return json_response(runtime().service.folders(str_arg("prefix"), int_arg("limit")))


@route("/changelog", ["GET"])
def changelog() -> Response:
    return json_response(runtime().service.changelog(int_arg("limit")))


@route("/search", ["GET"])
def search() -> Response:
    mode = str_arg("mode") or "fulltext"
    if mode == "hybrid":  # full text fused with the semantic search plugin's ranking
        semantic = current_app.extensions.get("wikibot_search")
        if semantic is None:
            raise Unavailable("mode=hybrid needs the semantic search plugin (otterwiki_search)")
        engine, _ = semantic.require()
        return json_response(engine.hybrid(str_arg("q"), int_arg("limit")))
    if mode != "fulltext":
        raise Invalid("mode must be 'fulltext' or 'hybrid'")
    return json_response(runtime().service.search(str_arg("q"), int_arg("limit")))


@route("/links", ["GET"])
def link_graph() -> Response:
    return json_response(runtime().service.link_graph())


@route("/links/<wikipath:path>", ["GET"])
def page_links(path: str) -> Response:
    return json_response(runtime().service.links(path))


@route("/pages/<wikipath:path>/attachments", ["GET"])
def list_attachments(path: str) -> Response:
    return json_response(runtime().service.list_attachments(path))


@route("/pages/<wikipath:path>/attachments", ["POST"])
def upload_attachment(path: str) -> tuple[Response, int]:
    data = body()
    if "filename" not in data or "content" not in data:
        raise Invalid("request body must include 'filename' and 'content' (base64)")
    result, created = runtime().service.put_attachment(
        path, data["filename"], data["content"], author_of(data), data.get("commit_message")
    )
    return json_response(result), 201 if created else 200


@route("/pages/<wikipath:path>/attachments/<string:filename>", ["GET"])
def get_attachment(path: str, filename: str) -> Response:
    return json_response(runtime().service.get_attachment(path, filename))


@route("/pages/<wikipath:path>/attachments/<string:filename>", ["DELETE"])
def delete_attachment(path: str, filename: str) -> Response:
    data = body()
    return json_response(
        runtime().service.delete_attachment(
            path, filename, author_of(data), data.get("commit_message")
        )
    )


_WRITE_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(path: str) -> list[str]:
    """The methods some /api/v1 route (this plugin's or another's, such as semantic search)
    answers at `path`, not counting the catch-all below."""
    adapter = current_app.url_map.bind("localhost")
    allowed = []
    for method in _WRITE_METHODS:
        try:
            endpoint, _ = adapter.match(path, method=method)
        except (MethodNotAllowed, RouteNotFound):
            continue
        if endpoint != "wikibot_api.unknown":
            allowed.append(method)
    if "GET" in allowed:
        allowed.append("HEAD")
    return [*allowed, "OPTIONS"] if allowed else []


def _no_route() -> WikiError | MethodNotAllowed:
    """What a request no route takes gets: 405 with `Allow` where the path exists (TRACE, or a
    method the path does not take), else 404; both in JSON."""
    if "//" in request.path:
        return Invalid("the URL has an empty path segment ('//')")
    allowed = _allowed_methods(request.path)
    if allowed:
        return MethodNotAllowed(valid_methods=allowed)
    return NotFound(f"no API route {request.method} {request.path}; see /api/v1/openapi.json")


@bp.route(
    "/<wikipath:anything>",
    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
    merge_slashes=False,
)
def unknown(anything: str) -> Response:
    """Every other path or method under /api/v1 answers in JSON instead of reaching the wiki."""
    raise _no_route()


def install(app: Flask) -> None:
    """Register the blueprint (CSRF-exempt: API clients authenticate with keys, not cookies) and
    keep every /api/v1 URL in JSON, even ones the router would hand to the wiki's own views."""
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)

    @app.before_request
    def _api_urls_stay_json() -> tuple[Response, int] | None:
        path = request.path
        routed = request.url_rule is not None and request.url_rule.rule.startswith("/api/v1/")
        if routed or not (path == "/api/v1" or path.startswith("/api/v1/")):
            return None  # ours, another wikibot plugin's (search), or not under /api/v1 at all
        error = _no_route()
        if isinstance(error, MethodNotAllowed):
            response = jsonify({"error": "method not allowed", "code": "method_not_allowed"})
            response.headers["Allow"] = ", ".join(error.valid_methods or [])
            return response, 405
        return jsonify(error.to_dict()), error.status
