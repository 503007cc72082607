"""Markdown-aware chunking."""

from __future__ import annotations

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
