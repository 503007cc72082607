"""Wikilinks as Otterwiki reads them: `[[Page]]` and `[[Text|Page]]` (or `[[Page|Text]]` when
WIKILINK_STYLE is LINKTITLE), ignoring code spans and fenced code blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .pagepaths import link_key

WIKILINK_RE = re.compile(r"\[\[([^\]\n]+)\]\]")
_CODE_RE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[^\n]*\n.*?(?:^(?P=fence)[ \t]*$|\Z)"  # fenced block
    r"|(?P<ticks>`+)[^`\n].*?(?P=ticks)",  # inline code span
    re.DOTALL | re.MULTILINE,
)


def linktitle_style(style: str | None) -> bool:
    """True when the link is the left side of `[[left|right]]`."""
    return (style or "").upper().replace("_", "").strip() in ("LINKTITLE", "PAGENAMETITLE")


def _split(inner: str, left_is_link: bool) -> tuple[str, str | None]:
    if "|" not in inner:
        return inner, None
    left, right = inner.split("|", 1)
    return (left, right) if left_is_link else (right, left)


def _text_segments(content: str) -> Iterator[tuple[bool, str]]:
    """Yield (is_code, text) pieces covering the whole content in order."""
    if "`" not in content and "~~~" not in content:  # no code: the regex costs 0.2 ms a page
        yield False, content
        return
    pos = 0
    for match in _CODE_RE.finditer(content):
        if match.start() > pos:
            yield False, content[pos : match.start()]
        yield True, match.group(0)
        pos = match.end()
    if pos < len(content):
        yield False, content[pos:]


def extract_links(content: str, retain_case: bool, style: str | None = None) -> set[str]:
    """The link keys (file path without `.md`) a page links to."""
    left_is_link = linktitle_style(style)
    keys: set[str] = set()
    for is_code, text in _text_segments(content):
        if is_code:
            continue
        for match in WIKILINK_RE.finditer(text):
            link, _ = _split(match.group(1), left_is_link)
            key = link_key(link, retain_case)
            if key:
                keys.add(key)
    return keys


def rewrite_links(
    content: str, old_key: str, new_pagepath: str, retain_case: bool, style: str | None = None
) -> str:
    """Point every wikilink whose target resolves to `old_key` at `new_pagepath`.

    Display text, a leading slash and `#anchor` are kept; code is left alone.
    """
    left_is_link = linktitle_style(style)

    def replace(match: re.Match[str]) -> str:
        link, title = _split(match.group(1), left_is_link)
        if link_key(link, retain_case) != old_key:
            return match.group(0)
        stripped = link.strip()
        _, hsep, anchor = stripped.partition("#")
        new_link = ("/" if stripped.startswith("/") else "") + new_pagepath + (hsep + anchor)
        if title is None:
            return f"[[{new_link}]]"
        return f"[[{new_link}|{title}]]" if left_is_link else f"[[{title}|{new_link}]]"

    return "".join(
        text if is_code else WIKILINK_RE.sub(replace, text)
        for is_code, text in _text_segments(content)
    )
