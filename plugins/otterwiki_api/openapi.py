"""The OpenAPI 3.1 description of /api/v1, precise enough for a schema-driven fuzzer to check
every response against it (tests/test_openapi_fuzz.py runs schemathesis over it)."""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]

STR: Schema = {"type": "string"}
NULLABLE_STR: Schema = {"type": ["string", "null"]}
INT: Schema = {"type": "integer"}
REVISION_IN: Schema = {
    "type": ["string", "null"],
    "pattern": "^(?:[0-9a-fA-F]{7,64})?$",
    "description": "the page's current revision; null or empty to create a new page",
}
LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": 1000}

COMMIT: Schema = {
    "type": "object",
    "required": ["revision", "author", "date", "message"],
    "properties": {
        "revision": STR,
        "author": STR,
        "date": {"type": "string", "format": "date-time"},
        "message": STR,
    },
}
PAGE_SUMMARY: Schema = {
    "type": "object",
    "required": ["name", "path", "category", "tags", "last_updated", "content_length"],
    "properties": {
        "name": STR,
        "path": STR,
        "category": NULLABLE_STR,
        "tags": {"type": "array", "items": STR},
        "last_updated": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
        "updated_at": {"type": "string", "format": "date-time"},
        "content_length": {"type": "integer", "description": "words in the body"},
        "size": {"type": "integer", "description": "bytes of the file"},
        "revision": STR,
    },
}
# While the page index's first build is incomplete (index_build.py), an answer gathered from it
# says so: pages the build has not reached are missing from it (a single page is always exact).
PARTIAL: dict[str, Schema] = {
    "partial": {
        "type": "boolean",
        "description": "present (true) only while the page index is still being built: pages not"
        " indexed yet are missing from this answer; ask again later for all of them",
    },
    "index_progress": {
        "type": "object",
        "description": "how far the page index's build is (with `partial`)",
        "required": ["indexed", "total", "phase", "reason"],
        "properties": {"indexed": INT, "total": INT, "phase": STR, "reason": STR},
    },
}
PAGE: Schema = {
    "type": "object",
    "required": [
        "name",
        "path",
        "content",
        "frontmatter",
        "links_to",
        "linked_from",
        "revision",
        "last_commit",
    ],
    "properties": {
        "name": STR,
        "path": STR,
        "content": {"type": "string", "description": "raw markdown, frontmatter included"},
        "frontmatter": {"type": ["object", "null"]},
        "links_to": {"type": "array", "items": STR},
        "linked_from": {"type": "array", "items": STR},
        "revision": STR,
        "last_commit": COMMIT,
        **PARTIAL,  # linked_from needs every page
    },
}
ERROR: Schema = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": STR,
        "code": STR,
        "current_revision": {"type": "string", "description": "with 409 on a stale write"},
    },
}
ATTACHMENT_INFO: Schema = {
    "type": "object",
    "required": ["filename", "size", "mime_type", "last_modified"],
    "properties": {
        "filename": STR,
        "size": INT,
        "mime_type": STR,
        "last_modified": {"type": "string", "format": "date-time"},
    },
}


def obj(required: list[str], **props: Schema) -> Schema:
    return {"type": "object", "required": required, "properties": props}


PAGE_WRITTEN: Schema = obj(
    ["name", "path", "revision", "created"],
    name=STR,
    path=STR,
    revision=STR,
    created={"type": "boolean"},
)
ATTACHMENT_STORED: Schema = obj(
    ["filename", "path", "size", "mime_type"], filename=STR, path=STR, size=INT, mime_type=STR
)


def _json(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERROR_TEXT = {
    "401": "missing or invalid API key",
    "403": "the key's scope does not allow this",
    "404": "no such page, revision or attachment",
    "409": "conflict: stale or missing revision, or the target exists",
    "413": "request body too large",
    "422": "invalid input (the message says which)",
    "503": "the repository is busy (retry), semantic search is unavailable, or a rename waits for"
    " the page index's first build (see the message and Retry-After)",
}


def operation(
    summary: str,
    ok: tuple[str, Schema, str],
    errors: list[str],
    *,
    params: list[dict[str, Any]] | None = None,
    body: Schema | None = None,
    public: bool = False,
    extra_ok: tuple[str, Schema, str] | None = None,
    body_required: bool = True,
) -> dict[str, Any]:
    codes = [] if public else ["401", "403"]
    codes += errors
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {ok[0]: _json(ok[1], ok[2])}
        | ({extra_ok[0]: _json(extra_ok[1], extra_ok[2])} if extra_ok else {})
        | {c: _json({"$ref": "#/components/schemas/Error"}, _ERROR_TEXT[c]) for c in codes},
    }
    if params:
        op["parameters"] = params
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {"application/json": {"schema": body}},
        }
    if public:
        op["security"] = []
    return op


