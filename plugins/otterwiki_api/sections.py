"""Sections of a markdown page: a heading and what is under it, up to the next heading of the same
or a higher level. A model reads a long note a section at a time (MCP `read_note`) and replaces
one section (`edits.replace_section`)."""

from __future__ import annotations

import re

from .frontmatter import FRONTMATTER_RE

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def headings(markdown: str) -> list[tuple[int, int, str]]:
    """(line number, level, text) of every ATX heading outside the frontmatter (where `# x` is a
    YAML comment) and fenced code blocks."""
    found = []
    fence: str | None = None
    front = FRONTMATTER_RE.match(markdown)
    skip = front.group(0).count("\n") if front else 0
    for number, line in enumerate(markdown.splitlines()):
        if number < skip:
            continue
        opener = _FENCE.match(line)
        if opener:
            marker = opener.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
            continue
        if fence is None:
            match = _HEADING.match(line)
            if match:
                found.append((number, len(match.group(1)), match.group(2).strip()))
    return found


def _norm(text: str) -> str:
    return " ".join(text.lstrip("#").split()).casefold()


def section_bounds(markdown: str, title: str) -> list[tuple[int, int, int]]:
    """(heading line, first line after the heading, end line) of every section whose heading
    is `title` (case-insensitive, leading #s ignored), in `markdown.splitlines()` numbering."""
    marks = headings(markdown)
    total = len(markdown.splitlines())
    wanted = _norm(title)
    found = []
    for i, (start, level, text) in enumerate(marks):
        if _norm(text) != wanted:
            continue
        end = next((later for later, lvl, _ in marks[i + 1 :] if lvl <= level), total)
        found.append((start, start + 1, end))
    return found


def extract_section(markdown: str, title: str) -> str | None:
    """The first heading named `title` and everything under it; None when there is none."""
    bounds = section_bounds(markdown, title)
    if not bounds:
        return None
    start, _, end = bounds[0]
    return "".join(markdown.splitlines(keepends=True)[start:end])
