"""The semantic search page for people (`/-/semantic-search`), read in a real headless Chromium
on the test wiki with the real local model: reached from Otterwiki's search page, in the wiki's
own layout, hybrid results with section, snippet and score; nothing a page or a query holds
runs as script; a wiki that needs a login shows nothing to anonymous visitors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
from otterwiki_api.errors import Busy, Unavailable
from otterwiki_search.runtime import SearchRuntime
from test_api_docs import chromium  # noqa: F401 - the module's headless Chromium
from test_e2e import WebDriver

PAGE = "/-/semantic-search"
RESULTS = "#wikibot-semantic-results"
READ_RESULTS = f"""
return [...document.querySelectorAll('{RESULTS} .wikibot-result')].map(r => ({{
  name: r.querySelector('a.wikibot-page').textContent.trim(),
  href: r.querySelector('a.wikibot-page').getAttribute('href'),
  section: (r.querySelector('.wikibot-section') || {{textContent: ''}}).textContent.trim(),
  snippet: r.querySelector('.wikibot-snippet').textContent.trim(),
  marks: [...r.querySelectorAll('.wikibot-snippet mark')].map(m => m.textContent),
  score: r.querySelector('.wikibot-score').textContent.trim(),
}}));
"""


@pytest.fixture(scope="module")
def pages(app: Any) -> dict[str, str]:
    """Pages this module writes (each new: 201), and a complete vector index over them."""
    from conftest import Api

    api = Api(client=app.test_client())
    prefix = "Searchpage"
    pages = {
        f"{prefix}/Beekeeping": "# Beekeeping\n\nHives, frames and smokers for the apiary.\n\n"
        "## Winter care\n\nIn the cold months the colony clusters around its queen and lives on "
        "the honey it stored; keep the hive dry and do not open it until spring.",
        f"{prefix}/Lighthouses": "# Lighthouses\n\nA tower with a lamp and a lens that warns "
        "ships of rocks along the coast at night.",
        f"{prefix}/Mischief": "# Mischief\n\nA page about pranks and practical jokes that "
        "tries <script>window.wikibotPwned = 'page'</script> to run code "
        '<img src="x" onerror="window.wikibotPwned = \'img\'"> in readers\' browsers.',
    }
    for path, content in pages.items():
        status, body, _ = api.put(f"/pages/{path}", {"content": content})
        assert status == 201 and body["created"] is True, body
    for _ in range(100):
        status, body, _ = api.post("/reindex", {})
        if body.get("status") == "complete":
            break
    assert body["status"] == "complete", body
    return pages


@pytest.fixture(scope="module")
def wiki(live_url: str, pages: dict[str, str]) -> str:
    """The live test wiki's URL, once this module's pages are indexed."""
    return live_url


def open_page(browser: WebDriver, url: str) -> None:
    browser.get(url)
    browser.wait("return document.readyState === 'complete'")


@pytest.mark.slow
def test_a_paraphrase_finds_the_page_from_the_search_page(
    wiki: str,
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
) -> None:
    open_page(chromium, f"{wiki}/-/search/{quote('winter hive')}")
    link = chromium.wait(
        "const a = document.querySelector('#column-main .card a.wikibot-semantic-search');"
        " return a && a.getAttribute('href')"
    )
    assert link == f"{PAGE}?q=winter+hive", link
    chromium.click("#column-main .card a.wikibot-semantic-search")
    chromium.wait(f"return location.pathname === '{PAGE}' && document.readyState === 'complete'")
    assert chromium.js("return document.getElementById('wikibot-semantic-query').value") == (
        "winter hive"
    )
    chromium.type("#wikibot-semantic-query", "how do insects survive the freezing season")
    chromium.click("#wikibot-semantic-form [type=submit]")
    chromium.wait(f"return document.querySelector('{RESULTS}') !== null")
    layout = chromium.js(
        "return {title: document.title, brand: !!document.querySelector('.navbar-brand'),"
        " sidebar: !!document.querySelector('.sidebar a.wikibot-semantic-search'),"
        " navbar: getComputedStyle(document.querySelector('.navbar')).display}"
    )
    assert layout["brand"] and layout["sidebar"] and layout["navbar"] == "flex", layout
    assert layout["title"].startswith("Semantic search"), layout
    results = chromium.js(READ_RESULTS)
    first = results[0]
    assert first["name"] == "Beekeeping" and first["href"] == "/Searchpage/Beekeeping#winter-care"
    assert first["section"] == "Winter care", first
    assert "colony" in first["snippet"], first
    assert float(first["score"]) > 0, first
    chromium.click(f"{RESULTS} .wikibot-result a.wikibot-page")
    chromium.wait("return location.pathname === '/Searchpage/Beekeeping'")
    chromium.wait("return !!document.querySelector('.sidebar a.wikibot-semantic-search')")


@pytest.mark.slow
def test_nothing_in_a_page_or_a_query_runs_as_script(
    wiki: str,
    chromium: WebDriver,  # noqa: F811 - the fixture imported above
) -> None:
    query = "pranks and practical jokes <img src=x onerror=\"window.wikibotPwned='query'\">"
    open_page(chromium, f"{wiki}{PAGE}?q={quote(query)}")
    results = chromium.js(READ_RESULTS)
    assert [r["name"] for r in results][:1] == ["Mischief"], results
    assert chromium.js("return window.wikibotPwned === undefined"), "a script ran"
    assert (
        chromium.js(f"return document.querySelectorAll('{RESULTS} script, {RESULTS} img').length")
        == 0
    )
    assert chromium.js("return document.getElementById('wikibot-semantic-query').value") == query


@contextmanager
def answering(app: Any, search: Any, unavailable: str | None = None) -> Iterator[None]:
    """The page's search replaced by `search` for a moment (the one wiki is shared); None and
    a reason: a wiki whose semantic search is unavailable."""
    saved = app.extensions["wikibot_search"]
    app.extensions["wikibot_search"] = SearchRuntime(
        saved.settings, search, saved.sync, unavailable
    )
    try:
        yield
    finally:
        app.extensions["wikibot_search"] = saved


class Stub:
    """A SemanticSearch stand-in: a fixed answer, or an error to raise."""

    def __init__(self, answer: dict[str, Any] | None = None, error: Exception | None = None):
        self.answer, self.error = answer, error

    def hybrid(self, query: object, limit: object = None) -> dict[str, Any]:
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer


@pytest.mark.slow
def test_snippet_markup_is_text_and_highlights_are_marks(
    app: Any,
    live_url: str,
    chromium: WebDriver,  # noqa: F811
) -> None:
    hostile = {
        "name": "<b>Bold</b>",
        "path": "Odd/<b>Bold</b>",
        "section": "<i>Part</i> > Sub",
        "snippet": "a **lava** flow <script>window.wikibotPwned='snippet'</script> **ash**",
        "score": 0.032787,
        "ranks": {"fulltext": 1, "semantic": 2},
    }
    answer = {"query": "lava", "results": [hostile], "index": {"status": "complete"}}
    with answering(app, Stub(answer)):
        open_page(chromium, f"{live_url}{PAGE}?q=lava")
        results = chromium.js(READ_RESULTS)
    assert chromium.js("return window.wikibotPwned === undefined"), "a script ran"
    (result,) = results
    assert result["name"] == "<b>Bold</b>" and result["section"] == "<i>Part</i> > Sub"
    assert result["marks"] == ["lava", "ash"], result
    assert "<script>window.wikibotPwned='snippet'</script>" in result["snippet"], result
    assert result["score"] == "0.0328", result


def test_a_building_index_or_a_missing_model_is_a_message_not_a_500(app: Any) -> None:
    client = app.test_client()
    for error, words in (
        (Unavailable("semantic search is unavailable: no model here"), "no model here"),
        (Busy("the index is being rebuilt by another process"), "try again"),
    ):
        with answering(app, Stub(error=error)):
            answer = client.get(PAGE, query_string={"q": "lava"})
        text = answer.get_data(as_text=True)
        assert answer.status_code == 503 and words in text, text
        assert 'id="wikibot-semantic-form"' in text  # still the page, in the wiki's layout
    building = {"query": "x", "results": [], "index": {"status": "in_progress", "pending": 7}}
    with answering(app, Stub(building)):
        text = client.get(PAGE, query_string={"q": "x"}).get_data(as_text=True)
    assert "still being built" in text and "7 pages" in text, text
    starting = {"query": "x", "results": [], "index": {"status": "starting", "pending": None}}
    with answering(app, Stub(starting)):
        text = client.get(PAGE, query_string={"q": "x"}).get_data(as_text=True)
    assert "model is loading" in text and "word matches only" in text, text
    with answering(app, None, unavailable="numpy is not installed"):
        answer = client.get(PAGE)
        assert answer.status_code == 503 and "numpy is not installed" in answer.text
        assert "wikibot-semantic-search" not in client.get("/Home").text  # not offered
    assert "wikibot-semantic-search" in client.get("/Home").text


@pytest.mark.slow
def test_a_wiki_that_needs_a_login_shows_anonymous_visitors_nothing(
    app: Any,
    live_url: str,
    chromium: WebDriver,  # noqa: F811
    pages: dict[str, str],
) -> None:
    client = app.test_client()
    query = {"q": "how do insects survive the freezing season"}
    assert "Beekeeping" in client.get(PAGE, query_string=query).text  # readable when open
    saved = app.config["READ_ACCESS"]
    app.config["READ_ACCESS"] = "REGISTERED"
    try:
        answer = client.get(PAGE, query_string=query)
        assert answer.status_code == 302 and "/-/login" in answer.headers["Location"]
        open_page(chromium, f"{live_url}{PAGE}?q={quote(query['q'])}")
        seen = chromium.js("return {path: location.pathname, text: document.body.innerText}")
        assert seen["path"] == "/-/login" and "Beekeeping" not in seen["text"], seen
        assert "wikibot-semantic-search" not in client.get("/-/login").text
    finally:
        app.config["READ_ACCESS"] = saved