def query_param(
    name: str, schema: Schema, description: str, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


# What pagepaths.validate_page_path accepts: no control characters, none of . ? # ! $ | \ (but an
# optional trailing `.md`), not starting with `/`, `\` or `-`; surrounding whitespace is ignored.
# It also refuses a drive (`C:`) and paths over 512 characters or with a segment over 200 bytes.
_NOT_IN_PATH = r"\\?|$.!#\x00-\x1f\x7f-\x9f"
PAGE_PATH: Schema = {
    "type": "string",
    "pattern": rf"^[^\S\x00-\x1f\x7f-\x9f]*[^\s/\-{_NOT_IN_PATH}][^{_NOT_IN_PATH}]*(\.[mM][dD])?$",
    "description": "page path, e.g. `Projects/Plan` "
    "(case-insensitive unless RETAIN_PAGE_NAME_CASE)",
}
# What pagepaths.validate_attachment_name accepts (at most 200 bytes, not ending in `.md`): one
# plain name, no control characters, no surrounding whitespace, no trailing dot.
_NOT_IN_NAME = r"/\\\x00-\x1f\x7f-\x9f"
ATTACHMENT_NAME: Schema = {
    "type": "string",
    "pattern": rf"^[^\s{_NOT_IN_NAME}]([^{_NOT_IN_NAME}]*[^\s.{_NOT_IN_NAME}])?$",
    "description": "attachment file name, e.g. `diagram.png`",
}
PATH_PARAM = {
    "name": "path",
    "in": "path",
    "required": True,
    "schema": PAGE_PATH,
    "description": PAGE_PATH["description"],
}
FILENAME_PARAM = {
    "name": "filename",
    "in": "path",
    "required": True,
    "schema": ATTACHMENT_NAME,
    "description": ATTACHMENT_NAME["description"],
}
LIMIT_PARAM = query_param("limit", LIMIT, "maximum number of entries")
QUERY_STR: Schema = {"type": "string", "pattern": r"^[^\x00]*$"}  # routes.str_arg refuses NUL
QUERY_TEXT: Schema = {"type": "string", "pattern": r"^[^\x00]*[^\s\x00][^\x00]*$"}  # not blank
AUTHOR: Schema = {
    "type": ["object", "null"],
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "pattern": r"^[^<>\n\r\x00]*[^\s<>\x00][^<>\n\r\x00]*$"},
        "email": {"type": "string", "pattern": r"^[^<>\n\r\x00]*$"},
    },
    "description": "admin keys only (403 otherwise): commit as this author, e.g. for a user "
    "signed in to the separate MCP app; null for the key's own",
}
COMMIT_MESSAGE = {
    "author": AUTHOR,
    "commit_message": {
        "type": ["string", "null"],
        "pattern": r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$",
        "description": "null or empty for the default message; no control characters but "
        "tab and newline",
    },
}

EDIT_REVISION: Schema = {"type": "string", "pattern": "^[0-9a-fA-F]{7,64}$"}
NON_EMPTY: Schema = {"type": "string", "minLength": 1}


# append and prepend take a revision only to check it (null or empty: none)
CHECKED_REVISION: Schema = {"type": ["string", "null"], "pattern": "^([0-9a-fA-F]{7,64})?$"}


def edit_body(name: str, required: list[str], **props: Schema) -> Schema:
    """The body of one edit operation of `PATCH /pages/{path}` (`otterwiki_api.edits`)."""
    return obj(
        ["operation", *required],
        operation={"type": "string", "enum": [name]},
        revision=EDIT_REVISION if "revision" in required else CHECKED_REVISION,
        **props,
        **COMMIT_MESSAGE,
    )


