"""The REST API for people: `/api/v1/` answers what is there (it was a 404 the banner pointed
at), `/api/v1/docs` is Swagger UI from the files of the PyPI package swagger-ui-py and
`/api/v1/docs/plain` the reference rendered on the server, both read in a real headless Chromium:
every operation of the OpenAPI document, nothing fetched from another origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from otterwiki_api.apidocs import anchor
from test_e2e import CHROMEDRIVER, CHROMIUM, WebDriver

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    import os

    for program in (CHROMIUM, CHROMEDRIVER):
        assert os.path.exists(program), (
            f"{program} is missing: apt-get install chromium chromium-driver"
        )
    driver = WebDriver(str(tmp_path_factory.mktemp("docs-browser")))
    try:
        yield driver
    finally:
        driver.close()


def operations(live_url: str) -> list[tuple[str, str]]:
    document = requests.get(f"{live_url}/api/v1/openapi.json", timeout=30).json()
    return [(m, p) for p, item in document["paths"].items() for m in item if m in METHODS]


def test_the_api_root_says_what_is_there(live_url: str) -> None:
    answer = requests.get(f"{live_url}/api/v1/", timeout=30)
    assert answer.status_code == 200, answer.text
    index = answer.json()
    assert index["docs"] == f"{live_url}/api/v1/docs"
    assert index["openapi"] == f"{live_url}/api/v1/openapi.json"
    routes = {(r["method"].lower(), r["path"]) for r in index["routes"]}
    assert routes == set(operations(live_url))


@pytest.mark.slow
def test_swagger_ui_in_a_browser_lists_every_route_offline(
    live_url: str, chromium: WebDriver
) -> None:
    """The interactive reference: Swagger UI from the files swagger-ui-py ships, on the same
    OpenAPI document, one block per operation, nothing fetched from another origin."""
    chromium.get(f"{live_url}/api/v1/docs")
    expected = operations(live_url)
    shown = "return document.querySelectorAll('.opblock').length"
    assert chromium.wait(f"{shown} === {len(expected)}"), chromium.js(shown)
    page = chromium.js(
        "return {title: document.title,"
        " ops: [...document.querySelectorAll('.opblock')].map(e => ["
        "   e.querySelector('.opblock-summary-method').innerText.toLowerCase(),"
        "   e.querySelector('.opblock-summary-path').getAttribute('data-path')]),"
        " fetched: performance.getEntriesByType('resource').map(r => r.name)}"
    )
    assert page["title"].endswith("reference"), page["title"]
    assert sorted(map(tuple, page["ops"])) == sorted(expected)
    assert all(url.startswith(live_url) for url in page["fetched"]), page["fetched"]
    assert f"{live_url}/api/v1/openapi.json" in page["fetched"]
    assert requests.get(f"{live_url}/api/v1/docs/assets/LICENSE", timeout=10).status_code == 404


@pytest.mark.slow
def test_the_plain_reference_in_a_browser(live_url: str, chromium: WebDriver) -> None:
    chromium.get(f"{live_url}/api/v1/docs/plain")
    chromium.wait("return document.readyState === 'complete'")
    page = chromium.js(
        "return {title: document.title, scripts: document.scripts.length,"
        " ops: [...document.querySelectorAll('.op')].map(e => e.id),"
        " fetched: performance.getEntriesByType('resource').map(r => r.name),"
        " method: getComputedStyle(document.querySelector('.method.get')).color}"
    )
    assert page["title"].endswith("reference") and page["scripts"] == 0, page
    assert all(url.startswith(live_url) for url in page["fetched"]), page["fetched"]
    assert page["method"] != "rgb(34, 34, 34)", "its own style applies (GET is coloured)"
    expected = {anchor(m, p) for m, p in operations(live_url)}
    assert set(page["ops"]) == expected and len(page["ops"]) == len(expected)
    chromium.click('a[href="#patch-pages-path"]')
    assert chromium.wait("return location.hash === '#patch-pages-path'")
    text = chromium.js("return document.getElementById('patch-pages-path').innerText")
    assert "replace_section" in text and "409" in text
