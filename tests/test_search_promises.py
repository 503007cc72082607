"""What the README promises about semantic search, checked on the real wiki, real git and the real
local model: a write updates the vector index itself, searches and write hooks work within
WIKIBOT_SEARCH_SYNC_BUDGET and leave the rest as a resumable job, a chunk-setting change
rebuilds the index and says why, and `/api/v1/reindex/status` names its engine and says when the
index is behind HEAD."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from typing import Any

import pytest
from conftest import Api, external_commit, git
from otterwiki_search import store
from otterwiki_search.plugin import SearchPlugin, build_runtime
from otterwiki_search.runtime import SearchRuntime
from search_helpers import init_repo

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ext",
    "GIT_AUTHOR_EMAIL": "ext@example.org",
    "GIT_COMMITTER_NAME": "Ext",
    "GIT_COMMITTER_EMAIL": "ext@example.org",
}
PAGES = {
    "cats.md": "# Cats\n\nCats are small domesticated felines that purr, hunt mice and sleep "
    "most of the day.",
    "bread.md": "# Bread\n\nKnead flour, water, yeast and salt, let the dough rise, then bake "
    "the loaf in a hot oven.",
    "rockets.md": "# Rockets\n\nA rocket engine burns propellant and expels exhaust to push a "
    "spacecraft into orbit.",
}


def index_complete(api: Api) -> dict[str, Any]:
    """Drive `POST /reindex` until the session wiki's vector index is complete, as a client
    does; the final status."""
    status: dict[str, Any] = {}
    for _ in range(100):
        code, status, _ = api.post("/reindex", {})
        assert code == 202, status
        if status["status"] == "complete":
            return status
    raise AssertionError(f"the index never completed: {status}")


def commit_pages(repo: str, pages: dict[str, str], message: str = "external") -> str:
    """One plain-git commit of several pages (as a `git pull` brings them); the new HEAD."""
    for name, text in pages.items():
        with open(os.path.join(repo, name), "w", encoding="utf-8") as f:
            f.write(text)
    git(repo, "add", "--", *pages, env=GIT_ENV)
    git(repo, "commit", "-q", "-m", message, env=GIT_ENV)
    return git(repo, "rev-parse", "HEAD").strip()


def runtime_for(repo: str, folder: str, **settings: str) -> SearchRuntime:
    """The plugin's runtime as its `setup` hook builds it, from these settings, on `repo`."""
    rt = build_runtime({"WIKIBOT_SEARCH_INDEX_DIR": folder, **settings}, repo)
    assert rt.unavailable_reason is None and rt.search is not None and rt.sync is not None
    return rt


@pytest.fixture
def wiki(tmp_path: Any) -> str:
    repo = init_repo(tmp_path / "repo")
    commit_pages(repo, PAGES, "three pages")
    return repo


def test_an_api_write_updates_the_vector_index_before_any_search(
    app: Any, client_api: Api, repo: str, unique: str
) -> None:
    """The `repository_changed` hook embeds the written page in the write's request: the index
    is at the write's commit before any search could have caught it up."""
    index_complete(client_api)
    path = f"{unique}/Lighthouse"
    content = (
        "# Lighthouse\n\nA tall tower on the rocky coast whose lamp flashes through the night "
        "to warn ships away from the reef."
    )
    status, body, _ = client_api.put(f"/pages/{path}", {"content": content})
    assert status == 201, body
    head = git(repo, "rev-parse", "HEAD").strip()
    status, index, _ = client_api.get("/reindex/status")
    assert status == 200 and index["status"] == "complete", index
    assert index["index_head"] == index["repository_head"] == head
    stored = app.extensions["wikibot_search"].sync.store.read()
    assert any(c["path"] == path and "lamp flashes" in c["text"] for c in stored.chunks)
    query = {"q": "a beacon that guides boats at sea after dark", "n": 3}
    status, found, _ = client_api.get("/semantic-search", params=query)
    assert status == 200 and found["index"] == {"status": "complete", "pending": 0}
    # among the first three: other tests' pages in the shared wiki may be about lighthouses too
    assert path in [r["path"] for r in found["results"]], found


