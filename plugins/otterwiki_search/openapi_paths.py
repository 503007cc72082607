"""The search plugin's routes in the REST API's OpenAPI document (added by its `setup` hook)."""

from __future__ import annotations

from typing import Any

from otterwiki_api.openapi import INT, LIMIT, QUERY_TEXT, STR, obj, operation, query_param

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
RESULT = obj(
    ["name", "path", "snippet", "score", "distance", "chunks"],
    name=STR,
    path=STR,
    snippet=STR,
    score=NUMBER,
    distance=NUMBER,
    chunks={
        "type": "array",
        "items": obj(["text", "section", "score"], text=STR, section=STR, score=NUMBER),
    },
)


def openapi_paths() -> dict[str, Any]:
    return {
        "/semantic-search": {
            "get": operation(
                "Pages by meaning: one entry per page, best first, with its best chunks",
                (
                    "200",
                    obj(
                        ["query", "results", "total"],
                        query=STR,
                        results={"type": "array", "items": RESULT},
                        total=INT,
                        index=INDEX,
                    ),
                    "results",
                ),
                ["422", "503"],
                params=[
                    query_param("q", QUERY_TEXT, "what to look for, in plain words", required=True),
                    query_param("n", {**LIMIT, "maximum": 50}, "pages to return (default 5)"),
                    query_param(
                        "max_chunks_per_page",
                        {"type": "integer", "minimum": 1, "maximum": 20},
                        "chunks shown per page (default 2)",
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
