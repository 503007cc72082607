"""The page index's first build in bounded, resumable steps (issue 13, item 2): a request runs at
most a few batches and answers correctly meanwhile (listings flagged partial, single pages read
from git), writes made during the build end up in the index, processes share one job, and
`wikibot index` / `wikibot status` build and report it."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import external_commit, git
from otterwiki_api.errors import Starting
from otterwiki_api.index_settings import BuildSettings
from otterwiki_api.page_index import PAGE_COLUMNS, LinkRules
from otterwiki_api.service import WikiService

AUTHOR = ("Builder", "builder@example.org")
PAGES = 300
BATCH = 25
RULES = LinkRules(retain_case=False, wikilink_style="")
ONE_BATCH = BuildSettings(step_budget=0.0, batch_pages=BATCH, background=False)


def make_wiki(repo: Path, pages: int = PAGES) -> None:
    """`pages` pages with frontmatter and links, committed with plain git in three commits (the
    later ones change some earlier pages, so each page's last commit differs)."""
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env = {"GIT_AUTHOR_NAME": "Gen", "GIT_AUTHOR_EMAIL": "gen@example.org"}
    env |= {"GIT_COMMITTER_NAME": "Gen", "GIT_COMMITTER_EMAIL": "gen@example.org"}
    for round_ in range(3):
        for i in range(round_, pages, 3 if round_ else 1):
            folder = repo / f"area{i % 7}"
            folder.mkdir(exist_ok=True)
            text = (
                f"---\ntitle: Page {i}\ntags: [t{i % 5}]\n---\n# Page {i}\n\n"
                f"round{round_} word{i} links [[area{(i + 1) % 7}/page{(i + 1) % pages}]]\n"
            )
            (folder / f"page{i}.md").write_text(text, encoding="utf-8")
        git(str(repo), "add", "-A", env=env)
        git(str(repo), "commit", "-q", "-m", f"round {round_}", env=env)


def service(repo: Path, index: str = "wikibot", build: BuildSettings = ONE_BATCH) -> WikiService:
    return WikiService(str(repo), str(repo / ".git" / index), lambda: RULES, build=build)


def rows(svc: WikiService) -> list[tuple]:
    """Every page's row but its id, from the finished index file."""
    import sqlite3

    with sqlite3.connect(svc.index.db_path) as conn:
        found = conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages ORDER BY filename").fetchall()
        links = conn.execute(
            "SELECT p.filename, l.target FROM links l JOIN pages p ON p.id = l.source_id"
            " ORDER BY 1, 2"
        ).fetchall()
    return [r[1:] for r in found] + links


def indexed(svc: WikiService) -> int:
    progress = svc.index.partial()
    return progress.indexed if progress else -1


def reference(repo: Path) -> list[tuple]:
    """The index a build in one go makes of the repository as it is now."""
    whole = service(repo, f"reference-{time.monotonic_ns()}", BuildSettings(1e9, 10_000, False))
    whole.index.ensure_current()
    return rows(whole)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    make_wiki(tmp_path / "repo")
    return tmp_path / "repo"


def test_a_request_builds_one_bounded_step_and_answers_correctly(repo):
    svc = service(repo)
    listing = svc.list_pages().as_dict()
    # the first step lists the files and reads the history: no page yet, the listing says so
    assert listing["partial"] is True and listing["total"] == 0
    assert listing["index_progress"] == {
        "indexed": 0,
        "total": PAGES,
        "phase": "indexing pages",
        "reason": "no index yet",
    }
    before = indexed(svc)
    page = svc.get_page("area4/page298")  # far behind in path order: not built yet
    assert indexed(svc) - before <= BATCH, "one step per request: one batch of pages"
    last = git(str(repo), "log", "-1", "--format=%H", "--", "area4/page298.md").strip()
    assert page["revision"] == last and "round1 word298" in page["content"]
    assert page["partial"] is True  # linked_from needs every page
    with pytest.raises(Exception, match="page not found"):
        svc.get_page("area0/nothing")
    requests = 3
    while svc.list_pages().progress is not None:
        requests += 1
        assert requests < 100
    # exactly one step per request: the history, then a batch each (the last one completes)
    assert requests + 1 == 1 + PAGES // BATCH
    final = svc.list_pages().as_dict()
    assert final["total"] == PAGES and "partial" not in final
    assert not os.path.exists(svc.index.building_path)
    assert rows(svc) == reference(repo)
    assert svc.search("word298")["results"][0]["path"] == "Area4/Page298"
    assert svc.links("area5/page299")["linked_from"] == ["Area4/Page298"]


def test_writes_during_the_build_are_in_the_final_index(repo):
    svc = service(repo)
    svc.list_pages()
    page = svc.get_page("area4/page200")  # not built yet
    svc.put_page("area4/page200", "changed during the build", AUTHOR, page["revision"])
    svc.put_page("Fresh", "a page made during the build [[area4/page200]]", AUTHOR)
    svc.delete_page("area1/page288", AUTHOR)
    external_commit(str(repo), "area2/outside.md", "committed with plain git meanwhile")
    assert svc.get_page("area4/page200")["content"] == "changed during the build"
    while svc.list_pages().progress is not None:
        pass
    assert rows(svc) == reference(repo)
    assert svc.search("changed")["results"][0]["path"] == "Area4/Page200"
    assert svc.links("area4/page200")["linked_from"] == ["Area3/Page199", "Fresh"]
    assert svc.list_pages().total == PAGES + 1  # one new, one deleted, one from outside
    with pytest.raises(Exception, match="not found"):
        svc.get_page("area1/page288")


def test_a_rename_waits_for_the_build(repo):
    svc = service(repo)
    head = git(str(repo), "rev-parse", "HEAD")
    with pytest.raises(Starting, match="still being built"):
        svc.rename_page("area0/page0", "elsewhere", AUTHOR)
    assert git(str(repo), "rev-parse", "HEAD") == head and git(str(repo), "status", "-s") == ""


def test_a_background_thread_finishes_the_build_after_a_request(repo):
    svc = service(repo, build=BuildSettings(step_budget=0.0, batch_pages=BATCH, background=True))
    assert svc.list_pages().progress is not None
    deadline = time.monotonic() + 60
    while svc.index.state()["status"] != "complete" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert svc.list_pages().as_dict()["total"] == PAGES


BUILDER = """
import json, sys
sys.path[:0] = {paths!r}
from otterwiki_api.index_settings import BuildSettings
from otterwiki_api.page_index import LinkRules, PageIndex
from otterwiki_api.gitcli import Git
index = PageIndex(Git(sys.argv[1]), sys.argv[2], lambda: LinkRules(False, ""),
                  build=BuildSettings(0.0, int(sys.argv[3]), False))
steps = []
for _ in range(int(sys.argv[4])):
    index.ensure_current()
    progress = index.partial()
    steps.append(progress.indexed if progress else None)
    if progress is None:
        break
print(json.dumps(steps))
"""


def build_in_process(repo: Path, index_dir: str, batch: int, requests: int) -> subprocess.Popen:
    script = BUILDER.format(paths=[p for p in sys.path if p])
    return subprocess.Popen(
        [sys.executable, "-c", script, str(repo), index_dir, str(batch), str(requests)],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_two_processes_build_one_job_together(repo):
    index_dir = str(repo / ".git" / "wikibot")
    procs = [build_in_process(repo, index_dir, 10, 1000) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert all(r[-1] is None for r in results), "both see the index complete"
    # one job: the pages each process saw built only ever grew, never restarted from zero
    for steps in results:
        counts = [s for s in steps if s is not None]
        assert counts == sorted(counts)
    assert sum(len(r) for r in results) - 2 <= PAGES // 10 + 4, "no page built twice"
    assert rows(service(repo)) == reference(repo)


def test_a_build_left_by_one_process_is_continued_by_another(repo, caplog):
    index_dir = str(repo / ".git" / "wikibot")
    proc = build_in_process(repo, index_dir, BATCH, 3)
    assert json.loads(proc.communicate(timeout=60)[0]) == [0, BATCH, 2 * BATCH]
    svc = service(repo)
    assert svc.index.state()["building"]["indexed"] == 2 * BATCH
    with caplog.at_level(logging.INFO, logger="otterwiki_api.page_index"):
        svc.list_pages()
    assert "full rebuild" not in caplog.text and indexed(svc) == 3 * BATCH


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wikibot", *args], capture_output=True, text=True, env=env
    )


def test_wikibot_index_and_status(tmp_path):
    data = tmp_path / "data"
    make_wiki(data / "repository", pages=120)
    env = {**os.environ, "WIKIBOT_SEARCH_EMBEDDER": "none", "WIKIBOT_INDEX_BATCH_PAGES": "10"}
    env |= {"WIKIBOT_INDEX_STEP_BUDGET": "0"}
    env.pop("OTTERWIKI_SETTINGS", None)
    before = cli("status", "--data-dir", str(data), env=env)
    assert before.returncode == 1 and "no wiki here" in before.stdout  # nothing made by status
    built = cli("index", "--data-dir", str(data), env=env)
    assert built.returncode == 0, built.stderr
    bars = [line for line in built.stderr.splitlines() if "pages/s" in line]  # \r: newlines
    done = [int(line.split("] ")[1].split("/")[0]) for line in bars]
    assert len(bars) > 3 and done == sorted(done) and "120/120 pages" in bars[-1]
    assert "page index complete: 120 pages" in built.stderr
    status = cli("status", "--data-dir", str(data), env=env)
    head = git(str(data / "repository"), "rev-parse", "HEAD").strip()
    assert status.returncode == 0, status.stderr
    assert f"page index   complete: 120 pages at {head}" in status.stdout
    assert "vector store unavailable: semantic search is switched off" in status.stdout


def test_wikibot_status_shows_a_build_in_progress(tmp_path):
    data = tmp_path / "data"
    make_wiki(data / "repository", pages=60)
    from wikibot import localwiki

    localwiki.prepare(str(data))
    repo = data / "repository"
    proc = build_in_process(repo, str(repo / ".git" / "wikibot"), 10, 2)
    proc.communicate(timeout=60)
    env = {**os.environ, "WIKIBOT_SEARCH_EMBEDDER": "local"}
    env.pop("OTTERWIKI_SETTINGS", None)
    status = cli("status", "--data-dir", str(data), env=env)
    assert "page index   building: 0 pages" in status.stdout, status.stdout + status.stderr
    assert "building: 10/60 pages (indexing pages; no index yet)" in status.stdout
    assert "vector store not_built: 0 pages, 0 chunks" in status.stdout
    assert "embedder embedder='local'" in status.stdout


def test_mcp_tools_say_when_an_answer_is_partial(repo: Path) -> None:
    """An agent is told, as REST clients are, that a listing lacks pages not indexed yet (the
    real MCP client, in memory, over the in-process backend)."""
    from types import SimpleNamespace

    from fastmcp import Client
    from flask import Flask
    from mcp_helpers import run
    from otterwiki_mcp.inprocess import InProcessBackend
    from otterwiki_mcp.server import build_server

    app = Flask("partial-index")
    app.extensions["wikibot_api"] = SimpleNamespace(service=service(repo))
    server = build_server(InProcessBackend(app), None)

    async def ask() -> tuple[dict, dict]:
        async with Client(server) as client:
            notes = await client.call_tool("list_notes", {"limit": 5})
            links = await client.call_tool("get_links", {"path": "area1/page1"})
            return notes.structured_content, links.structured_content

    notes, links = run(ask())
    assert notes["partial"] is True and notes["index_progress"]["total"] == PAGES, notes
    assert links["partial"] is True and "index_progress" in links, links


def test_a_catch_up_that_fails_leaves_the_index_usable(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catch-up that fails half way (here: reading a page raises) is rolled back: the index
    stays at its old HEAD, and the next request catches up normally (a transaction left open
    would refuse every later one)."""
    from otterwiki_api import page_index

    svc = service(repo, build=BuildSettings(1e9, 10_000, False))
    svc.index.ensure_current()
    before = svc.index.ensure_current()
    external_commit(str(repo), "late.md", "# Late\n\nadded after the build\n")
    real = page_index.apply_changes

    def broken(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # the rows are written in the transaction, then it fails
        raise OSError("the disk went away")

    monkeypatch.setattr(page_index, "apply_changes", broken)
    with pytest.raises(OSError, match="disk went away"):
        svc.index.ensure_current()
    monkeypatch.setattr(page_index, "apply_changes", real)
    assert svc.index.ensure_current() == git(str(repo), "rev-parse", "HEAD").strip() != before
    assert [p["path"] for p in svc.list_pages(prefix="Late").pages] == ["Late"]
