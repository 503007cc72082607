"""The page index: metadata, full text (SQLite FTS5) and the link graph of every page at one git
HEAD, stored beside the repository so every process sharing the repository shares it.

Every read first compares the recorded HEAD with the repository's HEAD and, when they differ,
catches up by reading only the commits in between (`git log old..new`), so commits made by the
web UI, another process or a `git pull` are seen on the next request. A full rebuild happens only
when there is no usable index (first start, schema or settings change, rewritten history); it is
written to a temporary file and renamed into place, so no reader ever sees half an index.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from .atomicfile import clear_leftovers, temp_path
from .frontmatter import page_category, page_tags, page_title, split_frontmatter
from .gitcli import Commit, Git
from .pagepaths import display_path, filename_for
from .plaintext import page_sections
from .repolock import FileLock
from .wikilinks import extract_links

log = logging.getLogger(__name__)
_INHERITED: list[sqlite3.Connection] = []  # connections a forked process got from its parent

SCHEMA_VERSION = "4"  # 4: one fts row per section, porter stemming, plain text
TAG_SEPARATOR = "\x1f"  # tags are stored joined: splitting is much cheaper than JSON per row
_BLOB_BATCH = 2000

_SCHEMA = """
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
    tokenize = 'porter unicode61 remove_diacritics 2', prefix = '2 3'
);
"""
# One fts row per section; its rowid is (page id << SECTION_BITS) + the section's number, so a
# page's rows are one rowid range (deleted without a scan) and a match's page is its rowid
# shifted right, without reading the row. BM25 weights: title, headings, text, page (unindexed).
SECTION_BITS = 16
WEIGHTS = "10.0, 4.0, 1.0, 0.0"
SNIPPET_TOKENS = 24
# Common English words that match nearly every page: dropped from a query that has other words,
# so "how do I configure backups" ranks by "configure backups".
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself
    yourselves""".split()
)

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


def query_words(text: str) -> list[str]:
    """The words of a query that decide its ranking: stopwords go unless there is nothing else."""
    words = re.findall(r"\w+", text)
    content = [w for w in words if w.lower() not in STOPWORDS]
    return content or words


def fts_terms(words: list[str]) -> list[str]:
    """Words as safe FTS5 terms (quoted), the last a prefix (the word being typed)."""
    terms = [f'"{w}"' for w in words]
    terms[-1] += "*"
    return terms


def any_word_query(words: list[str]) -> str:
    """Words to an FTS5 query matching sections with any of them (every word is a page-level
    condition: `_pages_with_every_word`)."""
    return " OR ".join(fts_terms(words))


