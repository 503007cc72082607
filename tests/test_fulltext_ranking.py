"""Full-text search that ranks like a search engine: stemmed words, stopwords that do not decide
the order, pages ranked by their best section with titles and headings weighted, and snippets of
plain text centred on the matched words (`**word**`). Ranking cases run on a fresh repository of
their own (the page index the app uses, through the service layer) so no other test's pages
share their words; snippets and catch-up go through the real wiki's REST API."""

from __future__ import annotations

import re

from conftest import external_commit, git
from test_service_layer import AUTHOR, make_service

FILLER = (
    "The team met on Tuesday to review the quarterly roadmap and agreed on priorities for the"
    " coming weeks, including hiring, office moves and the budget for travel."
)


def wiki_with(tmp_path, pages: dict[str, str]):
    """A service on a fresh repository holding `pages` plus a few unrelated ones (so that every
    searched word is rare, as in a real wiki)."""
    svc = make_service(tmp_path)
    unrelated = {f"Misc/Note {i}": f"# Note {i}\n\n{FILLER}\n" for i in range(6)}
    for path, content in {**unrelated, **pages}.items():
        svc.put_page(path, content, AUTHOR)
    return svc


def paths(result: dict) -> list[str]:
    return [r["path"] for r in result["results"]]


def test_stemming_finds_other_forms_of_a_word(tmp_path):
    svc = wiki_with(
        tmp_path,
        {
            "Jobs": "# Jobs\n\nThe exporter runs nightly; it ran late twice.\n",
            "Deploy": "# Deploy\n\nDeployments are configured in the pipeline.\n",
        },
    )
    assert paths(svc.search("running")) == ["Jobs"]
    assert paths(svc.search("deployment configuration")) == ["Deploy"]
    assert paths(svc.search("configures")) == ["Deploy"]
    assert paths(svc.search("deplo")) == ["Deploy"], "the last word is still a prefix"


def test_stopwords_do_not_decide_rank(tmp_path):
    """A question in plain words: its stopwords match everywhere, its content words do not."""
    faq = (
        "# FAQ\n\nHow do I log in? How do I reset my password? What do I do when I forget it?"
        " How do I change the email I use? Where do I find what I wrote?\n"
    )
    backups = "# Backups\n\nConfigure the nightly backup schedule in `backup.yml`.\n"
    svc = wiki_with(tmp_path, {"Help/FAQ": faq, "Ops/Backups": backups})
    assert paths(svc.search("how do I configure the backup schedule?"))[0] == "Ops/Backups"
    # no page has "postgres": the any-word fallback ranks by the remaining (content) words
    found = svc.search("how do I configure the backup schedule for postgres")
    assert paths(found)[0] == "Ops/Backups"
    # a query of only stopwords keeps them
    assert paths(svc.search("how do I"))[0] == "Help/Faq"


def test_a_focused_section_beats_scattered_mentions(tmp_path):
    """A long page naming each word once here and there loses to a page with one section about
    exactly that; before, the long page's many mentions won."""
    words = ["postgres", "replication", "failover"]
    handbook = "# Handbook\n\n" + "".join(
        f"## Topic {i}\n\n{FILLER} Remember {words[i % 3]} when it applies. {FILLER}\n\n"
        for i in range(24)
    )
    focused = (
        "# Database\n\nGeneral notes about our storage.\n\n"
        "## Standby\n\nWhen postgres replication lags, trigger a failover to the standby.\n\n"
        + "".join(f"## Costs {i}\n\n{FILLER}\n\n" for i in range(4))
    )
    svc = wiki_with(tmp_path, {"Handbook": handbook, "Database": focused})
    found = svc.search("postgres replication failover")
    assert paths(found) == ["Database", "Handbook"] and found["total"] == 2
    assert found["results"][0]["score"] > found["results"][1]["score"]


def test_title_and_heading_matches_beat_body_only_matches(tmp_path):
    pages = {
        "Birds/Kestrel": "# Overview\n\nTheir migration starts in October.\n",
        "Raptors": f"# Raptors\n\n{FILLER}\n\n## Kestrel\n\nThe migration of this small falcon.\n",
        "Field Notes": (
            "# Field notes\n\nSaw a kestrel, then a kestrel again; kestrel migration, and more"
            " kestrel migration near the field.\n"
        ),
    }
    svc = wiki_with(tmp_path, pages)
    found = paths(svc.search("kestrel migration"))
    assert found[:2] == ["Birds/Kestrel", "Raptors"] and found[2] == "Field Notes"


