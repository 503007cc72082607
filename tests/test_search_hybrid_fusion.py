"""Hybrid search is better than either side on a question that carries an exact term: full text
counts on pages with most of the question's words (real local model, real FTS5, real git)."""

from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import git
from otterwiki_api.gitcli import Git
from otterwiki_api.page_index import LinkRules
from otterwiki_api.service import WikiService
from otterwiki_search.local_model import LocalEmbedder
from otterwiki_search.searching import SemanticSearch
from otterwiki_search.store import VectorStore
from otterwiki_search.sync import ChunkingRules, VectorSync
from search_helpers import init_repo

PAGES = {
    "object storage.md": "# Object Storage\n\n| bucket | quota |\n| --- | --- |\n"
    "| `acme-uploads` | none |\n| `acme-backups` | 5 TB |\n\nA bucket over its quota refuses "
    "writes: the backup upload fails with `E_QUOTA`, image uploads with HTTP 507.",
    "error codes.md": "# Error Codes\n\n| code | raised by | meaning |\n| --- | --- | --- |\n"
    "| `E_QUOTA` | backup | failed: quota used up |\n| `E_DECODE` | thumbnails | image format "
    "unknown |\n| `EXP-07` | expenses | receipt missing |\n| `ERR_IMAGE_PULL` | deploy | "
    "registry refused the image |\n",
    "weekend backups.md": "# Weekend Backups\n\nEvery weekend the full backup of all "
    "databases runs instead of the nightly increment. It is four times larger and sometimes "
    "does not finish before Monday; the on-call person then reruns it by hand.",
    "holiday policy.md": "# Holiday Policy\n\nStaff have 28 days of paid holiday a year.",
    "vpn.md": "# VPN\n\nConnect with WireGuard: `wg-quick up acme0`.",
}
QUESTION = "why does the weekend backup fail with E_QUOTA"
RIGHT = "Object Storage"


@pytest.fixture(scope="module")
def wiki(tmp_path_factory: pytest.TempPathFactory) -> tuple[WikiService, SemanticSearch]:
    root = tmp_path_factory.mktemp("hybrid")
    repo = init_repo(root / "repo")
    for name, text in PAGES.items():
        (root / "repo" / name).write_text(text)
    git(repo, "add", ".")
    git(repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "pages")
    rules = LinkRules(retain_case=False, wikilink_style="")
    service = WikiService(repo, os.path.join(repo, ".git", "wikibot"), lambda: rules)
    model = LocalEmbedder()
    store = VectorStore(str(root / "vectors"))
    sync = VectorSync(Git(repo), store, model, ChunkingRules(1000, 150), lambda: False)
    every_word = lambda q, n: service.search(q, n, all_words=True)  # noqa: E731 - as plugin.py
    return service, SemanticSearch(sync, store, model, every_word, sync_budget=60.0)


def paths(answer: dict[str, Any]) -> list[str]:
    return [hit["path"] for hit in answer["results"]]


def test_a_question_with_an_exact_term_ranks_first_only_in_hybrid(wiki: Any) -> None:
    """No page has all four words, so the fusion before (every word) had no full text and
    answered the vector ranking; full text's any-word fallback puts the page with "weekend" in
    its title first, vector search the page about weekend backups."""
    service, search = wiki
    full_text = paths(service.search(QUESTION, 10))  # any word when no page has every word
    vector = paths(search.semantic(QUESTION, 10, 1, "page"))
    assert full_text[0] != RIGHT and RIGHT in full_text, full_text
    assert vector[0] != RIGHT and RIGHT in vector, vector
    hybrid = search.hybrid(QUESTION, 5)
    first = hybrid["results"][0]
    assert first["path"] == RIGHT, paths(hybrid)
    assert set(first["ranks"]) == {"fulltext", "semantic"}
    assert "**" in first["snippet"]  # full text's snippet, its words marked
