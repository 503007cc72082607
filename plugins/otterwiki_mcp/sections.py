"""One section of a markdown page, so a model can read a long note a part at a time."""

from __future__ import annotations

import re

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def headings(markdown: str) -> list[tuple[int, int, str]]:
    """(line number, level, text) of every ATX heading outside fenced code blocks."""
    found = []
    fence: str | None = None
    for number, line in enumerate(markdown.splitlines()):
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


def extract_section(markdown: str, title: str) -> str | None:
    """The heading named `title` (case-insensitive) and everything under it, up to the next
    heading of the same or a higher level; None when there is no such heading."""
    lines = markdown.splitlines(keepends=True)
    marks = headings(markdown)
    wanted = _norm(title)
    for i, (start, level, text) in enumerate(marks):
        if _norm(text) != wanted:
            continue
        end = len(lines)
        for later, later_level, _ in marks[i + 1 :]:
            if later_level <= level:
                end = later
                break
        return "".join(lines[start:end])
    return None