class PageIndex:
    def __init__(
        self, git: Git, index_dir: str, rules: Callable[[], LinkRules], lock_timeout: float = 60.0
    ) -> None:
        self.git = git
        self.index_dir = index_dir
        self.db_path = os.path.join(index_dir, "pages.sqlite3")
        self.rules = rules
        self._lock = FileLock(os.path.join(index_dir, "pages.lock"), timeout=lock_timeout)
        self._local = threading.local()

    # -- connections ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        """A per-thread connection, reopened when another process has replaced the file, and
        never used across a fork (uWSGI builds the app in its master and forks the workers; the
        master's connection must not serve a worker, SQLite forbids it)."""
        try:
            inode = os.stat(self.db_path).st_ino
        except FileNotFoundError:
            inode = None
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid != os.getpid():
            _INHERITED.append(conn)  # the parent's: kept from closing (SQLite: never use it)
            conn = self._local.conn = None
        if conn is not None and self._local.inode == inode and inode is not None:
            return conn
        if conn is not None:
            conn.close()
            self._local.conn = None
        if inode is None:
            return None  # type: ignore[return-value]
        conn = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("PRAGMA synchronous=NORMAL")
        self._local.conn = conn
        self._local.inode = inode
        self._local.pid = os.getpid()
        return conn

    def _meta(self, conn: sqlite3.Connection | None) -> dict[str, str]:
        if conn is None:
            return {}
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            return {}

    # -- keeping up with git -------------------------------------------------------------------
    def ensure_current(self) -> str | None:
        """Bring the index to the repository's HEAD and return that HEAD."""
        head = self.git.head()
        rules = self.rules()
        meta = self._meta(self._connect())
        if meta.get("head", "") == (head or "") and meta.get("settings") == rules.fingerprint():
            return head
        with self._lock.hold():
            head = self.git.head()
            meta = self._meta(self._connect())
            recorded = meta.get("head") or None
            if meta.get("settings") != rules.fingerprint():
                reason = "no index yet" if not meta else "index settings or schema changed"
                self._rebuild(head, rules, reason)
            elif recorded != head:
                if recorded and head and self.git.is_ancestor(recorded, head):
                    self._catch_up(recorded, head, rules)
                else:
                    self._rebuild(head, rules, "history was rewritten")
        return head

    def _catch_up(
        self,
        old: str,
        new: str,
        rules: LinkRules,
        commits: list[Commit] | None = None,
        known: Mapping[str, bytes] | None = None,
    ) -> None:
        started = time.perf_counter()
        if commits is None:
            commits = self.git.log(rev_range=f"{old}..{new}")
        latest = _latest_changes(commits)
        conn = self._connect()
        conn.execute("BEGIN IMMEDIATE")
        try:
            self._apply(conn, latest, rules, known or {})
            conn.execute("UPDATE meta SET value = ? WHERE key = 'head'", (new,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        log.debug(
            "page index: caught up %d commit(s), %d file(s) in %.1f ms",
            len(commits),
            len(latest),
            (time.perf_counter() - started) * 1000,
        )

    def record(self, commit: Commit, parent: str | None, known: Mapping[str, bytes]) -> None:
        """Take in a commit this process just made on `parent`, from what the writer knows
        (`known`: contents of written files) instead of asking git; anything else catches up."""
        rules = self.rules()
        with self._lock.hold():
            meta = self._meta(self._connect())
            current = (meta.get("head") or None) == parent and self.git.head() == commit.revision
            if current and parent and meta.get("settings") == rules.fingerprint():
                self._catch_up(parent, commit.revision, rules, [commit], known)
                return
        self.ensure_current()

    def _rebuild(self, head: str | None, rules: LinkRules, reason: str) -> None:
        started = time.perf_counter()
        log.info("page index: full rebuild (%s)", reason)
        os.makedirs(self.index_dir, exist_ok=True)
        clear_leftovers(self.db_path)  # a killed rebuild's (this runs under the index's lock)
        tmp = temp_path(self.db_path)
        if os.path.exists(tmp):
            os.remove(tmp)
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.executescript(_SCHEMA)
            conn.execute("BEGIN")
            if head is not None:
                files = {p for p in self.git.ls_tree(head) if p.endswith(".md")}
                latest = _latest_changes(self.git.log(rev_range=head), only=files)
                self._apply(conn, latest, rules)
            conn.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("head", head or ""), ("settings", rules.fingerprint())],
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.replace(tmp, self.db_path)
        log.info("page index: rebuilt in %.2f s", time.perf_counter() - started)

    def _apply(
        self,
        conn: sqlite3.Connection,
        latest: dict[str, tuple[str, Commit]],
        rules: LinkRules,
        known: Mapping[str, bytes] | None = None,
    ) -> None:
        """Write the newest state of each changed markdown file into the index. Blobs are read by
        id, which is 15x faster than `<rev>:<path>` names at 10,000 pages; `known` contents need
        no reading at all."""
        known = known or {}
        names = sorted(latest)
        for start in range(0, len(names), _BLOB_BATCH):
            batch = names[start : start + _BLOB_BATCH]
            wanted = [
                n
                for n in batch
                if latest[n][0] != "D" and n in latest[n][1].blobs and n not in known
            ]
            blobs = dict(
                zip(
                    wanted, self.git.cat_blobs([latest[n][1].blobs[n] for n in wanted]), strict=True
                )
            )
            blobs.update((n, known[n]) for n in batch if n in known and latest[n][0] != "D")
            for name in batch:
                blob = blobs.get(name)
                if blob is None:
                    _delete_page(conn, name)
                else:
                    _upsert_page(
                        conn, name, blob.decode("utf-8", "replace"), latest[name][1], rules
                    )

    # -- queries -------------------------------------------------------------------------------
    def _read(self) -> sqlite3.Connection:
        self.ensure_current()
        return self._connect()

    def page(self, filename: str) -> PageRow | None:
        row = (
            self._read()
            .execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE filename = ?", (filename,))
            .fetchone()
        )
        return PageRow.from_row(row) if row else None

    def list_pages(
        self,
        *,
        prefix: str | None = None,
        category: str | None = None,
        tag: str | None = None,
        updated_since: int | None = None,
        after: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[PageRow], int]:
        """Pages in file-name order matching every given filter, and how many match in total."""
        where, args = [], []
        if prefix:
            where.append("filename >= ? AND filename < ?")
            args += [prefix, prefix + "\U0010ffff"]
        if category:
            where.append("category = ? COLLATE NOCASE")
            args.append(category)
        if tag:
            where.append("id IN (SELECT page_id FROM tags WHERE tag = ?)")
            args.append(tag.lower())
        if updated_since is not None:
            where.append("updated_at >= ?")
            args.append(updated_since)
        conn = self._read()
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        total = conn.execute(f"SELECT count(*) FROM pages{clause}", args).fetchone()[0]
        if after is not None:
            clause = f"{clause} {'AND' if where else 'WHERE'} filename > ?"
            args.append(after)
        sql = f"SELECT {PAGE_COLUMNS} FROM pages{clause} ORDER BY filename"
        if limit is not None or offset:
            sql += " LIMIT ? OFFSET ?"
            args += [-1 if limit is None else limit, offset]  # SQLite: LIMIT -1 is no limit
        return [PageRow.from_row(r) for r in conn.execute(sql, args)], total

    def search(
        self, text: str, limit: int, any_word_fallback: bool = True
    ) -> tuple[list[tuple[PageRow, str, float]], int]:
        """Pages having every word — or, when none has, any word (a question in plain words
        rarely has all its words on one page) — best first by the BM25 of their best section, so
        a focused section beats a long page's scattered mentions; each with a snippet of that
        section."""
        words = query_words(text)
        if not words:
            return [], 0
        conn = self._read()
        pages = _pages_with_every_word(conn, words)
        if pages is not None and not pages:
            if not any_word_fallback:
                return [], 0
            pages = None  # any word: every match counts
        query = any_word_query(words)
        if pages is None:
            sql = f"SELECT count(DISTINCT rowid >> {SECTION_BITS}) FROM fts WHERE fts MATCH ?"
            total = conn.execute(sql, (query,)).fetchone()[0]
        else:
            total = len(pages)
        best = _best_sections(conn, query, pages, limit)
        rows = self._rows_by_id([rowid >> SECTION_BITS for rowid, _ in best])
        snippets = _snippets(conn, query, [rowid for rowid, _ in best])
        return [
            (rows[rowid >> SECTION_BITS], snippets.get(rowid, ""), round(-rank, 6))
            for rowid, rank in best
        ], total

    def _rows_by_id(self, ids: list[int]) -> dict[int, PageRow]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        sql = f"SELECT {PAGE_COLUMNS} FROM pages WHERE id IN ({marks})"
        return {row[0]: PageRow.from_row(row) for row in self._connect().execute(sql, ids)}

    def links(self, key: str) -> tuple[list[str], list[str]]:
        """(keys this page links to, file names of pages linking to it)."""
        conn = self._read()
        outgoing = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT l.target FROM links l JOIN pages p ON p.id = l.source_id"
                " WHERE p.key = ? ORDER BY l.target",
                (key,),
            )
        ]
        incoming = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT p.filename FROM links l JOIN pages p ON p.id = l.source_id"
                " WHERE l.target = ? ORDER BY p.filename",
                (key,),
            )
        ]
        return outgoing, incoming

    def graph(self) -> tuple[list[str], list[tuple[str, str]]]:
        """(every page's and link target's key, edges as (source key, target key))."""
        conn = self._read()
        edges = conn.execute(
            "SELECT DISTINCT p.key, l.target FROM links l JOIN pages p ON p.id = l.source_id"
            " ORDER BY p.key, l.target"
        ).fetchall()
        nodes = {r[0] for r in conn.execute("SELECT key FROM pages")}
        nodes.update(t for _, t in edges)
        return sorted(nodes), [(s, t) for s, t in edges]

    def paths_for_keys(self, keys: Iterable[str]) -> dict[str, str]:
        """Display paths of existing pages by key (missing keys are left out)."""
        return {row[0]: row[1] for row in self._by_keys("key, path", keys)}

    def rows_for_keys(self, keys: Iterable[str]) -> dict[str, PageRow]:
        """Existing pages by key (missing keys are left out)."""
        rows = (PageRow.from_row(row) for row in self._by_keys(PAGE_COLUMNS, keys))
        return {row.key: row for row in rows}

    def _by_keys(self, columns: str, keys: Iterable[str]) -> list[tuple[Any, ...]]:
        keys = list(keys)
        if not keys:
            return []
        conn = self._read()
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT {columns} FROM pages WHERE key IN ({marks})"
            found += conn.execute(query, chunk).fetchall()
        return found


