"""How one page becomes rows of the page index: its metadata, one full-text row per section,
its tags and its links. Shared by the catch-up (a few changed pages) and the first build (every
page, in batches), so both write exactly the same rows."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from .frontmatter import page_category, page_tags, page_title, split_frontmatter
from .gitcli import Commit, Git
from .pagepaths import display_path, filename_for
from .plaintext import page_sections
from .wikilinks import extract_links

# 4: one fts row per section, porter stemming, plain text; 5: no index of 2-letter prefixes
SCHEMA_VERSION = "5"
TAG_SEPARATOR = "\x1f"  # tags are stored joined: splitting is much cheaper than JSON per row
BLOB_BATCH = 2000

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    filename TEXT NOT NULL UNIQUE,
    key TEXT NOT NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    title TEXT,
    category TEXT,
    tags TEXT NOT NULL,
    words INTEGER NOT NULL,
    size INTEGER NOT NULL,
    revision TEXT NOT NULL,
    author TEXT NOT NULL,
    email TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX pages_key ON pages(key);
CREATE INDEX pages_category ON pages(category COLLATE NOCASE);
CREATE INDEX pages_updated ON pages(updated_at);
CREATE TABLE tags (page_id INTEGER NOT NULL, tag TEXT NOT NULL);
CREATE INDEX tags_tag ON tags(tag, page_id);
CREATE INDEX tags_page ON tags(page_id);
CREATE TABLE links (source_id INTEGER NOT NULL, target TEXT NOT NULL);
CREATE INDEX links_target ON links(target);
CREATE INDEX links_source ON links(source_id);
CREATE VIRTUAL TABLE fts USING fts5(
    title, headings, text, page UNINDEXED,
    tokenize = 'porter unicode61 remove_diacritics 2', prefix = '3'
);
"""
# The last query word is a prefix: an index of 3-letter prefixes makes a 3-letter one three times
# faster to match; one of 2-letter prefixes cost a fifth of the first build (every token adds to
# a handful of huge lists) and made 2-letter ones 7-45 % faster at 10,000 pages (ranking their
# many matches is most of their cost).
# One fts row per section; its rowid is (page id << SECTION_BITS) + the section's number, so a
# page's rows are one rowid range (deleted without a scan) and a match's page is its rowid
# shifted right, without reading the row.
SECTION_BITS = 16

PAGE_COLUMNS = (
    "id, filename, key, path, name, title, category, tags, words, size, revision, author, email,"
    " updated_at, message"
)


@dataclass(frozen=True)
class LinkRules:
    """Otterwiki settings that decide file names and link targets; part of the index identity."""

    retain_case: bool
    wikilink_style: str

    def fingerprint(self) -> str:
        return json.dumps([SCHEMA_VERSION, self.retain_case, self.wikilink_style.upper()])


@dataclass
class PageRow:
    id: int
    filename: str
    key: str
    path: str
    name: str
    title: str | None
    category: str | None
    tags: list[str]
    words: int
    size: int
    revision: str
    author: str
    email: str
    updated_at: int
    message: str

    @classmethod
    def from_row(cls, row: sqlite3.Row | tuple) -> PageRow:
        values = list(row)
        values[7] = values[7].split(TAG_SEPARATOR) if values[7] else []
        return cls(*values)


@dataclass(frozen=True)
class ParsedPage:
    """A page's row (id 0: not stored) with the text and links that go beside it."""

    row: PageRow
    body: str
    links: list[str]


def parse_page(filename: str, content: str, commit: Commit, rules: LinkRules) -> ParsedPage:
    """A page as the index records it, from its text and the last commit that changed it."""
    frontmatter, body = split_frontmatter(content)
    title = page_title(frontmatter)
    path = display_path(filename, rules.retain_case)
    row = PageRow(
        id=0,
        filename=filename,
        key=filename_for(filename[:-3], rules.retain_case)[:-3],
        path=path,
        name=title or path.rsplit("/", 1)[-1],
        title=title,
        category=page_category(frontmatter),
        tags=page_tags(frontmatter),
        words=len(body.split()),
        size=len(content.encode("utf-8")),
        revision=commit.revision,
        author=commit.author,
        email=commit.email,
        updated_at=commit.timestamp,
        message=commit.message,
    )
    links = extract_links(content, rules.retain_case, rules.wikilink_style)
    return ParsedPage(row, body, sorted(links))