def test_all_words_matches_words_in_different_sections_and_never_falls_back(tmp_path):
    page = "# Notes\n\n## Alpha\n\nThe walrus sleeps.\n\n## Beta\n\nThe narwhal swims.\n"
    svc = wiki_with(tmp_path, {"Notes": page})
    assert paths(svc.search("walrus narwhal", all_words=True)) == ["Notes"]
    assert svc.search("walrus unicorn", all_words=True)["total"] == 0
    assert paths(svc.search("walrus unicorn")) == ["Notes"]


def test_snippet_is_plain_text_centred_on_highlighted_words(client_api, unique):
    word = unique.lower() + "widget"
    content = (
        "---\ntitle: Widget setup\ntags: [setup]\n---\n# Setup\n\n"
        + "```python\n# a comment, not a heading\nprint('hi')\n```\n\n"
        + " ".join([FILLER] * 4)
        + f'\n\n<span class="help-button">Help</span> Install the **{word}** package from'
        + f" [the docs](https://example.org/{word}) and see ![diagram](img/{word}.png).\n\n"
        + f"| option | meaning |\n| --- | --- |\n| {word}_mode | turns it *on* |\n"
    )
    assert client_api.put(f"/pages/{unique}/Widgets", {"content": content})[0] == 201
    status, body, _ = client_api.get("/search", params={"q": f"{word}s"})
    assert status == 200 and body["total"] == 1
    snippet = body["results"][0]["snippet"]
    assert f"**{word}**" in snippet, snippet
    assert set(re.findall(r"\*\*(.*?)\*\*", snippet)) == {word}, "only matches are marked"
    assert snippet.startswith("…"), "centred on the match, not the page's first words"
    for markup in ("\n", "<span", "](", "#", "| ---", "```", "help-button"):
        assert markup not in snippet, (markup, snippet)
    code = client_api.get("/search", params={"q": f"comment {word}"})[1]["results"]
    assert [r["path"] for r in code] == [f"{unique}/Widgets"], "code text is searchable"


def test_catch_up_after_edit_and_delete_keeps_search_right(client_api, unique, repo):
    old, new, kept = (unique.lower() + w for w in ("oldword", "newword", "keptword"))
    path = f"{unique}/Changing"
    first = f"# Start\n\n{old} here.\n\n## Middle\n\n{kept} stays.\n\n## End\n\n{old} again.\n"
    revision = client_api.put(f"/pages/{path}", {"content": first})[1]["revision"]
    assert client_api.get("/search", params={"q": old})[1]["total"] == 1
    # an edit through the API (recorded from what the writer knows)
    edit = {"content": f"# Start\n\n{new} here.\n\n{kept} stays.\n", "revision": revision}
    assert client_api.put(f"/pages/{path}", edit)[0] == 200
    assert client_api.get("/search", params={"q": old})[1]["total"] == 0
    found = client_api.get("/search", params={"q": new})[1]["results"]
    assert [r["path"] for r in found] == [path] and f"**{new}**" in found[0]["snippet"]
    # an edit with plain git (caught up from the commits)
    filename = f"{unique.lower()}/changing.md"
    external_commit(repo, filename, f"# Only\n\n{kept} alone.\n\n## Two\n\n{old} back.\n")
    assert client_api.get("/search", params={"q": new})[1]["total"] == 0
    assert [r["path"] for r in client_api.get("/search", params={"q": old})[1]["results"]] == [path]
    # and a deletion: no section of the page is left
    git(repo, "rm", "-q", "--", filename)
    git(repo, "-c", "user.name=Ext", "-c", "user.email=e@x", "commit", "-q", "-m", "rm")
    for word in (old, new, kept):
        assert client_api.get("/search", params={"q": word})[1]["total"] == 0


def test_plain_text_keeps_what_a_reader_sees():
    from otterwiki_api.plaintext import page_sections, plain_text

    markdown = (
        "Intro with _emphasis_, snake_case, ~~old~~ and &amp; [[Other Page]] [[shown|Target]].\n"
        "> quoted\n- item\n1. first\n\n---\nSetext\n======\n<!-- hidden\nnote -->\n"
        "[ref]: https://example.org\nsee [this][ref] and <https://example.org/x>\n"
        "~~~\nx = 2**3  # code stays\n"
    )
    assert plain_text(markdown) == (
        "Intro with emphasis , snake_case, old and & Other Page shown Target. quoted item"
        " first Setext see this and https://example.org/x x = 2 3 # code stays"
    )
    body = "lead\n\n# A *one*\n\ntext a\n\n```\n# not a heading\n```\n## B\n\ntext b\n# C\n"
    assert [(s.trail, s.text) for s in page_sections(body, 100)] == [
        ("", "lead"),
        ("A one", "text a # not a heading"),
        ("A one B", "text b"),
        ("C", ""),
    ]
    many = "".join(f"# h{i}\nt{i}\n" for i in range(5))
    capped = page_sections(many, 3)
    assert len(capped) == 3 and capped[-1].text == "t2 t3 t4"
