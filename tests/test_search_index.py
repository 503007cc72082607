"""The vector index with the real local model (offline), real FAISS and real git repositories."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import external_commit, git
from otterwiki_api.gitcli import Git
from otterwiki_search.chunking import chunk_page
from otterwiki_search.local_model import LocalEmbedder
from otterwiki_search.searching import SemanticSearch
from otterwiki_search.store import StoreState, VectorStore
from otterwiki_search.sync import ChunkingRules, VectorSync
from search_helpers import fake_vector, init_repo

PAGES = {
    "cats.md": "# Cats\n\nCats are small domesticated felines that purr, hunt mice and sleep "
    "most of the day.",
    "bread.md": "# Bread\n\nKnead flour, water, yeast and salt, let the dough rise, then bake "
    "the loaf in a hot oven.",
    "rockets.md": "# Rockets\n\nA rocket engine burns propellant and expels exhaust to push a "
    "spacecraft into orbit.",
}


@pytest.fixture(scope="module")
def embedder() -> LocalEmbedder:
    return LocalEmbedder()


def make(repo: str, folder: str, embedder, batch: int = 32) -> tuple[VectorSync, SemanticSearch]:
    store = VectorStore(folder)
    sync = VectorSync(Git(repo), store, embedder, ChunkingRules(1000, 150), lambda: False, batch)
    search = SemanticSearch(sync, store, embedder, lambda q, n: {"results": []}, sync_budget=30)
    return sync, search


@pytest.fixture
def wiki(tmp_path):
    repo = init_repo(tmp_path / "repo")
    for name, text in PAGES.items():
        external_commit(repo, name, text, f"add {name}")
    return repo


def top(search: SemanticSearch, query: str) -> str:
    return search.semantic(query, 3)["results"][0]["path"]


def ranking_by_brute_force(embedder: LocalEmbedder, query: str) -> list[tuple[str, float]]:
    """Every page of PAGES with the cosine of its best chunk to `query`, best first, computed
    here from the model's vectors alone: what the store's search and grouping must reproduce."""
    scores: dict[str, float] = {}
    for filename, text in PAGES.items():
        title = filename.removesuffix(".md").capitalize()
        texts = [c.embed_text for c in chunk_page(title, text, 1000, 150).chunks]
        vectors = embedder.embed([query, *texts])
        scores[title] = float(np.max(vectors[1:] @ vectors[0]))
    return sorted(scores.items(), key=lambda item: item[1], reverse=True)


def test_finds_pages_by_meaning_and_follows_git(wiki, tmp_path, embedder):
    sync, search = make(wiki, str(tmp_path / "vectors"), embedder)
    assert sync.status()["status"] == "not_built"
    query = "which pet likes to nap and chase rodents?"
    result = search.semantic(query, 2, 1, "page")
    assert result["index"] == {"status": "complete", "pending": 0}
    expected = ranking_by_brute_force(embedder, query)
    assert expected[0][0] == "Cats"  # the model itself agrees: cats nap and chase mice
    assert expected[1][1] - expected[2][1] > 0.01  # no near-tie for second place
    assert [r["path"] for r in result["results"]] == [path for path, _ in expected[:2]]
    for hit, (_, score) in zip(result["results"], expected, strict=False):
        assert hit["score"] == pytest.approx(score, abs=1e-4)
    best = result["results"][0]
    assert best["name"] == "Cats" and 0 < best["score"] <= 1
    assert best["distance"] == pytest.approx(1 - best["score"], abs=1e-6)
    assert best["chunks"][0]["section"] == "" and "felines" in best["snippet"]
    assert top(search, "launching a vehicle to space") == "Rockets"
    # a plain `git commit` from another process is found by meaning on the next search
    external_commit(
        wiki,
        "garden/tomatoes.md",
        "# Tomatoes\n\nWater the tomato plants in the "
        "greenhouse and pick the red fruit in late summer.",
    )
    assert top(search, "growing vegetables under glass") == "Garden/Tomatoes"
    # deleted and renamed pages leave the index
    git(wiki, "rm", "-q", "cats.md")
    git(wiki, "mv", "bread.md", "baking.md")
    git(
        wiki,
        "commit",
        "-q",
        "-m",
        "rm and mv",
        env={
            "GIT_AUTHOR_NAME": "x",
            "GIT_AUTHOR_EMAIL": "x@x",
            "GIT_COMMITTER_NAME": "x",
            "GIT_COMMITTER_EMAIL": "x@x",
        },
    )
    paths = {r["path"] for r in search.semantic("anything at all", 10, None, "page")["results"]}
    assert paths == {"Baking", "Rockets", "Garden/Tomatoes"}


def test_reindex_is_bounded_and_resumable_by_another_process(wiki, tmp_path, embedder):
    folder = str(tmp_path / "vectors")
    first, _ = make(wiki, folder, embedder, batch=1)
    status = first.step(budget=0)  # one batch, then stop
    assert status["status"] == "in_progress" and status["done"] == 1 and status["total"] == 3
    other, search = make(wiki, folder, embedder, batch=1)  # a second instance continues
    assert other.status()["done"] == 1
    assert other.step(budget=60)["status"] == "complete"
    assert top(search, "baking a loaf") == "Bread"
    status = other.step(budget=0, full=True)
    assert status["status"] == "in_progress" and status["reason"] == "full reindex requested"


def test_model_or_dimension_change_is_detected_and_rebuilds(wiki, tmp_path, embedder, caplog):
    folder = str(tmp_path / "vectors")
    sync, _ = make(wiki, folder, embedder)
    sync.step(budget=60)

    class Wider:
        kind, model, dimension = "bedrock", "amazon.titan-embed-text-v2:0", 256

        def embed(self, texts):
            return np.asarray([fake_vector(t, 256) for t in texts], dtype="float32")

        def fits(self, text):
            return True

    other, search = make(wiki, folder, Wider())
    assert other.status()["status"] == "not_built"
    with caplog.at_level(logging.INFO, logger="otterwiki_search.sync"):
        assert other.step(budget=60)["status"] == "complete"
    assert "rebuild: built with local/all-MiniLM-L6-v2/384d" in caplog.text
    assert "now bedrock/amazon.titan-embed-text-v2:0/256d" in caplog.text
    assert VectorStore(folder).read().vectors.shape[1] == 256


WRITER = """
import sys, time, numpy as np
sys.path.insert(0, {tests!r})
from otterwiki_search.store import StoreState, VectorStore
from search_helpers import fake_vector
store = VectorStore({folder!r})
name = sys.argv[1]
for i in range(15):
    with store.update() as state:
        state = state or StoreState({{"dimension": 32}})
        page = f"{{name}}-{{i}}.md"
        state.drop_pages({{page}})
        state.add([{{"page": page, "path": page, "name": page, "section": "", "text": page}}],
                  np.asarray([fake_vector(page, 32)], dtype="float32"))
        store.save(state)
    time.sleep(0.005)