def _pages_with_every_word(conn: sqlite3.Connection, words: list[str]) -> set[int] | None:
    """Ids of the pages having every word, each anywhere on the page (not necessarily in one
    section); None for a one-word query, where every match has every word."""
    if len(words) < 2:
        return None
    terms = fts_terms(words)
    one = f"SELECT rowid >> {SECTION_BITS} FROM fts WHERE fts MATCH ?"
    return {r[0] for r in conn.execute(" INTERSECT ".join([one] * len(terms)), terms)}


def _best_sections(
    conn: sqlite3.Connection, query: str, pages: set[int] | None, limit: int
) -> list[tuple[int, float]]:
    """(rowid, rank) of the best section of each of the `limit` best pages (of `pages` only,
    when given), best first."""
    if pages is None:  # FTS5 ranks every match once, and reading stops at the last page needed
        sql = f"SELECT rowid, rank FROM fts WHERE fts MATCH ? AND rank MATCH 'bm25({WEIGHTS})'"
        args: tuple[object, ...] = (query,)
    else:  # only the given pages' sections are ranked (the filter runs before bm25)
        sql = (
            f"SELECT rowid, bm25(fts, {WEIGHTS}) AS rank FROM fts WHERE fts MATCH ?"
            f" AND (rowid >> {SECTION_BITS}) IN (SELECT value FROM json_each(?))"
        )
        args = (query, json.dumps(sorted(pages)))
    best: list[tuple[int, float]] = []
    seen: set[int] = set()
    with closing(conn.execute(sql + " ORDER BY rank", args)) as rows:  # an open read blocks writers
        for rowid, rank in rows:
            page = rowid >> SECTION_BITS
            if page not in seen:
                seen.add(page)
                best.append((rowid, rank))
                if len(best) >= limit:
                    break
    return best


