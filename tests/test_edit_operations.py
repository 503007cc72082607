"""Edit operations (append, prepend, replace_section, find_replace, set_frontmatter): one service
operation, reached through `PATCH /api/v1/pages/<path>` (in-process and over HTTP) and MCP's
`update_note` (both MCP backends, real client), with the same optimistic-lock rules."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api, git, last_author
from mcp_helpers import (  # noqa: F401  (fixtures, used by name)
    BACKENDS,
    McpTarget,
    backend_target,
    inwiki_mcp,
    standalone_mcp,
    tool,
)

PAGE = """---
title: Plan
tags: [a]
---
# Plan

Intro.

## Steps

1. one
2. two

### Detail

deep

## Notes

keep me
"""


def create(api: Api, path: str, content: str = PAGE) -> str:
    code, body, _ = api.put(f"/pages/{path}", {"content": content})
    assert code == 201, body
    return body["revision"]


def content_of(api: Api, path: str) -> str:
    code, body, _ = api.get(f"/pages/{path}")
    assert code == 200, body
    return body["content"]


def patch(api: Api, path: str, **fields: Any) -> tuple[int, Any]:
    code, body, _ = api.patch(f"/pages/{path}", fields)
    return code, body


def test_append_and_prepend_need_no_revision(api: Api, unique: str, repo: str) -> None:
    path = f"{unique}/Log"
    create(api, path, "---\ncategory: log\n---\n# Log\n- first")  # no final newline
    code, body = patch(api, path, operation="append", content="- second")
    assert code == 200, body
    code, body = patch(api, path, operation="prepend", content="Newest entries last.")
    assert code == 200, body
    assert content_of(api, path) == (
        "---\ncategory: log\n---\nNewest entries last.\n# Log\n- first\n- second\n"
    )
    # each is a commit of its own, with the API's message
    messages = git(repo, "log", "-3", "--format=%s", "--", f"{unique.lower()}/log.md").split("\n")
    assert messages[:2] == [f"[api] Edit: {unique}/Log"] * 2
    # a revision, when given, is still checked
    code, body = patch(api, path, operation="append", content="x", revision="0000000")
    assert code == 409 and body["error"].startswith("Revision mismatch"), body


def test_replace_section_keeps_its_heading_and_the_rest(api: Api, unique: str) -> None:
    path = f"{unique}/Plan"
    revision = create(api, path)
    code, body = patch(
        api,
        path,
        operation="replace_section",
        heading="steps",
        content="1. only",
        revision=revision,
    )
    assert code == 200, body
    text = content_of(api, path)
    # the level-3 subsection belonged to Steps and went with it; Notes stays
    assert "## Steps\n1. only\n\n## Notes\n\nkeep me\n" in text
    assert "Detail" not in text and text.startswith(PAGE[: PAGE.index("## Steps")])
    # the last section of a page, replaced by nothing
    code, body = patch(
        api,
        path,
        operation="replace_section",
        heading="## Notes",
        content="",
        revision=body["revision"],
    )
    assert code == 200, body
    assert content_of(api, path).endswith("## Notes\n")


def test_find_replace_refuses_an_unexpected_count(api: Api, unique: str, repo: str) -> None:
    path = f"{unique}/Count"
    revision = create(api, path, "cat cat cat dog\n")
    head = git(repo, "rev-parse", "HEAD")
    code, body = patch(
        api, path, operation="find_replace", find="cat", replace="cow", revision=revision
    )
    assert code == 422 and "expected 1 occurrence(s) of 'find', found 3" in body["error"], body
    assert git(repo, "rev-parse", "HEAD") == head
    code, body = patch(
        api,
        path,
        operation="find_replace",
        find="cat",
        replace="cow",
        expected_count=3,
        revision=revision,
    )
    assert code == 200, body
    assert content_of(api, path) == "cow cow cow dog\n"


def test_set_frontmatter_merges_and_the_index_follows(api: Api, unique: str) -> None:
    path = f"{unique}/Meta"
    revision = create(api, path)
    code, body = patch(
        api,
        path,
        operation="set_frontmatter",
        frontmatter={"category": f"{unique}-cat", "tags": ["x", "y"], "title": None},
        revision=revision,
    )
    assert code == 200, body
    text = content_of(api, path)
    assert text.startswith(f"---\ntags:\n- x\n- y\ncategory: {unique}-cat\n---\n# Plan\n")
    code, listed, _ = api.get("/pages", params={"category": f"{unique}-cat"})
    assert code == 200 and [p["path"] for p in listed["pages"]] == [path]
    # a page without frontmatter gets one
    bare = f"{unique}/Bare"
    revision = create(api, bare, "# Bare\n")
    code, body = patch(
        api, bare, operation="set_frontmatter", frontmatter={"status": "draft"}, revision=revision
    )
    assert code == 200 and content_of(api, bare) == "---\nstatus: draft\n---\n# Bare\n"


@pytest.mark.parametrize(
    ("fields", "status", "error"),
    [
        ({"operation": "explode"}, 422, "'operation' must be one of append, prepend"),
        ({"operation": {"nested": 1}}, 422, "'operation' must be one of append, prepend"),
        ({"operation": "append", "content": ["x"]}, 422, "append: 'content' is required"),
        ({"operation": "append"}, 422, "append: 'content' is required"),
        (
            {"operation": "replace_section", "heading": "Steps", "content": "x"},
            422,
            "revision is required",
        ),
        (
            {"operation": "replace_section", "heading": "Nope", "content": "x", "revision": "REV"},
            422,
            "no heading 'Nope' in the page (headings: # Plan, ## Steps, ### Detail, ## Notes)",
        ),
        (
            {"operation": "set_frontmatter", "frontmatter": ["a"], "revision": "REV"},
            422,
            "'frontmatter' must be a non-empty object",
        ),
        (
            {
                "operation": "find_replace",
                "find": "a",
                "replace": "b",
                "expected_count": 0,
                "revision": "REV",
            },
            422,
            "'expected_count' must be a positive integer",
        ),
    ],
)
def test_bad_edits_are_refused_and_change_nothing(
    client_api: Api, unique: str, repo: str, fields: dict[str, Any], status: int, error: str
) -> None:
    path = f"{unique}/Bad"
    revision = create(client_api, path)
    head = git(repo, "rev-parse", "HEAD")
    fields = {k: revision if v == "REV" else v for k, v in fields.items()}
    code, body = patch(client_api, path, **fields)
    assert code == status and error in body["error"], body
    assert git(repo, "rev-parse", "HEAD") == head


def test_an_ambiguous_heading_and_a_missing_page(client_api: Api, unique: str) -> None:
    path = f"{unique}/Twice"
    revision = create(client_api, path, "# A\n\n## Notes\n\none\n\n## Notes\n\ntwo\n")
    code, body = patch(
        client_api,
        path,
        operation="replace_section",
        heading="Notes",
        content="x",
        revision=revision,
    )
    assert code == 422 and "2 headings are named 'Notes'" in body["error"], body
    code, body = patch(client_api, f"{unique}/Missing", operation="append", content="x")
    assert code == 404, body


@pytest.fixture(params=list(BACKENDS))
def mcp(request: pytest.FixtureRequest) -> McpTarget:
    return backend_target(request, request.param)


def test_update_note_through_a_real_mcp_client(mcp: McpTarget, unique: str, repo: str) -> None:
    path = f"{unique}/Journal"

    def update(**args: Any) -> Any:
        return tool(mcp.url, mcp.token, "update_note", path=path, **args)

    written = tool(mcp.url, mcp.token, "write_note", path=path, content=PAGE)
    appended = update(operation="append", content="- done")
    assert appended["revision"] != written["revision"]
    section = {"operation": "replace_section", "heading": "Notes", "content": "new"}
    stale = update(**section, revision=written["revision"])
    assert stale["error"].startswith("conflict: Revision mismatch"), stale
    replaced = update(**section, revision=appended["revision"])
    assert "error" not in replaced, replaced
    text = tool(mcp.url, mcp.token, "read_note", path=path)["content"]
    assert text.endswith("## Notes\nnew\n")
    counted = update(
        operation="find_replace",
        find="one",
        replace="1",
        expected_count=2,
        revision=replaced["revision"],
    )
    assert counted["error"].startswith("invalid: find_replace: expected 2"), counted
    assert last_author(repo, f"{unique.lower()}/journal.md")[0] != ""
