"""Answers that gather many pages in one call, sized for a model: a note with its neighbourhood
(`context`), what changed in a time frame (`activity`) and the folders with their page counts
(`folders`). Each takes a limit and says when it stopped early, so an agent asks for more
instead of receiving everything."""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from . import timeframes
from .errors import Invalid, bounded_int
from .frontmatter import split_frontmatter

if TYPE_CHECKING:
    from .page_index import PageRow
    from .service import WikiService

SUMMARY_CHARS = 300
MAX_NOTES = 200  # pages one context gathers at most, whatever the depth
DEFAULT_BUDGET, MAX_BUDGET = 12_000, 200_000  # characters of JSON in one context answer
MAX_ACTIVITY_COMMITS = 2000


def summary(content: str) -> str:
    """The first paragraph of the body that is not a heading, cut to `SUMMARY_CHARS`."""
    _, body = split_frontmatter(content)
    paragraph: list[str] = []
    for line in body.splitlines():
        text = line.strip()
        if not text:
            if paragraph:
                break
            continue
        if not paragraph and text.startswith("#"):
            continue
        paragraph.append(text)
    joined = " ".join(paragraph)
    return joined if len(joined) <= SUMMARY_CHARS else joined[: SUMMARY_CHARS - 1] + "…"


def context(
    service: WikiService,
    path: object,
    depth: object = None,
    since: object = None,
    max_chars: object = None,
    offset: object = None,
) -> dict[str, Any]:
    """The note (with its content) and the notes it links to and that link to it, breadth
    first to `depth` (1-3), each with title, frontmatter, summary and how it is connected;
    optionally only notes changed since `since`. Stops at `max_chars` of JSON: `truncated`
    and `next_offset` then say where to go on."""
    levels = bounded_int(depth, "depth", 1, 1, 3)
    budget = bounded_int(max_chars, "max_chars", DEFAULT_BUDGET, 500, MAX_BUDGET)
    start = bounded_int(offset, "offset", 0, 0, MAX_NOTES)
    cutoff = int(timeframes.since(since).timestamp()) if since else None
    _, filename, root = service._existing(path)
    notes = [_note(service, root, "root", None, 0, full=True)]
    seen, frontier, capped = {filename}, [root], False
    for level in range(1, levels + 1):
        following: list[PageRow] = []
        for row in frontier:
            outgoing, incoming = service.index.links(row.key)
            linked = service.index.rows_for_keys(outgoing)
            neighbours = [(linked[k], "links to") for k in outgoing if k in linked]
            neighbours += [(r, "linked from") for f in incoming if (r := service.index.page(f))]
            for other, how in neighbours:
                if other.filename in seen:
                    continue
                if len(seen) >= MAX_NOTES:
                    capped = True  # more notes than one context gathers: said in `truncated`
                    continue
                if cutoff is not None and other.updated_at < cutoff:
                    continue
                seen.add(other.filename)
                following.append(other)
                notes.append(_note(service, other, how, row.path, level))
        frontier = following
    if start == 0:  # the root's content counts toward the budget too: cut, and said so
        content = notes[0]["content"]
        room = max(0, budget - len(json.dumps({**notes[0], "content": ""}, ensure_ascii=False)))
        if len(json.dumps(content, ensure_ascii=False)) > room:
            notes[0]["content"] = content[: room // 2]  # JSON escapes may double a character
            notes[0]["content_truncated"] = True
    shown, used = [], 0
    for note in notes[start:]:
        size = len(json.dumps(note, ensure_ascii=False))
        if shown and used + size > budget:
            break
        shown.append(note)
        used += size
    end = start + len(shown)
    return {
        "path": root.path,
        "depth": levels,
        "notes": shown,
        "total": len(notes),
        "truncated": end < len(notes) or capped,
        "next_offset": end if end < len(notes) else None,
    }


def _note(
    service: WikiService, row: PageRow, how: str, via: str | None, depth: int, full: bool = False
) -> dict[str, Any]:
    content = service._read_current(row.filename)
    frontmatter, _ = split_frontmatter(content)
    note: dict[str, Any] = {
        "path": row.path,
        "title": row.name,
        "connection": how,
        "via": via,
        "depth": depth,
        "updated_at": service._summary(row)["updated_at"],
        "frontmatter": frontmatter or {},
        "summary": summary(content),
    }
    if full:
        note["content"] = content
    return note


def activity(service: WikiService, since: object, limit: object = None) -> dict[str, Any]:
    """Pages changed since `since`, most recent first: how often, by whom, lines added and
    removed, and the latest commit message; at most `limit` pages (`truncated` says so)."""
    start = timeframes.since(since)
    most = bounded_int(limit, "limit", 50, 1, 1000)
    commits = service.git.log(since=start, limit=MAX_ACTIVITY_COMMITS)
    lines = service.git.line_counts(start, MAX_ACTIVITY_COMMITS) if commits else {}
    pages: dict[str, dict[str, Any]] = {}
    for commit in commits:  # newest first
        for status, filename in commit.changes:
            if not filename.endswith(".md"):
                continue
            added, deleted = lines.get(commit.revision, {}).get(filename, (0, 0))
            entry = pages.setdefault(
                filename,
                {
                    "path": service._display(filename),
                    "changes": 0,
                    "authors": Counter(),
                    "last_changed": commit.date,
                    "latest_message": commit.message.strip().split("\n", 1)[0],
                    "deleted": status == "D",
                    "lines_added": 0,
                    "lines_removed": 0,
                },
            )
            entry["changes"] += 1
            entry["authors"][commit.author] += 1
            entry["lines_added"] += added
            entry["lines_removed"] += deleted
    entries = []
    for entry in pages.values():
        authors = [name for name, _ in entry["authors"].most_common()]
        entry["authors"] = authors
        entry["summary"] = (
            f"{'deleted' if entry['deleted'] else 'changed'}: {entry['changes']} commit(s) by "
            f"{', '.join(authors)}, +{entry['lines_added']} -{entry['lines_removed']} lines; "
            f"latest: {entry['latest_message']}"
        )
        entries.append(entry)
    return {
        "since": start.isoformat(),
        "commits": len(commits),
        "pages": entries[:most],
        "total": len(entries),
        "truncated": len(entries) > most or len(commits) >= MAX_ACTIVITY_COMMITS,
    }


def folders(service: WikiService, prefix: object = None, limit: object = None) -> dict[str, Any]:
    """Every folder (whose path starts with `prefix`) with the pages directly in it and in all
    of it; "" is the wiki's top level."""
    if prefix is not None and not isinstance(prefix, str):
        raise Invalid("prefix must be a string")
    most = bounded_int(limit, "limit", 200, 1, 1000)
    listing = service.list_pages(prefix=prefix or None)
    direct: Counter[str] = Counter()
    below: Counter[str] = Counter()
    for page in listing.pages:
        parts = page["path"].split("/")[:-1]
        direct["/".join(parts)] += 1
        for i in range(len(parts) + 1):
            below["/".join(parts[:i])] += 1
    start = (prefix or "").strip("/").lower()
    names = sorted(f for f in below if f.lower().startswith(start) and (f or not start))
    shown = [{"folder": f, "pages": direct[f], "pages_below": below[f]} for f in names[:most]]
    return {"folders": shown, "total": len(names), "truncated": len(names) > most}
