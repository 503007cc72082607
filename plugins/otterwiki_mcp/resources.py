"""Pages as MCP resources: a note (`wiki://page/{path}`), the notes of a folder
(`wiki://folder/{path}`) and the notes whose paths match a glob pattern (`wiki://match/{pattern}`,
e.g. `Projects/*/Plan`); paths may contain '/'. Listings are markdown, at most `LISTED` notes."""

from __future__ import annotations

import fnmatch
from typing import Any

from fastmcp import FastMCP
from fastmcp.exceptions import ResourceError
from otterwiki_api.errors import WikiError

from .backend import WikiBackend
from .described import described
from .errors import tool_error

PAGE_TEMPLATE = "wiki://page/{path*}"
FOLDER_TEMPLATE = "wiki://folder/{path*}"
MATCH_TEMPLATE = "wiki://match/{pattern*}"
LISTED = 200


def listing(title: str, pages: list[dict[str, Any]], total: int) -> str:
    """A markdown list of notes: path, name and last change, and how many were left out."""
    lines = [f"# {title}", ""]
    lines += [f"- [[{p['path']}]] {p['name']} ({p.get('updated_at', '')[:10]})" for p in pages]
    if total > len(pages):
        lines.append(f"- … and {total - len(pages)} more (list_notes pages through them all)")
    if not pages:
        lines.append("No notes.")
    return "\n".join(lines) + "\n"


def register_resources(mcp: FastMCP, backend: WikiBackend) -> None:
    def answer(make: Any) -> str:
        try:
            return str(make())
        except WikiError as e:
            raise ResourceError(str(tool_error(e))) from None

    @described(mcp.resource, PAGE_TEMPLATE, name="note", mime_type="text/markdown")
    def note(path: str) -> str:
        """A wiki note's current markdown, e.g. wiki://page/Projects/Plan."""
        return answer(lambda: backend.get_page(path)["content"])

    @described(mcp.resource, FOLDER_TEMPLATE, name="folder", mime_type="text/markdown")
    def folder(path: str) -> str:
        """The notes in a folder and below it, e.g. wiki://folder/Projects."""
        prefix = path.strip("/") + "/"

        def find() -> str:
            found = backend.list_pages(prefix=prefix, limit=LISTED)
            return listing(f"Notes in {prefix}", found["pages"], found["total"])

        return answer(find)

    @described(mcp.resource, MATCH_TEMPLATE, name="matching notes", mime_type="text/markdown")
    def matching(pattern: str) -> str:
        """The notes whose paths match a glob pattern (case-insensitive; * and ? do not cross
        '/', ** does), e.g. wiki://match/Projects/*/Plan."""

        def find() -> str:
            fixed = pattern.split("*", 1)[0].split("?", 1)[0]
            prefix = fixed.rsplit("/", 1)[0] + "/" if "/" in fixed else None
            pages = backend.list_pages(prefix=prefix)["pages"]
            chosen = [p for p in pages if glob_match(p["path"], pattern)]
            return listing(f"Notes matching {pattern}", chosen[:LISTED], len(chosen))

        return answer(find)


MAX_PATTERN = 300


def glob_match(path: str, pattern: str) -> bool:
    """fnmatch where * and ? stay within a folder and ** spans folders. Linear in the path's
    parts times the pattern's (memoised; repeated ** collapse), whatever the pattern."""
    if len(pattern) > MAX_PATTERN:
        raise ResourceError(f"the pattern is longer than {MAX_PATTERN} characters")
    parts = path.casefold().split("/")
    pats: list[str] = []
    for part in pattern.casefold().strip("/").split("/"):
        if not (part == "**" and pats and pats[-1] == "**"):
            pats.append(part)
    seen: dict[tuple[int, int], bool] = {}

    def walk(i: int, j: int) -> bool:
        if (i, j) not in seen:
            if j == len(pats):
                seen[i, j] = i == len(parts)
            elif pats[j] == "**":
                seen[i, j] = walk(i, j + 1) or (i < len(parts) and walk(i + 1, j))
            else:
                seen[i, j] = (
                    i < len(parts) and fnmatch.fnmatchcase(parts[i], pats[j]) and walk(i + 1, j + 1)
                )
        return seen[i, j]

    return walk(0, 0)