def apply_changes(
    conn: sqlite3.Connection,
    git: Git,
    latest: Mapping[str, tuple[str, Commit]],
    rules: LinkRules,
    known: Mapping[str, bytes] | None = None,
) -> None:
    """Write the newest state of each changed markdown file into the index. Blobs are read by
    id, which is 15x faster than `<rev>:<path>` names at 10,000 pages; `known` contents need
    no reading at all."""
    known = known or {}
    names = sorted(latest)
    for start in range(0, len(names), BLOB_BATCH):
        batch = names[start : start + BLOB_BATCH]
        wanted = [
            n for n in batch if latest[n][0] != "D" and n in latest[n][1].blobs and n not in known
        ]
        blobs = dict(
            zip(wanted, git.cat_blobs([latest[n][1].blobs[n] for n in wanted]), strict=True)
        )
        blobs.update((n, known[n]) for n in batch if n in known and latest[n][0] != "D")
        for name in batch:
            blob = blobs.get(name)
            if blob is None:
                delete_page(conn, name)
            else:
                upsert_page(conn, name, blob.decode("utf-8", "replace"), latest[name][1], rules)


def latest_changes(
    commits: list[Commit], only: set[str] | None = None
) -> dict[str, tuple[str, Commit]]:
    """For each markdown file, its newest change and the commit that made it."""
    latest: dict[str, tuple[str, Commit]] = {}
    for commit in commits:
        for status, path in commit.changes:
            if not path.endswith(".md") or path in latest:
                continue
            if only is not None and path not in only:
                continue
            latest[path] = (status, commit)
        if only is not None and len(latest) == len(only):
            break
    return latest


def delete_page(conn: sqlite3.Connection, filename: str) -> None:
    row = conn.execute("SELECT id FROM pages WHERE filename = ?", (filename,)).fetchone()
    if row is None:
        return
    page_id = row[0]
    conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
    _unindex_text(conn, page_id)
    conn.execute("DELETE FROM tags WHERE page_id = ?", (page_id,))
    conn.execute("DELETE FROM links WHERE source_id = ?", (page_id,))


def upsert_page(
    conn: sqlite3.Connection, filename: str, content: str, commit: Commit, rules: LinkRules
) -> None:
    parsed = parse_page(filename, content, commit, rules)
    r = parsed.row
    values = (
        r.key, r.path, r.name, r.title, r.category, TAG_SEPARATOR.join(r.tags), r.words, r.size,
        r.revision, r.author, r.email, r.updated_at, r.message,
    )  # fmt: skip
    row = conn.execute("SELECT id FROM pages WHERE filename = ?", (filename,)).fetchone()
    if row is None:
        page_id = conn.execute(
            "INSERT INTO pages (filename, key, path, name, title, category, tags, words, size,"
            " revision, author, email, updated_at, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (filename, *values),
        ).lastrowid
        assert page_id is not None
    else:
        page_id = row[0]
        conn.execute(
            "UPDATE pages SET key=?, path=?, name=?, title=?, category=?, tags=?, words=?, size=?,"
            " revision=?, author=?, email=?, updated_at=?, message=? WHERE id = ?",
            (*values, page_id),
        )
        _unindex_text(conn, page_id)
        conn.execute("DELETE FROM tags WHERE page_id = ?", (page_id,))
        conn.execute("DELETE FROM links WHERE source_id = ?", (page_id,))
    searchable_title = " ".join(filter(None, [r.name, r.path.replace("/", " "), r.title]))
    _index_text(conn, page_id, searchable_title, parsed.body)
    conn.executemany(
        "INSERT INTO tags VALUES (?, ?)", [(page_id, t) for t in {t.lower() for t in r.tags}]
    )
    conn.executemany("INSERT INTO links VALUES (?, ?)", [(page_id, k) for k in parsed.links])


def _index_text(conn: sqlite3.Connection, page_id: int, title: str, body: str) -> None:
    """One fts row per section of the page, each carrying the page's title words."""
    first = page_id << SECTION_BITS
    conn.executemany(
        "INSERT INTO fts (rowid, title, headings, text, page) VALUES (?, ?, ?, ?, ?)",
        [
            (first + number, title, section.trail, section.text, page_id)
            for number, section in enumerate(page_sections(body, 1 << SECTION_BITS))
        ],
    )


def _unindex_text(conn: sqlite3.Connection, page_id: int) -> None:
    """Remove every section of the page: its rows are one rowid range."""
    first = page_id << SECTION_BITS
    conn.execute(
        "DELETE FROM fts WHERE rowid BETWEEN ? AND ?", (first, first + (1 << SECTION_BITS) - 1)
    )