def test_status_names_the_engine_and_says_when_the_index_is_behind(
    client_api: Api, repo: str, unique: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit from another process (no hook here) leaves the index `behind` until the next
    search catches up; `engine` says whether FAISS or numpy answers, and numpy answers alike."""
    before = index_complete(client_api)
    installed = "faiss" if importlib.util.find_spec("faiss") else "numpy"
    assert before["engine"] == installed
    head = external_commit(
        repo,
        f"{unique.lower()}.md",
        "# Harbour\n\nFishing boats moor along the harbour wall and unload their catch at dawn.",
    )
    status, index, _ = client_api.get("/reindex/status", key="read")
    assert status == 200 and index["status"] == "behind" and index["pending"] is None, index
    assert index["repository_head"] == head and index["index_head"] == before["index_head"] != head
    query = {"q": "where trawlers dock to land their fish", "n": 3}
    found = client_api.get("/semantic-search", params=query)[1]
    assert found["index"] == {"status": "complete", "pending": 0}
    assert found["results"][0]["path"] == unique
    assert client_api.get("/reindex/status")[1]["index_head"] == head
    with monkeypatch.context() as without_faiss:  # as in the Lambda package: no faiss to import
        without_faiss.setitem(sys.modules, "faiss", None)
        store.faiss_module.cache_clear()
        try:
            assert client_api.get("/reindex/status")[1]["engine"] == "numpy"
            again = client_api.get("/semantic-search", params=query)[1]
        finally:
            store.faiss_module.cache_clear()
    assert [r["path"] for r in again["results"]] == [r["path"] for r in found["results"]]
    assert [r["score"] for r in again["results"]] == pytest.approx(
        [r["score"] for r in found["results"]], abs=1e-5
    )
    assert client_api.get("/reindex/status")[1]["engine"] == installed


def test_searches_and_write_hooks_stay_within_the_sync_budget(wiki: str, tmp_path: Any) -> None:
    """With WIKIBOT_SEARCH_SYNC_BUDGET=0 a search or a write's hook embeds one batch (one page
    here), answers, and leaves the rest as a job the next one continues; the first build is
    never a write's job."""
    rt = runtime_for(
        wiki,
        str(tmp_path / "vectors"),
        WIKIBOT_SEARCH_SYNC_BUDGET="0",
        WIKIBOT_REINDEX_BATCH_PAGES="1",
    )
    assert rt.search is not None and rt.sync is not None
    plugin = SearchPlugin()
    plugin.runtime = rt
    plugin.repository_changed(["cats.md"])
    assert rt.sync.status()["status"] == "not_built"  # left to reindex or the next search
    pending = [rt.search.semantic("felines")["index"] for _ in PAGES]
    assert pending == [
        {"status": "in_progress", "pending": 2},
        {"status": "in_progress", "pending": 1},
        {"status": "complete", "pending": 0},
    ]
    head = commit_pages(
        wiki,
        {
            "cats.md": "# Cats\n\nLions are big cats that roar across the savanna.",
            "bread.md": "# Bread\n\nFlatbread is baked on a hot stone without yeast.",
            "rockets.md": "# Rockets\n\nA reusable booster lands upright on a drone ship.",
        },
    )
    plugin.repository_changed(["bread.md", "cats.md", "rockets.md"])  # e.g. a rename's backlinks
    status = rt.sync.status()
    assert status["status"] == "in_progress" and status["pending"] == 2 and status["done"] == 1
    assert status["reason"] == "sync 3 changed page(s)" and status["index_head"] != head
    assert rt.search.semantic("roaring predators")["index"]["pending"] == 1
    found = rt.search.semantic("a rocket that lands on a boat in the ocean", 1)
    assert found["index"] == {"status": "complete", "pending": 0}
    assert (
        found["results"][0]["path"] == "Rockets" and "drone ship" in found["results"][0]["snippet"]
    )
    assert rt.sync.status()["index_head"] == head


LONG_PAGE = (
    "# Garden\n\n"
    "Tomatoes need full sun, steady watering and a stake to climb as the vines grow tall.\n\n"
    "Roses are pruned in late winter, just above an outward-facing bud, to shape the bush.\n\n"
    "A compost heap turns kitchen scraps and fallen leaves into dark crumbly soil in a year.\n\n"
    "Slugs come out on damp nights; a ring of crushed eggshells keeps them off the lettuce.\n"
)


def test_a_chunk_setting_change_rebuilds_the_index_and_says_why(
    wiki: str, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The store records the chunking it was built with; other chunk settings rebuild it, and
    the status and the log say why."""
    commit_pages(wiki, {"garden.md": LONG_PAGE})
    folder = str(tmp_path / "vectors")
    first = runtime_for(wiki, folder)
    assert first.sync is not None and first.sync.step(60)["status"] == "complete"
    built = store.VectorStore(folder).read()
    assert built is not None and [c["page"] for c in built.chunks].count("garden.md") == 1

    rt = runtime_for(
        wiki,
        folder,
        WIKIBOT_SEARCH_CHUNK_SIZE="200",
        WIKIBOT_SEARCH_CHUNK_OVERLAP="50",
        WIKIBOT_SEARCH_SYNC_BUDGET="0",
        WIKIBOT_REINDEX_BATCH_PAGES="1",
    )
    assert rt.search is not None and rt.sync is not None
    model = "{embedder}/{model}/{dimension}d".format(**rt.sync.identity())
    why = f"built with {model}/chunks 1000+150 layout 2, now {model}/chunks 200+50 layout 2"
    status = rt.sync.status()
    assert status["status"] == "not_built" and why in status["reason"], status
    with caplog.at_level(logging.INFO, logger="otterwiki_search.sync"):
        answer = rt.search.semantic("keeping slugs off the salad")
    assert answer["index"] == {"status": "in_progress", "pending": 3}
    status = rt.sync.status()
    assert status["reason"] == f"rebuild: {why}" and f"rebuild: {why}" in caplog.text
    assert rt.sync.step(60)["status"] == "complete"

    rebuilt = store.VectorStore(folder).read()
    assert rebuilt is not None and rebuilt.identity["chunk_size"] == 200
    assert rebuilt.pages() == {"garden.md", *PAGES}
    assert all(len(c["text"]) <= 200 for c in rebuilt.chunks)
    assert [c["page"] for c in rebuilt.chunks].count("garden.md") >= 3
    found = rt.search.semantic("keeping slugs off the salad", 1, 1, "page")
    assert found["index"] == {"status": "complete", "pending": 0}
    best = found["results"][0]
    assert best["path"] == "Garden" and "eggshells" in best["chunks"][0]["text"]
    assert "Tomatoes" not in best["chunks"][0]["text"]  # a 200-character chunk, not the page
