"""Semantic and hybrid search through the REST API of the real wiki (local model, offline)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(scope="module")
def topics(app: Any) -> dict[str, str]:
    """Three pages this module creates through the API. Each must be new (201): a 409 would mean
    the pages were already there, written by someone else, and the searches below would test
    that content rather than these writes (and the index update each write triggers)."""
    from conftest import Api

    api = Api(client=app.test_client())
    prefix = "Semantic"
    pages = {
        f"{prefix}/Volcanoes": "# Volcanoes\n\nMagma rises through the crust and erupts as lava "
        "and ash from the mountain's crater.",
        f"{prefix}/Violins": "# Violins\n\nA bowed string instrument with four strings, played "
        "under the chin in orchestras.\n\n## Making\n\nLuthiers carve spruce and maple.",
        f"{prefix}/Sourdough": "# Sourdough\n\nA starter of wild yeast leavens the dough, giving "
        "the bread its tangy crumb.",
    }
    for path, content in pages.items():
        status, body, _ = api.put(f"/pages/{path}", {"content": content})
        assert status == 201 and body["created"] is True and body["path"] == path, body
    return pages


def test_semantic_search_grouped_by_page(api, topics):
    query = {"q": "hot molten rock erupting", "n": 3, "max_chunks_per_page": 2, "group": "page"}
    status, body, _ = api.get("/semantic-search", params=query)
    assert status == 200, body
    assert body["query"] == "hot molten rock erupting"
    assert body["results"][0]["path"] == "Semantic/Volcanoes"
    paths = [r["path"] for r in body["results"]]
    assert len(paths) == len(set(paths)) == body["total"] <= 3
    first = body["results"][0]
    assert set(first) >= {"name", "path", "snippet", "score", "distance", "chunks"}
    assert first["chunks"][0]["text"].startswith("Magma") and first["chunks"][0]["section"] == ""
    query = {"q": "woodworking for fiddle makers", "group": "page"}
    hit = api.get("/semantic-search", params=query)[1]["results"][0]
    assert hit["path"] == "Semantic/Violins" and hit["chunks"][0]["section"] == "Making"
    assert hit["chunks"][0]["section_path"] == "Violins > Making"


def test_semantic_search_answers_as_the_older_plugin_does(api, topics):
    """otterwiki-semantic-search's contract (its tests/test_search.py): one entry per chunk,
    best first, `n` entries in all, at most `max_chunks_per_page` (2; capped at 5) of a page,
    with the chunk's text, section, section path, position and the page's size."""
    query = {"q": "woodworking for fiddle makers", "n": 2, "max_chunks_per_page": 5}
    status, body, _ = api.get("/semantic-search", params=query)
    assert status == 200, body
    assert body["total"] == len(body["results"]) == 2
    first, second = body["results"]
    assert first["path"] == second["path"] == "Semantic/Violins"  # both chunks of one page
    assert (first["section"], first["section_path"]) == ("Making", "Violins > Making")
    assert (first["chunk_index"], first["total_chunks"]) == (1, 2)
    assert first["text"] == "Luthiers carve spruce and maple." == first["snippet"]
    assert first["page_word_count"] == len(topics["Semantic/Violins"].split())
    assert (second["section"], second["chunk_index"]) == ("", 0)
    assert first["distance"] <= second["distance"]
    assert first["name"] == "Violins" and "chunks" not in first
    one_each = api.get("/semantic-search", params={**query, "n": 3, "max_chunks_per_page": 1})
    assert len({r["path"] for r in one_each[1]["results"]}) == 3
    default = api.get("/semantic-search", params={"q": "violin making", "n": 10})[1]["results"]
    assert [r["path"] for r in default].count("Semantic/Violins") == 2
    capped = {"q": "violin", "n": 500, "max_chunks_per_page": 99}  # lowered to 50 and 5
    status, body, _ = api.get("/semantic-search", params=capped)
    assert status == 200 and body["total"] <= 50


def test_hybrid_mode_fuses_both_rankings(api, topics):
    status, body, _ = api.get("/search", params={"q": "tangy bread", "mode": "hybrid"})
    assert status == 200, body
    assert body["mode"] == "hybrid" and body["results"][0]["path"] == "Semantic/Sourdough"
    assert body["results"][0]["ranks"] == {"fulltext": 1, "semantic": 1}
    assert api.get("/search", params={"q": "x", "mode": "psychic"})[0] == 422


def test_bad_parameters(api, topics):
    assert api.get("/semantic-search")[0] == 422
    assert api.get("/semantic-search", params={"q": "x", "n": 0})[0] == 422
    assert api.get("/semantic-search", params={"q": "x", "n": "many"})[0] == 422
    assert api.get("/semantic-search", params={"q": "x", "max_chunks_per_page": 0})[0] == 422
    assert api.get("/semantic-search", params={"q": "x", "group": "site"})[0] == 422
    assert api.get("/semantic-search", params={"q": "x"}, key=None)[0] == 401


def test_reindex_needs_admin_and_reports_progress(api, topics):
    assert api.post("/reindex", {}, key="write")[0] == 403
    status, body, _ = api.post("/reindex", {})
    assert status == 202 and body["status"] == "complete" and body["pages"] >= 3
    assert api.post("/reindex", {"full": "yes"})[0] == 422
    status, body, _ = api.get("/reindex/status", key="read")
    assert status == 200 and body["status"] == "complete"
    assert body["embedder"]["model"] == "all-MiniLM-L6-v2" and body["embedder"]["dimension"] == 384


def test_without_an_embedder_search_answers_503_and_the_wiki_keeps_working(app, api, topics):
    from otterwiki_search.plugin import build_runtime

    saved = app.extensions["wikibot_search"]
    app.extensions["wikibot_search"] = build_runtime(
        {"WIKIBOT_SEARCH_EMBEDDER": "none"}, app.config["REPOSITORY"]
    )
    try:
        status, body, _ = api.get("/semantic-search", params={"q": "lava"})
        assert status == 503 and "WIKIBOT_SEARCH_EMBEDDER=none" in body["error"]
        assert api.get("/search", params={"q": "lava", "mode": "hybrid"})[0] == 503
        assert api.post("/reindex", {})[0] == 503
        status, body, _ = api.get("/reindex/status")
        assert status == 200 and body["status"] == "unavailable"
        assert api.get("/search", params={"q": "magma"})[1]["total"] >= 1
        assert app.test_client().get("/Semantic/Volcanoes").status_code == 200
    finally:
        app.extensions["wikibot_search"] = saved
