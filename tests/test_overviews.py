"""Answers that gather many pages in one call, sized for a model: a note's neighbourhood
(`GET /context/<path>`, MCP `build_context`), activity in a time frame (`GET /activity`,
`recent_activity`), folders with counts (`GET /folders`, `list_folders`), several notes at once
(`read_notes`) and the MCP prompts. Real app, real repository, real MCP client."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api
from mcp_helpers import (  # noqa: F401  (fixtures, used by name)
    BACKENDS,
    McpTarget,
    backend_target,
    inwiki_mcp,
    run,
    standalone_mcp,
    tool,
)


def write(api: Api, path: str, content: str) -> None:
    code, page, _ = api.get(f"/pages/{path}")
    revision = page["revision"] if code == 200 else None
    code, body, _ = api.put(f"/pages/{path}", {"content": content, "revision": revision})
    assert code in (200, 201), body


@pytest.fixture
def web(client_api: Api, unique: str) -> str:
    """A small web of pages: A links to B and C, D links to A, B links to E."""
    u = unique
    write(
        client_api,
        f"{u}/A",
        f"---\ncategory: hub\n---\n# A\n\nThe hub page.\n\n[[{u}/B]] [[{u}/C]]\n",
    )
    write(client_api, f"{u}/B", f"# B\n\nSecond page, about bees.\n\n[[{u}/E]]\n")
    write(client_api, f"{u}/C", "# C\n\nThird page.\n")
    write(client_api, f"{u}/Sub/D", f"# D\n\nPoints at the hub: [[{u}/A]]\n")
    write(client_api, f"{u}/E", "# E\n\nTwo links away.\n")
    write(client_api, f"{u}/Lonely", "# Lonely\n\nNo links at all.\n")
    return u


def connections(answer: dict[str, Any]) -> dict[str, tuple[str, str | None, int]]:
    return {n["path"]: (n["connection"], n["via"], n["depth"]) for n in answer["notes"]}


def test_context_gathers_the_neighbourhood_to_a_depth(client_api: Api, web: str) -> None:
    u = web
    code, one, _ = client_api.get(f"/context/{u}/A")
    assert code == 200, one
    assert connections(one) == {
        f"{u}/A": ("root", None, 0),
        f"{u}/B": ("links to", f"{u}/A", 1),
        f"{u}/C": ("links to", f"{u}/A", 1),
        f"{u}/Sub/D": ("linked from", f"{u}/A", 1),
    }
    root, b = one["notes"][0], next(n for n in one["notes"] if n["path"] == f"{u}/B")
    assert root["content"].startswith("---\ncategory: hub") and root["frontmatter"] == {
        "category": "hub"
    }
    assert b["summary"] == "Second page, about bees." and "content" not in b
    code, two, _ = client_api.get(f"/context/{u}/A", params={"depth": 2})
    assert connections(two)[f"{u}/E"] == ("links to", f"{u}/B", 2)
    assert f"{u}/Lonely" not in connections(two) and two["truncated"] is False
    # only what changed since a moment no page has reached: the root alone
    code, none, _ = client_api.get(f"/context/{u}/A", params={"since": "2999-01-01"})
    assert [n["path"] for n in none["notes"]] == [f"{u}/A"]


def test_context_stops_at_its_budget_and_goes_on_from_an_offset(client_api: Api, web: str) -> None:
    u = web
    seen, offset, calls = [], 0, 0
    while offset is not None:
        code, part, _ = client_api.get(
            f"/context/{u}/A", params={"depth": 2, "max_chars": 500, "offset": offset}
        )
        assert code == 200, part
        assert part["notes"], "every answer carries at least one note"
        seen += [n["path"] for n in part["notes"]]
        offset, calls = part["next_offset"], calls + 1
        assert part["truncated"] is (offset is not None)
    assert calls > 1 and len(seen) == len(set(seen)) == part["total"] == 5


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"depth": 4}, "depth must be an integer from 1 to 3"),
        ({"max_chars": 10}, "max_chars must be an integer from 500"),
        ({"since": "sometime"}, "is not a time frame"),
    ],
)
def test_context_refuses_bad_arguments(
    client_api: Api, web: str, params: dict[str, Any], error: str
) -> None:
    code, body, _ = client_api.get(f"/context/{web}/A", params=params)
    assert code == 422 and error in body["error"], body
    assert client_api.get(f"/context/{web}/Missing")[0] == 404


def test_activity_groups_a_time_frame_by_page(client_api: Api, web: str) -> None:
    u = web
    write(client_api, f"{u}/C", "# C\n\nThird page, changed.\nOne more line.\n")
    code, body, _ = client_api.delete(f"/pages/{u}/Lonely", {})
    assert code == 200, body
    code, answer, _ = client_api.get("/activity", params={"since": "1h", "limit": 1000})
    assert code == 200, answer
    pages = {p["path"]: p for p in answer["pages"]}
    c = pages[f"{u}/C"]
    assert c["changes"] == 2 and c["lines_added"] == 2 + 3 and c["lines_removed"] == 1
    assert c["latest_message"] == f"[api] Update: {u}/C" and c["authors"]
    assert c["summary"].startswith("changed: 2 commit(s) by ")
    assert pages[f"{u}/Lonely"]["deleted"] is True
    # most recent first, and a limit that cuts says so
    order = [p["path"] for p in answer["pages"]]
    assert order.index(f"{u}/Lonely") < order.index(f"{u}/A")
    code, first, _ = client_api.get("/activity", params={"since": "1h", "limit": 1})
    assert [p["path"] for p in first["pages"]] == [f"{u}/Lonely"] and first["truncated"] is True
    code, body, _ = client_api.get("/activity", params={"since": "soon"})
    assert code == 422 and "is not a time frame" in body["error"]


def test_folders_count_pages_in_and_below(client_api: Api, web: str) -> None:
    code, answer, _ = client_api.get("/folders", params={"prefix": f"{web}/"})
    assert code == 200, answer
    counts = {f["folder"]: (f["pages"], f["pages_below"]) for f in answer["folders"]}
    assert counts[web] == (5, 6) and counts[f"{web}/Sub"] == (1, 1)


@pytest.fixture(params=list(BACKENDS))
def mcp(request: pytest.FixtureRequest) -> McpTarget:
    return backend_target(request, request.param)


def test_the_tools_over_a_real_mcp_client(mcp: McpTarget, web: str) -> None:
    u = web

    def call(name: str, **args: Any) -> Any:
        return tool(mcp.url, mcp.token, name, **args)

    context = call("build_context", path=f"{u}/A", depth=2)
    assert {n["path"] for n in context["notes"]} == {
        f"{u}/{p}" for p in ("A", "B", "C", "Sub/D", "E")
    }
    activity = call("recent_activity", since="1h", limit=1000)
    assert {f"{u}/A", f"{u}/E"} <= {p["path"] for p in activity["pages"]}
    notes = call("read_notes", paths=[f"{u}/B", f"{u}/Nope", f"{u}/E"], max_chars=100)
    assert "notes" in notes, notes
    assert [n.get("content") for n in notes["notes"]] == [
        f"# B\n\nSecond page, about bees.\n\n[[{u}/E]]\n",
        None,
        "# E\n\nTwo links away.\n",
    ]
    assert notes["notes"][0]["truncated"] is False
    call("write_note", path=f"{u}/Long", content="x" * 500)
    (long,) = call("read_notes", paths=[f"{u}/Long"], max_chars=100)["notes"]
    assert long["content"] == "x" * 100 and long["truncated"] is True
    assert notes["notes"][1]["error"].startswith("page not found")
    folders = call("list_folders", prefix=f"{u}/")
    assert {f["folder"] for f in folders["folders"]} == {u, f"{u}/Sub"}


async def _prompts(target: McpTarget) -> tuple[Any, Any]:
    from fastmcp import Client

    async with Client(target.url, auth=target.token) as client:
        listed = await client.list_prompts()
        got = await client.get_prompt("summarise_changes", {"since": "2 days"})
        return listed, got


def test_prompts_are_offered(mcp: McpTarget) -> None:
    listed, got = run(_prompts(mcp))
    assert {p.name for p in listed} == {"summarise_changes", "file_note"}
    assert "recent_activity with since='2 days'" in got.messages[0].content.text


def test_time_frames_as_people_write_them() -> None:
    from datetime import UTC, datetime

    from otterwiki_api.errors import Invalid
    from otterwiki_api.timeframes import since

    now = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
    assert since("1d", now) == datetime(2026, 11, 29, 15, 30, tzinfo=UTC)
    assert (
        since("12h", now) == since("12 hours ago", now) == datetime(2026, 11, 30, 3, 30, tzinfo=UTC)
    )
    assert since("2 weeks", now) == datetime(2026, 11, 16, 15, 30, tzinfo=UTC)
    assert since("yesterday", now) == datetime(2026, 11, 29, tzinfo=UTC)
    assert since("2026-11-01", now) == datetime(2026, 11, 1, tzinfo=UTC)
    for bad in ("", "soon", "3 fortnights", "999999 weeks"):
        with pytest.raises(Invalid):
            since(bad, now)


def test_long_answers_are_cut_and_say_where_to_go_on(mcp: McpTarget, web: str) -> None:
    u = web

    def call(name: str, **args: Any) -> Any:
        return tool(mcp.url, mcp.token, name, **args)

    call("write_note", path=f"{u}/Big", content="".join(f"line {i:04}\n" for i in range(100)))
    first = call("read_note", path=f"{u}/Big", max_chars=400)
    assert len(first["content"]) == 400 and first["truncated"] and first["next_offset"] == 400
    rest = call("read_note", path=f"{u}/Big", max_chars=100_000, offset=400)
    assert first["content"] + rest["content"] == "".join(f"line {i:04}\n" for i in range(100))
    assert rest["truncated"] is False and "next_offset" not in rest
    links = call("get_links", path=f"{u}/A", limit=1)
    assert links["links_to"] == [f"{u}/B"] and links["total_links_to"] == 2
    assert links["truncated"] and links["next_offset"] == 1
    assert call("get_links", path=f"{u}/A", limit=1, offset=1)["links_to"] == [f"{u}/C"]
    history = call("get_history", path=f"{u}/A", limit=1)
    assert len(history["history"]) == 1 and history["truncated"] is False
    call("update_note", path=f"{u}/A", operation="append", content="more")
    assert call("get_history", path=f"{u}/A", limit=1)["truncated"] is True
    orphans = call("find_orphaned_notes", limit=1)
    assert len(orphans["orphans"]) == 1 and orphans["total"] > 1 and orphans["truncated"]


def test_history_follows_renames_but_not_copies(client_api: Api, unique: str) -> None:
    """git's --follow takes a new page much like an existing one (made from a template) for a
    copy of it and lists the other page's commits; a page's history is its own."""
    template = "# Meeting\n\n## Agenda\n\n1. \n\n## Decisions\n\n- \n\n## Actions\n\n- \n"
    write(client_api, f"{unique}/Template", template)
    write(client_api, f"{unique}/Monday", template.replace("# Meeting", "# Monday"))
    code, body, _ = client_api.get(f"/pages/{unique}/Monday/history")
    assert code == 200 and [h["message"] for h in body["history"]] == [
        f"[api] Create: {unique}/Monday"
    ]
    code, body, _ = client_api.post(
        f"/pages/{unique}/Monday/rename", {"new_path": f"{unique}/Tuesday"}
    )
    assert code == 200, body
    code, body, _ = client_api.get(f"/pages/{unique}/Tuesday/history")
    assert [h["message"] for h in body["history"]] == [
        f"[api] Rename: {unique}/Monday -> {unique}/Tuesday",
        f"[api] Create: {unique}/Monday",
    ]


async def _resources(target: McpTarget, uris: list[str]) -> list[str]:
    from fastmcp import Client

    async with Client(target.url, auth=target.token) as client:
        return [(await client.read_resource(uri))[0].text for uri in uris]


def test_folders_and_patterns_are_resources(mcp: McpTarget, web: str) -> None:
    u = web
    folder, deep, anywhere, none = run(
        _resources(
            mcp,
            [
                f"wiki://folder/{u}",
                f"wiki://match/{u}/*/d",
                f"wiki://match/{u}/**/[de]",
                f"wiki://match/{u}/zzz*",
            ],
        )
    )
    assert folder.startswith(f"# Notes in {u}/\n\n- [[{u}/A]] A (")
    assert folder.count("- [[") == 6
    assert [line.split("]]")[0] for line in deep.splitlines()[2:]] == [f"- [[{u}/Sub/D"]
    assert {line.split("]]")[0] for line in anywhere.splitlines()[2:]} == {
        f"- [[{u}/E",
        f"- [[{u}/Sub/D",
    }
    assert none.endswith("No notes.\n")


async def _server_info(target: McpTarget) -> Any:
    from fastmcp import Client

    async with Client(target.url, auth=target.token) as client:
        return client.server_info


def test_mcp_names_wikibot_and_labels_its_commits(mcp: McpTarget, unique: str, repo: str) -> None:
    """serverInfo is wikibot's name and version (not FastMCP's); commits made through MCP,
    in-process or through the REST API, say [mcp] where the REST API's say [api]."""
    import tomllib

    from conftest import git

    import wikibot

    info = run(_server_info(mcp))
    assert (info.name, info.version) == ("wikibot", wikibot.__version__)
    for folder in ("otterwiki_api", "otterwiki_mcp", "otterwiki_search", "."):
        base = "plugins/" + folder if folder != "." else "."
        with open(f"{base}/pyproject.toml", "rb") as f:
            assert tomllib.load(f)["project"]["version"] == wikibot.__version__, folder
    tool(mcp.url, mcp.token, "write_note", path=f"{unique}/Labelled", content="x")
    tool(
        mcp.url,
        mcp.token,
        "update_note",
        path=f"{unique}/Labelled",
        operation="append",
        content="y",
    )
    messages = git(repo, "log", "-2", "--format=%s", "--", f"{unique.lower()}/labelled.md")
    assert messages.split("\n")[:2] == [
        f"[mcp] Edit: {unique}/Labelled",
        f"[mcp] Create: {unique}/Labelled",
    ]


def test_write_note_explains_how_the_wiki_spells_the_path(mcp: McpTarget, unique: str) -> None:
    written = tool(mcp.url, mcp.token, "write_note", path=f"{unique}/OAuth/Test", content="x")
    assert written["path"] == f"{unique}/Oauth/Test"
    assert written["naming"].startswith(f"stored as '{unique}/Oauth/Test': Otterwiki shows")
    same = tool(mcp.url, mcp.token, "write_note", path=f"{unique}/Plain", content="x")
    assert "naming" not in same
    assert tool(mcp.url, mcp.token, "read_note", path=f"{unique}/OAuth/Test")["content"] == "x"


def test_context_cuts_a_long_root_to_its_budget(client_api: Api, unique: str) -> None:
    import json

    write(client_api, f"{unique}/Long", "# Long\n\n" + "word " * 20_000)
    code, answer, _ = client_api.get(f"/context/{unique}/Long", params={"max_chars": 1000})
    assert code == 200, answer
    (root,) = answer["notes"]
    assert root["content_truncated"] is True and root["content"].startswith("# Long")
    assert len(json.dumps(root, ensure_ascii=False)) <= 1000
