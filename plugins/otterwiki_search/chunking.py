"""Markdown-aware chunks: split by headings, then by paragraphs, sentences and words to at most
`size` characters with `overlap` characters carried over, and smaller again where a piece would
not fit the embedder's token window (text past the window is never embedded). Each chunk keeps its
heading trail (`Page title > Section > Subsection`) as context for the embedding; a table split
over several chunks repeats its header rows in each, so every row is embedded with its column
names."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from otterwiki_api.frontmatter import page_category, page_tags, page_title, split_frontmatter
from otterwiki_api.plaintext import plain_text

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?$")
MIN_SIZE = 80  # characters: below this a piece is not split further for the token window


@dataclass
class Chunk:
    section: str  # heading trail below the page title, "" for the text before the first heading
    text: str  # the chunk's own text
    context: str  # "Title > Section" prefix that goes into the embedding

    @property
    def embed_text(self) -> str:
        return _embed_text(self.context, self.text)


def _cells(row: str) -> list[str]:
    row = row.strip()
    return [c.strip() for c in row.removeprefix("|").removesuffix("|").split("|")]


def _rows_as_lines(text: str) -> str:
    """Markdown tables as one line a row of `Column: value` pairs, so the embedding of a row
    carries its column names (a bare `| redis | 6379 |` says nothing about ports)."""
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i + 1 < len(lines) and "|" in lines[i] and _TABLE_RULE.match(lines[i + 1].strip()):
            names = _cells(lines[i])
            i += 2
            while i < len(lines) and "|" in lines[i]:
                pairs = zip(names, _cells(lines[i]), strict=False)
                out.append("; ".join(f"{n}: {v}" if n else v for n, v in pairs if v) + ".")
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


@dataclass
class PageChunks:
    title: str
    category: str | None
    tags: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)
    words: int = 0  # words of the page's text (frontmatter left out), as the page index counts


def _table_units(paragraph: str, size: int) -> list[str] | None:
    """A markdown table cut into tables of at most `size` characters, each starting with the
    header and rule rows; None when the paragraph is no table."""
    lines = paragraph.splitlines()
    if len(lines) < 3 or not _TABLE_RULE.match(lines[1].strip()):
        return None
    if not all("|" in line for line in lines):
        return None
    head = "\n".join(lines[:2])
    units: list[str] = []
    rows: list[str] = []
    for row in lines[2:]:
        if rows and len(head) + sum(len(r) + 1 for r in rows) + len(row) + 1 > size:
            units.append("\n".join([head, *rows]))
            rows = []
        rows.append(row)
    units.append("\n".join([head, *rows]))
    return units


def _sections(body: str) -> list[tuple[list[str], str]]:
    """(heading trail, text) for each run of text between headings; code fences are not headings."""
    trail: list[tuple[int, str]] = []
    sections: list[tuple[list[str], str]] = []
    lines: list[str] = []
    fence: str | None = None

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text:
            sections.append(([t for _, t in trail], text))
        lines.clear()

    for line in body.splitlines():
        fence_match = _FENCE_RE.match(line.strip())
        if fence_match:
            marker = fence_match.group(1)[0] * 3
            fence = None if fence and line.strip().startswith(fence) else (fence or marker)
            lines.append(line)
            continue
        heading = None if fence else _HEADING_RE.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            trail = [(lvl, t) for lvl, t in trail if lvl < level] + [
                (level, heading.group(2).strip())
            ]
        else:
            lines.append(line)
    flush()
    return sections


def _split(text: str, size: int, overlap: int) -> list[str]:
    """Pieces of at most `size` characters, cut at paragraph, sentence or word boundaries."""
    if len(text) <= size:
        return [text]
    units: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        if len(paragraph) <= size:
            units.append(paragraph)
            continue
        table = _table_units(paragraph, size)
        if table is not None:
            units += table
            continue
        for sentence in _SENTENCE_END.split(paragraph):
            while len(sentence) > size:
                cut = sentence.rfind(" ", 0, size)
                cut = cut if cut > size // 2 else size
                units.append(sentence[:cut])
                sentence = sentence[cut:].lstrip()
            if sentence:
                units.append(sentence)
    pieces: list[str] = []
    current = ""
    for unit in units:
        if current and len(current) + 2 + len(unit) > size:
            pieces.append(current)
            tail = current[-overlap:] if overlap and not unit.startswith("|") else ""
            space = tail.find(" ")
            tail = tail[space + 1 :] if space >= 0 else tail
            current = f"{tail} {unit}".strip() if len(tail) + 1 + len(unit) <= size else unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def _fitted(
    pieces: list[str], context: str, size: int, overlap: int, fits: Callable[[str], bool] | None
) -> list[str]:
    """`pieces`, each one that does not fit the token window split again, smaller."""
    if fits is None:
        return pieces
    out: list[str] = []
    for piece in pieces:
        if fits(_embed_text(context, piece)) or len(piece) <= MIN_SIZE:
            out.append(piece)
            continue
        smaller = max(MIN_SIZE, min(size, len(piece)) * 2 // 3)
        out += _fitted(
            _split(piece, smaller, overlap * smaller // size), context, smaller, overlap, fits
        )
    return out


def _embed_text(context: str, text: str) -> str:
    """What the model reads: the heading trail, then the words without markup (HTML, link
    targets and emphasis only spend the token window), tables as `Column: value` lines."""
    text = plain_text(_rows_as_lines(text))
    return f"{context}\n\n{text}" if context else text


def chunk_page(
    name: str,
    content: str,
    size: int = 1000,
    overlap: int = 150,
    fits: Callable[[str], bool] | None = None,
) -> PageChunks:
    """Chunks of one page. `name` is the page's display name, used when it has no title;
    `fits` tells whether a text fits the embedder's token window."""
    frontmatter, body = split_frontmatter(content)
    title = page_title(frontmatter) or name
    result = PageChunks(
        title=title,
        category=page_category(frontmatter),
        tags=page_tags(frontmatter),
        words=len(body.split()),
    )
    for trail, text in _sections(body):
        # a leading "# Title" heading repeats the title; keep it out of the section name
        if trail and trail[0].strip().lower() == title.strip().lower():
            trail = trail[1:]
        section = " > ".join(trail)
        context = " > ".join([title, *trail])
        for piece in _fitted(_split(text, size, overlap), context, size, overlap, fits):
            result.chunks.append(Chunk(section=section, text=piece, context=context))
    return result
