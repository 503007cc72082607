"""A page as the full-text index sees it: sections (the text under each heading, with the trail
of headings above it) of plain words, markdown and HTML markup removed.

Search results show snippets cut from this text with matches marked as `**word**`; so the text
keeps what a reader sees (link and image text, code) and never contains an asterisk of its own,
and its whitespace is collapsed so a snippet is one line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from .sections import headings

_FENCED = re.compile(  # a fenced code block; an unclosed one runs to the end
    r"^ {0,3}(?P<fence>(?P<char>[`~])(?P=char){2,})[^\n]*\n?"
    r"(?P<code>.*?)(?:^ {0,3}(?P=fence)(?P=char)*[ \t]*$|\Z)",
    re.M | re.S,
)
_DROPPED_LINE = re.compile(
    r"^\s*(?:"
    r"\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)+\|?"  # a table's delimiter row
    r"|(?:[-*_]\s*){3,}|=+"  # a thematic break or a setext underline
    r"|\[[^\]]+\]:\s*\S.*"  # a link reference definition
    r")\s*$"
)
_LINE_MARKS = frozenset("|-*_=[>+0123456789")  # what a line with line markup starts with
_LINE_PREFIX = re.compile(r"^\s*(?:>\s*)*(?:[-+*]\s+|\d+[.)]\s+)?")
_INLINE = (  # (a character the markup needs, its pattern, the replacement)
    ("<", re.compile(r"<!--.*?-->", re.S), " "),
    ("[", re.compile(r"\[\[([^\]|]*)\|?([^\]]*)\]\]"), r"\1 \2"),  # [[target]], [[label|target]]
    ("[", re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # ![alt](src)
    ("[", re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),  # [text](url), [text][ref]
    ("<", re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # <https://…> autolinks
    ("<", re.compile(r"</?[A-Za-z][^>]*>"), " "),  # HTML tags (their text stays)
)
_MARKERS = str.maketrans("*`|", "   ")  # emphasis, code spans, table cells
_UNDERSCORES = re.compile(r"\b_+|_+\b")  # _emphasis_, not snake_case


@dataclass(frozen=True)
class Section:
    trail: str  # the headings above this text and its own, outermost first
    text: str


def page_sections(body: str, most: int) -> list[Section]:
    """Plain-text sections of a markdown body (frontmatter already removed): the text before the
    first heading, then one per heading (headings in code fences are code). Empty sections are
    left out, but a page always has one, so its title alone can be found; at most `most`."""
    lines = body.splitlines()
    marks = headings(body)
    starts = [0] + [line + 1 for line, _, _ in marks]
    ends = [line for line, _, _ in marks] + [len(lines)]
    trails = [""] + _trails([(level, text) for _, level, text in marks])
    found = [
        Section(trail, plain_text("\n".join(lines[start:end])))
        for trail, start, end in zip(trails, starts, ends, strict=True)
    ]
    sections = [s for s in found if s.trail or s.text] or [Section("", "")]
    return _capped(sections, most)


def _trails(marks: list[tuple[int, str]]) -> list[str]:
    """The heading trail of each heading: its own text after those of the enclosing levels."""
    stack: list[tuple[int, str]] = []
    trails = []
    for level, text in marks:
        words = " ".join(_inline(text).split())
        stack = [(lvl, t) for lvl, t in stack if lvl < level] + [(level, words)]
        trails.append(" ".join(t for _, t in stack if t))
    return trails


def _capped(sections: list[Section], most: int) -> list[Section]:
    """At most `most` sections (the index numbers them in a fixed range; a page with more
    headings is an attack, not a page): the rest merged into the last, so no word is lost."""
    if len(sections) <= most:
        return sections
    head, rest = sections[: most - 1], sections[most - 1 :]
    merged = Section(rest[0].trail, " ".join(s.text for s in rest))
    return [*head, merged]


def plain_text(markdown: str) -> str:
    """The words a reader sees, on one line: code keeps its text, markup goes."""
    parts: list[str] = []
    done = 0
    blocks = _FENCED.finditer(markdown) if "``" in markdown or "~~" in markdown else ()
    for block in blocks:
        parts += [_prose(markdown[done : block.start()]), block.group("code").replace("*", " ")]
        done = block.end()
    parts.append(_prose(markdown[done:]))
    return " ".join(" ".join(parts).split())


def _prose(markdown: str) -> str:
    """Markdown outside code blocks as plain words: line markup first, then inline markup."""
    kept = []
    for line in markdown.splitlines():
        if line.lstrip()[:1] in _LINE_MARKS:  # most lines start with a word: no regex needed
            if _DROPPED_LINE.match(line):
                continue
            line = _LINE_PREFIX.sub("", line, count=1)
        kept.append(line)
    return _inline(" \n".join(kept))


def _inline(text: str) -> str:
    """Inline markup removed: links and images keep their text, tags and emphasis go."""
    for needle, pattern, replacement in _INLINE:
        if needle in text:  # a quick look first: most text has no markup of most kinds
            text = pattern.sub(replacement, text)
    if "&" in text:
        text = html.unescape(text)
    text = text.translate(_MARKERS).replace("~~", " ")
    return _UNDERSCORES.sub(" ", text) if "_" in text else text
