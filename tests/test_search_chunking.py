"""Markdown-aware chunking."""

from __future__ import annotations

from typing import Any

import pytest
from otterwiki_search.chunking import chunk_page

PAGE = """---
title: Pricing Decisions
category: Business
tags: [money, plans]
---
# Pricing Decisions

Intro paragraph.

## Tiers

Three tiers.

### Enterprise

Custom contracts.

```python
# not a heading
x = 1
```

## Discounts

Students pay less.
"""


def test_sections_keep_their_heading_trail_and_frontmatter_becomes_metadata():
    page = chunk_page("Pricing", PAGE)
    assert (page.title, page.category, page.tags) == (
        "Pricing Decisions",
        "Business",
        ["money", "plans"],
    )
    assert [(c.section, c.text.splitlines()[0]) for c in page.chunks] == [
        ("", "Intro paragraph."),
        ("Tiers", "Three tiers."),
        ("Tiers > Enterprise", "Custom contracts."),
        ("Discounts", "Students pay less."),
    ]
    assert "# not a heading" in page.chunks[2].text
    assert page.chunks[2].embed_text.startswith("Pricing Decisions > Tiers > Enterprise\n\n")
    assert "title:" not in "".join(c.text for c in page.chunks)


def test_long_sections_split_within_size_with_overlap():
    sentences = " ".join(f"Sentence number {i} talks about topic {i % 7}." for i in range(200))
    page = chunk_page("Long", f"## Body\n\n{sentences}", size=300, overlap=60)
    assert len(page.chunks) > 10
    assert all(len(c.text) <= 300 for c in page.chunks)
    assert all(c.section == "Body" for c in page.chunks)
    for before, after in zip(page.chunks, page.chunks[1:], strict=False):
        assert after.text.split(" ")[0] in before.text  # carried-over overlap
    words = set(sentences.split())
    assert words <= set(" ".join(c.text for c in page.chunks).split())


def test_page_without_title_uses_its_name_and_empty_page_has_no_chunks():
    assert chunk_page("Some Page", "just text").chunks[0].context == "Some Page"
    assert chunk_page("Empty", "---\ntitle: x\n---\n").chunks == []


@pytest.fixture(scope="module")
def local() -> Any:
    """The real local model's embedder (its tokenizer counts the tokens; the model stays
    unloaded)."""
    from otterwiki_search.local_model import LocalEmbedder

    return LocalEmbedder()


def test_every_chunk_fits_the_models_token_window(local):
    """Hex dumps, numbers and code are many tokens per character: 1,000 characters of them are
    far past MiniLM's 256 tokens, whose tail would never be embedded."""
    words = " ".join(f"0x{i:04x}ff,{i * 7919 % 10007}" for i in range(300))
    code = "\n".join(f"cfg.set('k{i}', [{i}, {i + 1}, {i * 3}])" for i in range(60))
    content = f"## Dump\n\n{words}\n\n## Code\n\n```python\n{code}\n```\n"
    assert not local.fits(content[:1000])  # the old 1,000-character chunks did not fit
    page = chunk_page("Dump", content, 1000, 150, local.fits)
    assert page.chunks and all(local.fits(c.embed_text) for c in page.chunks)
    assert len(page.chunks) > len(chunk_page("Dump", content, 1000, 150).chunks)
    text = " ".join(c.text for c in page.chunks)
    assert all(w in text for w in words.split()[::37])  # nothing dropped on the way
    assert not chunk_page("Dump", content, 1000, 150).chunks[0].text == page.chunks[0].text


def test_a_long_table_repeats_its_header_in_every_chunk():
    rows = "\n".join(f"| service-{i} | {6000 + i} | team {i % 5} |" for i in range(80))
    table = f"| Service | Port | Owner |\n| --- | ---: | --- |\n{rows}"
    page = chunk_page("Ports", f"## Ports\n\nWhat listens where.\n\n{table}\n", 600, 100)
    with_rows = [c for c in page.chunks if "service-" in c.text]
    assert len(with_rows) > 3
    for chunk in with_rows:
        lines = chunk.text.splitlines()
        start = lines.index("| Service | Port | Owner |")
        assert lines[start + 1] == "| --- | ---: | --- |"
        assert all(line.startswith("| service-") for line in lines[start + 2 :])
    found = [line for c in with_rows for line in c.text.splitlines() if "service-" in line]
    assert found == rows.splitlines()  # every row once, in order, none cut


def test_pages_count_their_words():
    assert chunk_page("P", "---\ntitle: T\n---\none two\n\n## Three\n\nfour").words == 5


def test_the_model_reads_words_not_markup_and_table_rows_with_their_columns():
    page = chunk_page(
        "Help",
        '## Buttons\n\nPress <span class="help-button">Save</span> or see '
        "[the guide](https://example.com/a/very/long/url?with=query) and **bold** words.\n\n"
        "| Service | Port |\n| --- | --- |\n| redis | 6379 |\n| postgres | 5432 |\n",
    )
    chunk = page.chunks[0]
    assert "<span" in chunk.text and "](" in chunk.text  # what is shown keeps the markdown
    embedded = chunk.embed_text
    assert embedded.startswith("Help > Buttons\n\n")
    for gone in ("<span", "help-button", "https://", "**", "---", "|"):
        assert gone not in embedded
    assert "Press Save or see the guide and bold words." in embedded
    assert "Service: redis; Port: 6379." in embedded
    assert "Service: postgres; Port: 5432." in embedded