"""


def test_two_processes_upsert_one_store_folder(tmp_path):
    folder = str(tmp_path / "shared")
    script = WRITER.format(tests=os.path.dirname(__file__), folder=folder)
    procs = [subprocess.Popen([sys.executable, "-c", script, name]) for name in ("alpha", "beta")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    state = VectorStore(folder).read()
    assert isinstance(state, StoreState)
    assert state.pages() == {f"{n}-{i}.md" for n in ("alpha", "beta") for i in range(15)}
    for page in ("alpha-14.md", "beta-3.md"):
        row, score = state.search(np.asarray(fake_vector(page, 32), dtype="float32"), 1)[0]
        assert state.chunks[row]["page"] == page and score == pytest.approx(1.0, abs=1e-5)
    assert not [f for f in os.listdir(folder) if f.endswith(".tmp")]


def test_numpy_search_ranks_exactly_as_faiss(monkeypatch):
    """Without FAISS (the Lambda package leaves it out) the store answers with numpy: the same
    rows, order and scores as FAISS's IndexFlatIP."""
    from otterwiki_search import store

    assert store.faiss_module() is not None and store.engine() == "faiss"
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(2000, 64)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    chunks = [{"page": f"p{i}.md"} for i in range(len(vectors))]
    state = StoreState({"dimension": 64}, chunks=chunks, vectors=vectors)
    queries = [vectors[10], *rng.normal(size=(20, 64)).astype("float32")]
    with_faiss = [state.search(q, k) for q in queries for k in (1, 7, 40, 2000, 5000)]
    monkeypatch.setattr(store, "faiss_module", lambda: None)
    assert store.engine() == "numpy"
    with_numpy = [state.search(q, k) for q in queries for k in (1, 7, 40, 2000, 5000)]
    for faiss_answer, numpy_answer in zip(with_faiss, with_numpy, strict=True):
        rows = [r for r, _ in numpy_answer]
        assert sorted(rows) == sorted(r for r, _ in faiss_answer)
        assert [s for _, s in numpy_answer] == pytest.approx([s for _, s in faiss_answer], abs=1e-6)
        if len(rows) <= 40:  # deeper lists hold near-ties (1e-8 apart) that float sums may swap
            assert rows == [r for r, _ in faiss_answer]
    assert [r for r, _ in with_numpy[1]][:1] == [10]


def test_reindex_reports_an_index_that_is_already_complete(wiki, tmp_path, embedder):
    """`wikibot reindex` on a built index: step() answers the same full status either way."""
    import io
    from types import SimpleNamespace

    from wikibot import reindex

    sync, _ = make(wiki, str(tmp_path / "vectors"), embedder)
    runtime = SimpleNamespace(sync=sync, unavailable_reason=None)
    for _ in range(2):  # the first builds, the second finds nothing to do
        out = io.StringIO()
        assert reindex.run(runtime, full=False, out=out) == 0
        assert "index complete: 3 pages" in out.getvalue()