EDIT_BODIES: list[Schema] = [
    obj(
        ["revision", "old_string", "new_string"],
        revision=EDIT_REVISION,
        old_string=NON_EMPTY,
        new_string=STR,
        **COMMIT_MESSAGE,
    ),
    edit_body("append", ["content"], content=NON_EMPTY),
    edit_body("prepend", ["content"], content=NON_EMPTY),
    edit_body(
        "replace_section", ["revision", "heading", "content"], heading=NON_EMPTY, content=STR
    ),
    edit_body(
        "find_replace",
        ["revision", "find", "replace"],
        find=NON_EMPTY,
        replace=STR,
        expected_count={"type": "integer", "minimum": 1},
    ),
    edit_body(
        "set_frontmatter",
        ["revision", "frontmatter"],
        frontmatter={"type": "object", "minProperties": 1},
    ),
]
# standard base64 with padding, nothing else (base64.b64decode(..., validate=True))
BASE64 = "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
WRITE_ERRORS = ["404", "409", "413", "422", "503"]


def openapi_document(
    server_url: str = "", extra_paths: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The whole document; `extra_paths` are other wikibot plugins' routes (semantic search)."""
    page_params = [PATH_PARAM]
    attachment_params = [PATH_PARAM, FILENAME_PARAM]
    paths: dict[str, Any] = {
        "/health": {
            "get": operation(
                "Liveness check", ("200", obj(["status"], status=STR), "ok"), [], public=True
            )
        },
        "/": {
            "get": operation(
                "What is here: the routes, and where this reference is (for people: /docs)",
                (
                    "200",
                    obj(
                        ["name", "version", "docs", "openapi", "routes"],
                        name=STR,
                        version=STR,
                        docs=STR,
                        openapi=STR,
                        routes={"type": "array", "items": {"type": "object"}},
                    ),
                    "the index",
                ),
                [],
                public=True,
            )
        },
        "/docs": {
            "get": {
                "summary": "This reference as one HTML page (no scripts, nothing fetched)",
                "responses": {
                    "200": {
                        "description": "the reference",
                        "content": {"text/html": {"schema": {"type": "string"}}},
                    }
                },
                "security": [],
            }
        },
        "/openapi.json": {
            "get": operation(
                "This document", ("200", {"type": "object"}, "OpenAPI 3.1"), [], public=True
            )
        },
        "/pages": {
            "get": operation(
                "List pages (all of them unless `limit` is given)",
                (
                    "200",
                    obj(
                        ["pages", "total"],
                        pages={"type": "array", "items": PAGE_SUMMARY},
                        total=INT,
                        next_cursor=STR,
                        **PARTIAL,
                    ),
                    "pages in path order; `total` counts every match",
                ),
                ["422"],
                params=[
                    query_param("prefix", QUERY_STR, "page path prefix, e.g. `Projects/`"),
                    query_param("category", QUERY_STR, "frontmatter category (case-insensitive)"),
                    query_param("tag", QUERY_STR, "frontmatter tag (case-insensitive)"),
                    query_param(
                        "updated_since", QUERY_STR, "ISO 8601 date or date-time; 422 if invalid"
                    ),
                    LIMIT_PARAM,
                    query_param(
                        "cursor", QUERY_STR, "`next_cursor` from the previous page of results"
                    ),
                    query_param(
                        "offset",
                        {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
                        "entries to skip (not together with `cursor`)",
                    ),
                ],
            )
        },
        "/pages/{path}": {
            "get": operation(
                "Read a page",
                ("200", PAGE, "the page"),
                ["404", "422"],
                params=[
                    *page_params,
                    query_param(
                        "revision",
                        {"type": "string", "pattern": "^(HEAD|[0-9a-fA-F]{4,64})?$"},
                        "commit id (4+ hex digits) or HEAD; empty for the current version",
                    ),
                ],
            ),
            "put": operation(
                "Create a page, or replace it (then `revision` must be the current one)",
                (
                    "200",
                    PAGE_WRITTEN,
                    "replaced",
                ),
                WRITE_ERRORS,
                params=page_params,
                body=obj(["content"], content=STR, revision=REVISION_IN, **COMMIT_MESSAGE),
                extra_ok=(
                    "201",
                    PAGE_WRITTEN,
                    "created",
                ),
            ),
            "patch": operation(
                "Edit a page: replace the one occurrence of old_string with new_string, or one "
                "operation: append or prepend content (no revision needed), replace_section "
                "(the text under a heading, to the next heading of the same or a higher "
                "level), find_replace (refused unless `find` occurs `expected_count` times, "
                "default 1), set_frontmatter (fields set; null removes one)",
                (
                    "200",
                    obj(["name", "path", "revision"], name=STR, path=STR, revision=STR),
                    "edited",
                ),
                WRITE_ERRORS,
                params=page_params,
                body={"anyOf": EDIT_BODIES},
            ),
            "delete": operation(
                "Delete a page and its attachments",
                (
                    "200",
                    obj(["deleted", "path"], deleted={"type": "boolean"}, path=STR),
                    "deleted",
                ),
                WRITE_ERRORS,
                params=page_params,
            ),
        },
        "/pages/{path}/rename": {
            "post": operation(
                "Rename a page, rewriting every wikilink to it, in one commit",
                (
                    "200",
                    obj(
                        ["old_path", "new_path", "revision", "updated_pages"],
                        old_path=STR,
                        new_path=STR,
                        revision=STR,
                        updated_pages={"type": "array", "items": STR},
                    ),
                    "renamed",
                ),
                WRITE_ERRORS,
                params=page_params,
                body=obj(["new_path"], new_path=PAGE_PATH, **COMMIT_MESSAGE),
            )
        },
        "/pages/{path}/history": {
            "get": operation(
                "Commits that touched a page, newest first",
                (
                    "200",
                    obj(["path", "history"], path=STR, history={"type": "array", "items": COMMIT}),
                    "history",
                ),
                ["404", "422"],
                params=[*page_params, LIMIT_PARAM],
            )
        },
        "/context/{path}": {
            "get": operation(
                "A page (with its content) and the pages it links to and that link to it, to a "
                "depth of 1-3, each with title, frontmatter, summary and connection; stops at "
                "max_chars of JSON (truncated, next_offset)",
                (
                    "200",
                    obj(
                        ["path", "depth", "notes", "total", "truncated", "next_offset"],
                        path=STR,
                        depth=INT,
                        notes={"type": "array", "items": {"type": "object"}},
                        total=INT,
                        truncated={"type": "boolean"},
                        next_offset={"type": ["integer", "null"]},
                        **PARTIAL,
                    ),
                    "the neighbourhood",
                ),
                ["404", "422"],
                params=[
                    *page_params,
                    query_param("depth", {"type": "integer", "minimum": 1, "maximum": 3}, "1-3"),
                    query_param("since", STR, "only pages changed since: 1d, 12h, 2 weeks, a date"),
                    query_param(
                        "max_chars",
                        {"type": "integer", "minimum": 500, "maximum": 200000},
                        "budget of the answer in characters (default 12000)",
                    ),
                    query_param(
                        "offset", {"type": "integer", "minimum": 0, "maximum": 200}, "go on here"
                    ),
                ],
            )
        },
        "/activity": {
            "get": operation(
                "Pages changed in a time frame, most recent first: commits, authors, lines "
                "added and removed, latest message",
                (
                    "200",
                    obj(
                        ["since", "commits", "pages", "total", "truncated"],
                        since=STR,
                        commits=INT,
                        pages={"type": "array", "items": {"type": "object"}},
                        total=INT,
                        truncated={"type": "boolean"},
                    ),
                    "the activity",
                ),
                ["422"],
                params=[
                    query_param(
                        "since", STR, "1d, 12h, 2 weeks, yesterday or an ISO date", required=True
                    ),
                    query_param("limit", LIMIT, "number of pages (default 50)"),
                ],
            )
        },
        "/folders": {
            "get": operation(
                "Folders with the pages directly in them and below them",
                (
                    "200",
                    obj(
                        ["folders", "total", "truncated"],
                        folders={"type": "array", "items": {"type": "object"}},
                        total=INT,
                        truncated={"type": "boolean"},
                        **PARTIAL,
                    ),
                    "the folders",
                ),
                ["422"],
                params=[
                    query_param("prefix", STR, "only folders under this path"),
                    query_param("limit", LIMIT, "number of folders (default 200)"),
                ],
            )
        },
        "/changelog": {
            "get": operation(
                "Recent commits across the wiki",
                (
                    "200",
                    obj(
                        ["entries", "total"],
                        entries={
                            "type": "array",
                            "items": {
                                **COMMIT,
                                "required": [*COMMIT["required"], "pages_affected"],
                                "properties": {
                                    **COMMIT["properties"],
                                    "pages_affected": {"type": "array", "items": STR},
                                },
                            },
                        },
                        total=INT,
                    ),
                    "entries",
                ),
                ["422"],
                params=[query_param("limit", LIMIT, "number of commits (default 50)")],
            )
        },
        "/search": {
            "get": operation(
                "Full-text search, best match first",
                (
                    "200",
                    obj(
                        ["query", "results", "total"],
                        query=STR,
                        results={
                            "type": "array",
                            "items": obj(
                                ["name", "path", "snippet", "score"],
                                name=STR,
                                path=STR,
                                snippet={
                                    "type": "string",
                                    "description": "plain text (markup removed, one line) of"
                                    " the page's best section around the matches, each matched"
                                    " word marked `**word**`; `…` where text was cut",
                                },
                                score={
                                    "type": "number",
                                    "description": "BM25 of the page's best section (title"
                                    " weighted most, then headings); higher is better",
                                },
                            ),
                        },
                        total={"type": "integer", "description": "pages matching"},
                        **PARTIAL,
                    ),
                    "results",
                ),
                ["422", "503"],
                params=[
                    query_param(
                        "q",
                        QUERY_TEXT,
                        "words to find (not only whitespace): pages with every word, or any word"
                        " when none has them all; words match by stem (`running` finds `runs`),"
                        " the last also as a prefix; common English words (`the`, `how`, …) are"
                        " left out when the query has others",
                        required=True,
                    ),
                    query_param("limit", LIMIT, "number of results (default 50)"),
                    query_param(
                        "mode",
                        {"type": "string", "enum": ["fulltext", "hybrid"]},
                        "`hybrid` fuses full text with semantic search (reciprocal-rank fusion; "
                        "503 without the search plugin); results then carry `ranks`",
                    ),
                ],
            )
        },
        "/links": {
            "get": operation(
                "The whole wikilink graph",
                (
                    "200",
                    obj(
                        ["nodes", "edges"],
                        nodes={"type": "array", "items": STR},
                        edges={
                            "type": "array",
                            "items": obj(["source", "target"], source=STR, target=STR),
                        },
                        **PARTIAL,
                    ),
                    "graph",
                ),
                [],
            )
        },
        "/links/{path}": {
            "get": operation(
                "Links from and to one page",
                (
                    "200",
                    obj(
                        ["path", "links_to", "linked_from"],
                        path=STR,
                        links_to={"type": "array", "items": STR},
                        linked_from={"type": "array", "items": STR},
                        **PARTIAL,
                    ),
                    "links",
                ),
                ["422"],
                params=page_params,
            )
        },
        "/pages/{path}/attachments": {
            "get": operation(
                "A page's attachments",
                (
                    "200",
                    obj(
                        ["attachments", "total", "path"],
                        attachments={"type": "array", "items": ATTACHMENT_INFO},
                        total=INT,
                        path=STR,
                    ),
                    "attachments",
                ),
                ["404", "422"],
                params=page_params,
            ),
            "post": operation(
                "Upload (or replace) an attachment",
                (
                    "201",
                    ATTACHMENT_STORED,
                    "created",
                ),
                WRITE_ERRORS,
                params=page_params,
                body=obj(
                    ["filename", "content"],
                    filename=ATTACHMENT_NAME,
                    content={"type": "string", "contentEncoding": "base64", "pattern": BASE64},
                    **COMMIT_MESSAGE,
                ),
                extra_ok=(
                    "200",
                    ATTACHMENT_STORED,
                    "replaced",
                ),
            ),
        },
        "/pages/{path}/attachments/{filename}": {
            "get": operation(
                "Download an attachment (base64)",
                (
                    "200",
                    obj(
                        ["filename", "content", "size", "mime_type"],
                        filename=STR,
                        content=STR,
                        size=INT,
                        mime_type=STR,
                    ),
                    "attachment",
                ),
                ["404", "422"],
                params=attachment_params,
            ),
            "delete": operation(
                "Delete an attachment",
                (
                    "200",
                    obj(["deleted", "filename"], deleted={"type": "boolean"}, filename=STR),
                    "deleted",
                ),
                WRITE_ERRORS,
                params=attachment_params,
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "wikibot REST API",
            "version": "1",
            "description": "Read and write an Otterwiki. Every error is JSON `{error, code}`.",
        },
        "servers": [{"url": f"{server_url}/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": ERROR},
        },
        "paths": paths | (extra_paths or {}),
    }
