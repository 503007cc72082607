"""The search plugin's routes in the REST API's OpenAPI document (added by its `setup` hook)."""

from __future__ import annotations

from typing import Any

from otterwiki_api.openapi import INT, QUERY_TEXT, STR, obj, operation, query_param

NUMBER = {"type": "number"}
INDEX = obj(["status"], status=STR, pending={"type": ["integer", "null"]})
STATUS = obj(
    ["status"],
    status={
        "type": "string",
        "enum": ["complete", "in_progress", "behind", "not_built", "unavailable"],
    },
    reason={"type": ["string", "null"]},
    done=INT,
    total=INT,
    pending={"type": ["integer", "null"]},
    chunks=INT,
    pages=INT,
    embedder={"type": "object"},
    engine={"type": "string", "enum": ["faiss", "numpy"]},
)
NULLABLE_STR = {"type": ["string", "null"]}
NULLABLE_INT = {"type": ["integer", "null"]}
CHUNK_FIELDS = {  # null only in a store built before they were recorded
    "text": STR,
    "section": STR,
    "section_path": NULLABLE_STR,
    "chunk_index": NULLABLE_INT,
}
RESULT = obj(  # one chunk, as otterwiki-semantic-search answers
    ["name", "path", "snippet", "score", "distance", *CHUNK_FIELDS],
    name=STR,
    path=STR,
    snippet=STR,
    score=NUMBER,
    distance=NUMBER,
    total_chunks=NULLABLE_INT,
    page_word_count=NULLABLE_INT,
    **CHUNK_FIELDS,
)
PAGE_RESULT = obj(  # group=page
    ["name", "path", "snippet", "score", "distance", "chunks"],
    name=STR,
    path=STR,
    snippet=STR,
    section=STR,
    score=NUMBER,
    distance=NUMBER,
    chunks={"type": "array", "items": obj(list(CHUNK_FIELDS), score=NUMBER, **CHUNK_FIELDS)},
)


def openapi_paths() -> dict[str, Any]:
    return {
        "/semantic-search": {
            "get": operation(
                "Passages by meaning, best first: one entry per chunk (the older"
                " otterwiki-semantic-search plugin's answer), or per page with group=page",
                (
                    "200",
                    obj(
                        ["query", "results", "total"],
                        query=STR,
                        results={"type": "array", "items": {"oneOf": [RESULT, PAGE_RESULT]}},
                        total=INT,
                        index=INDEX,
                    ),
                    "results",
                ),
                ["422", "503"],
                params=[
                    query_param("q", QUERY_TEXT, "what to look for, in plain words", required=True),
                    query_param(
                        "n",
                        {"type": "integer", "minimum": 1},
                        "entries to return (default 5; above 50 is lowered to 50)",
                    ),
                    query_param(
                        "max_chunks_per_page",
                        {"type": "integer", "minimum": 1},
                        "chunks of one page at most (default 2; above 5 is lowered to 5)",
                    ),
                    query_param(
                        "group",
                        {"type": "string", "enum": ["chunk", "page"]},
                        "chunk (default): one entry per chunk; page: one entry per page",
                    ),
                ],
            )
        },
        "/reindex": {
            "post": operation(
                "Start or continue the semantic index's (re)build for one bounded step (admin)",
                ("202", STATUS, "the index's status after this step"),
                ["413", "422", "503"],
                body=obj([], full={"type": "boolean"}),
                body_required=False,
            )
        },
        "/reindex/status": {
            "get": operation(
                "Progress of the semantic index, and why it is unavailable if it is",
                ("200", STATUS, "status"),
                [],
            )
        },
    }
