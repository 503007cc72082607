"""Markdown-aware chunks: split by headings, then by paragraphs, sentences and words to at most
`size` characters with `overlap` characters carried over. Each chunk keeps its heading trail
(`Page title > Section > Subsection`) as context for the embedding."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from otterwiki_api.frontmatter import page_category, page_tags, page_title, split_frontmatter

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
_FENCE_RE = re.compile(r"^(`{3,}|~{3,})")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Chunk:
    section: str  # heading trail below the page title, "" for the text before the first heading
    text: str  # the chunk's own text
    context: str  # "Title > Section" prefix that goes into the embedding

    @property
    def embed_text(self) -> str:
        return f"{self.context}\n\n{self.text}" if self.context else self.text


@dataclass
class PageChunks:
    title: str
    category: str | None
    tags: list[str] = field(default_factory=list)
    chunks: list[Chunk] = field(default_factory=list)


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
            tail = current[-overlap:] if overlap else ""
            space = tail.find(" ")
            tail = tail[space + 1 :] if space >= 0 else tail
            current = f"{tail} {unit}".strip() if len(tail) + 1 + len(unit) <= size else unit
        else:
            current = f"{current}\n\n{unit}" if current else unit
    if current:
        pieces.append(current)
    return pieces


def chunk_page(name: str, content: str, size: int = 1000, overlap: int = 150) -> PageChunks:
    """Chunks of one page. `name` is the page's display name, used when it has no title."""
    frontmatter, body = split_frontmatter(content)
    title = page_title(frontmatter) or name
    result = PageChunks(
        title=title, category=page_category(frontmatter), tags=page_tags(frontmatter)
    )
    for trail, text in _sections(body):
        # a leading "# Title" heading repeats the title; keep it out of the section name
        if trail and trail[0].strip().lower() == title.strip().lower():
            trail = trail[1:]
        section = " > ".join(trail)
        context = " > ".join([title, *trail])
        for piece in _split(text, size, overlap):
            result.chunks.append(Chunk(section=section, text=piece, context=context))
    return result