def _snippets(conn: sqlite3.Connection, query: str, rowids: list[int]) -> dict[int, str]:
    """Words of each section's text around the query's matches, which are marked `**word**`.
    One query over the rowids' range: FTS5 reads a prefix term's matches once per query, and
    `+rowid IN` (not given to FTS5) only decides which rows get a snippet."""
    if not rowids:
        return {}
    marks = ",".join("?" * len(rowids))
    sql = (
        f"SELECT rowid, snippet(fts, 2, '**', '**', '…', {SNIPPET_TOKENS}) FROM fts"
        f" WHERE fts MATCH ? AND rowid BETWEEN ? AND ? AND +rowid IN ({marks})"
    )
    return dict(conn.execute(sql, (query, min(rowids), max(rowids), *rowids)))


def _latest_changes(
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


def _delete_page(conn: sqlite3.Connection, filename: str) -> None:
    row = conn.execute("SELECT id FROM pages WHERE filename = ?", (filename,)).fetchone()
    if row is None:
        return
    page_id = row[0]
    conn.execute("DELETE FROM pages WHERE id = ?", (page_id,))
    _unindex_text(conn, page_id)
    conn.execute("DELETE FROM tags WHERE page_id = ?", (page_id,))
    conn.execute("DELETE FROM links WHERE source_id = ?", (page_id,))


def _upsert_page(
    conn: sqlite3.Connection, filename: str, content: str, commit: Commit, rules: LinkRules
) -> None:
    frontmatter, body = split_frontmatter(content)
    title = page_title(frontmatter)
    path = display_path(filename, rules.retain_case)
    name = title or path.rsplit("/", 1)[-1]
    tags = page_tags(frontmatter)
    key = filename_for(filename[:-3], rules.retain_case)[:-3]
    values = (
        key,
        path,
        name,
        title,
        page_category(frontmatter),
        TAG_SEPARATOR.join(tags),
        len(body.split()),
        len(content.encode("utf-8")),
        commit.revision,
        commit.author,
        commit.email,
        commit.timestamp,
        commit.message,
    )
    row = conn.execute("SELECT id FROM pages WHERE filename = ?", (filename,)).fetchone()
    if row is None:
        page_id = conn.execute(
            "INSERT INTO pages (filename, key, path, name, title, category, tags, words, size,"
            " revision, author, email, updated_at, message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (filename, *values),
        ).lastrowid
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
    searchable_title = " ".join(filter(None, [name, path.replace("/", " "), title]))
    _index_text(conn, page_id, searchable_title, body)
    conn.executemany(
        "INSERT INTO tags VALUES (?, ?)", [(page_id, t) for t in {t.lower() for t in tags}]
    )
    conn.executemany(
        "INSERT INTO links VALUES (?, ?)",
        [(page_id, k) for k in extract_links(content, rules.retain_case, rules.wikilink_style)],
    )


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
