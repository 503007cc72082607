"""No cold first search: the model loads and the index catches up in a background thread, and a
search that comes while the model is still loading is told to retry instead of waiting for it
(real local model, real FAISS, real git; the wiki in `wikibot serve` as a subprocess)."""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest
import requests
from conftest import git
from mcp_helpers import clean_environment, free_port
from otterwiki_api.errors import Starting
from otterwiki_api.gitcli import Git
from otterwiki_mcp.errors import tool_error
from otterwiki_search.local_model import LocalEmbedder
from otterwiki_search.runtime import SearchRuntime
from otterwiki_search.searching import SemanticSearch
from otterwiki_search.store import VectorStore
from otterwiki_search.sync import ChunkingRules, VectorSync
from search_helpers import init_repo
from test_cli import serve

PAGES = {
    "cats.md": "# Cats\n\nSmall domesticated felines that purr and hunt mice.",
    "rockets.md": "# Rockets\n\nEngines burn propellant to push a spacecraft into orbit.",
}


class HeldModel:
    """The real local model, held back until `release()`: a model load that takes as long as
    the test wants (the real one takes seconds, too fast or too slow to catch reliably)."""

    def __init__(self, inner: LocalEmbedder) -> None:
        self.inner = inner
        self.kind, self.model, self.dimension = inner.kind, inner.model, inner.dimension
        self.fits = inner.fits
        self._gate = threading.Event()

    def release(self) -> None:
        self._gate.set()

    def embed(self, texts: list[str]) -> np.ndarray:
        assert self._gate.wait(60), "the test never released the model"
        return self.inner.embed(texts)


@pytest.fixture
def wiki(tmp_path: Any) -> str:
    repo = init_repo(tmp_path / "repo")
    for name, text in PAGES.items():
        (tmp_path / "repo" / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "pages")
    return repo


def held_search(repo: str, folder: str) -> tuple[HeldModel, SemanticSearch]:
    model = HeldModel(LocalEmbedder())
    store = VectorStore(folder)
    sync = VectorSync(Git(repo), store, model, ChunkingRules(1000, 150), lambda: False)
    fulltext = {"results": [{"name": "Rockets", "path": "Rockets", "snippet": "…"}]}
    return model, SemanticSearch(sync, store, model, lambda q, n: fulltext, sync_budget=0.3)


def test_a_search_while_the_model_loads_is_told_to_retry_then_finds(wiki, tmp_path):
    model, search = held_search(wiki, str(tmp_path / "vectors"))
    sync = search.sync
    assert search.start_warm_up() and not search.start_warm_up()  # one thread a process
    started = time.monotonic()
    with pytest.raises(Starting) as caught:
        search.semantic("orbital launch vehicles")
    assert time.monotonic() - started < 5  # within the sync budget, not the model's load
    assert caught.value.status == 503 and caught.value.extra == {"retry_after": 5}
    advice = str(tool_error(caught.value))  # what an MCP client's model reads
    assert advice.startswith("starting: semantic search is starting")
    assert "call this tool again in about 5 seconds" in advice
    hybrid = search.hybrid("orbital launch vehicles")  # full text alone, and it says so
    assert [r["path"] for r in hybrid["results"]] == ["Rockets"]
    assert hybrid["index"]["status"] == "starting"
    model.release()
    waited = time.monotonic() + 60  # the warm-up thread builds the index with no request asking
    while sync.status()["status"] != "complete" and time.monotonic() < waited:
        time.sleep(0.1)  # (60 s: a loaded CI machine took more than 10 once)
    assert sync.status()["status"] == "complete" and sync.status()["pages"] == 2
    found = search.semantic("orbital launch vehicles", 1)
    assert found["results"][0]["path"] == "Rockets"
    assert found["index"] == {"status": "complete", "pending": 0}


def test_the_rest_api_says_starting_with_retry_after(app, client_api, wiki, tmp_path, monkeypatch):
    """The REST form of the same answer: 503, code `starting`, Retry-After."""
    model, search = held_search(wiki, str(tmp_path / "vectors"))
    settings = app.extensions["wikibot_search"].settings
    runtime = SearchRuntime(settings, search, search.sync)
    monkeypatch.setitem(app.extensions, "wikibot_search", runtime)
    search.start_warm_up()
    try:
        status, body, headers = client_api.get("/semantic-search", params={"q": "x"}, key="read")
    finally:
        model.release()
    assert status == 503 and headers["Retry-After"] == "5", body
    assert body["code"] == "starting" and body["retry_after"] == 5


@pytest.mark.slow
def test_wikibot_serve_builds_the_index_before_anyone_searches(tmp_path):
    """At start `wikibot serve` asks the wiki once; the search plugin then loads the model and
    builds the index in the background: with no search and no reindex call, the index becomes
    complete."""
    env = {**clean_environment(), "WIKIBOT_SEARCH_WARM_UP": "1"}
    port = free_port()
    proc, key, _ = serve(str(tmp_path / "data"), env, "--direct", port=port)
    try:
        auth = {"Authorization": f"Bearer {key}"}
        url = f"http://127.0.0.1:{port}/api/v1/reindex/status"
        status: dict[str, Any] = {}
        for _ in range(240):
            status = requests.get(url, headers=auth, timeout=10).json()
            if status["status"] == "complete":
                break
            time.sleep(0.5)
        assert status["status"] == "complete" and status["pages"] >= 1, status
    finally:
        proc.terminate()
        proc.wait(timeout=20)
