"""The page index: metadata, full text (SQLite FTS5) and the link graph of every page at one git
HEAD, stored beside the repository so every process sharing the repository shares it.

Every read first compares the recorded HEAD with the repository's HEAD and, when they differ,
catches up by reading only the commits in between (`git log old..new`), so commits made by the
web UI, another process or a `git pull` are seen on the next request. A full build happens only
when there is no usable index (first start, schema or settings change, rewritten history); it is
a resumable job (`index_build`) that requests advance within a time budget (and a background
thread, where the runtime allows one), renamed into place when complete. Until then reads answer
from the pages built so far and say so (`partial()`); a single page not built yet is read from
git, so reading and writing pages stays exact.
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
from typing import Any

from . import deadline, index_build
from .atomicfile import clear_leftovers
from .gitcli import Commit, Git
from .index_build import Progress
from .index_rows import (
    PAGE_COLUMNS,
    SCHEMA_VERSION,
    SECTION_BITS,
    LinkRules,
    PageRow,
    apply_changes,
    latest_changes,
    parse_page,
)
from .index_settings import BuildSettings
from .processthread import ProcessThread
from .repolock import FileLock

__all__ = ["LinkRules", "PageIndex", "PageRow", "Progress"]

log = logging.getLogger(__name__)
_INHERITED: list[sqlite3.Connection] = []  # connections a forked process got from its parent

BACKGROUND_SLICE = 0.5  # seconds a background build holds the index lock at a time
_UNCONTENDED = 0.05  # a request that waited longer than its budget for the lock builds nothing

# BM25 weights: title, headings, text, page (unindexed).
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
        self,
        git: Git,
        index_dir: str,
        rules: Callable[[], LinkRules],
        lock_timeout: float = 60.0,
        build: BuildSettings | None = None,
    ) -> None:
        self.git = git
        self.index_dir = index_dir
        self.db_path = os.path.join(index_dir, "pages.sqlite3")
        self.building_path = os.path.join(index_dir, "pages.building.sqlite3")
        self.rules = rules
        self.build = build or BuildSettings.from_config()
        self._lock = FileLock(os.path.join(index_dir, "pages.lock"), timeout=lock_timeout)
        self._local = threading.local()
        self._background = ProcessThread(
            self._build_in_background, "wikibot-page-index-build", again=True
        )

    # -- connections ---------------------------------------------------------------------------
    def _connect(self, path: str | None = None) -> sqlite3.Connection:
        """A per-thread connection to `path` (the index by default), reopened when another
        process has replaced the file, None when there is no file, and never used across a fork
        (uWSGI builds the app in its master and forks the workers; the master's connection must
        not serve a worker, SQLite forbids it)."""
        path = path or self.db_path
        conns: dict[str, tuple[sqlite3.Connection, int, int]] = self._local.__dict__.setdefault(
            "conns", {}
        )
        try:
            inode: int | None = os.stat(path).st_ino
        except FileNotFoundError:
            inode = None
        held = conns.get(path)
        if held is not None and held[2] != os.getpid():
            _INHERITED.append(held[0])  # the parent's: kept from closing (SQLite: never use it)
            del conns[path]
            held = None
        if held is not None and held[1] == inode:
            return held[0]
        self._close(path)
        if inode is None:
            return None  # type: ignore[return-value]
        conn = index_build.open_db(path, durable=path != self.building_path)
        conns[path] = (conn, inode, os.getpid())
        return conn

    def _close(self, path: str) -> None:
        held = self._local.__dict__.get("conns", {}).pop(path, None)
        if held is not None and held[2] == os.getpid():
            held[0].close()

    def _meta(self, conn: sqlite3.Connection | None) -> dict[str, str]:
        if conn is None:
            return {}
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.DatabaseError:
            return {}

    def _active(self) -> sqlite3.Connection:
        """The database this thread's last `ensure_current` left current: the index, or the
        build while it is incomplete (the index once another thread or process finished it)."""
        conn = self._connect(getattr(self._local, "active", None) or self.db_path)
        return conn if conn is not None else self._connect(self.db_path)

    def partial(self) -> Progress | None:
        """The build's progress when this thread's reads come from an incomplete build."""
        return getattr(self._local, "progress", None)

    # -- keeping up with git -------------------------------------------------------------------
    def ensure_current(self, budget: float | None = None, build: bool = True) -> str | None:
        """Bring the index to the repository's HEAD and return that HEAD. Without a usable
        index, advance its build for at most `budget` seconds (the step budget by default, never
        past the request's deadline; not at all without `build`: a request builds once, in its
        first call, not in each read); `partial()` then says how far it is."""
        recorded, self._local.recorded = getattr(self._local, "recorded", None), None
        head = self.git.head()
        rules = self.rules()
        meta = self._meta(self._connect())
        if meta.get("head", "") == (head or "") and meta.get("settings") == rules.fingerprint():
            self._local.active, self._local.progress = self.db_path, None
            return head
        started = time.monotonic()
        if head is not None and recorded == head:
            build = False  # the hook right after this thread's own write: it had its slice
        budget, least = self._budget(budget) if build else (0.0, 0)
        with self._lock.hold():
            if time.monotonic() - started > max(budget, _UNCONTENDED):
                least = 0  # waited while another process built: its slice was this one's
            head = self.git.head()
            reason = self._reason_to_build(head, rules)
            progress = None
            if reason is not None:
                progress = self._advance(head, rules, reason, started + budget, least)
        self._local.active = self.building_path if progress else self.db_path
        self._local.progress = progress
        return head

    def _budget(self, budget: float | None) -> tuple[float, int]:
        """(seconds to build for, build steps to run at least): a request in a process whose
        background thread builds only catches up; none past the request's deadline."""
        if budget is None:
            budget = self.build.step_budget
            if self._building_in_background():
                return 0.0, 0
        left = deadline.remaining()
        if left is not None and left - deadline.RESERVE < budget:
            return max(0.0, left - deadline.RESERVE), int(left > deadline.RESERVE)
        return budget, 1

    def _reason_to_build(self, head: str | None, rules: LinkRules) -> str | None:
        """Why the index cannot be used (None: it is current, caught up if it was behind)."""
        meta = self._meta(self._connect())
        if meta.get("settings") != rules.fingerprint():
            return "no index yet" if not meta else "index settings or schema changed"
        recorded = meta.get("head") or None
        if recorded == head:
            return None
        if recorded and head and self.git.is_ancestor(recorded, head):
            self._catch_up(self._connect(), recorded, head, rules)
            return None
        return "history was rewritten"

    def _advance(
        self, head: str | None, rules: LinkRules, reason: str, stop: float, least: int
    ) -> Progress | None:
        """Bring the build to `head`, then run build steps (at least `least`) until `stop`;
        rename it into place when complete (None) or return how far it is."""
        clear_leftovers(self.db_path)  # a killed writer's (this runs under the index lock)
        conn = self._connect(self.building_path)
        meta = self._meta(conn)
        built = meta.get("head") or None
        usable = meta.get("settings") == rules.fingerprint() and "walk_target" in meta
        if usable and built != head:
            usable = bool(built and head and self.git.is_ancestor(built, head))
            if usable:
                self._catch_up(conn, built, head, rules, building=True)
        if not usable:
            log.info("page index: full rebuild (%s)", reason)
            self._close(self.building_path)
            os.makedirs(self.index_dir, exist_ok=True)
            index_build.create(self.building_path, self.git, head, rules, reason)
            conn = self._connect(self.building_path)
        steps, done, last, commits = 0, False, 0.0, 0.0
        while not done and (steps < least or time.monotonic() + last < stop):
            began = time.monotonic()  # a step is started only if one like the last still fits
            done, committed = index_build.step(conn, self.git, rules, self.build.batch_pages)
            steps, last, commits = steps + 1, time.monotonic() - began, commits + committed
        if not done:
            index_build.record_commits(conn, commits)
            return index_build.progress(conn)
        seconds = index_build.work_seconds(conn) + commits
        index_build.finish(conn, self.building_path)
        self._close(self.building_path)
        os.replace(self.building_path, self.db_path)
        self._local.built_seconds = seconds
        log.info("page index: rebuilt in %.2f s", seconds)
        return None

    def _catch_up(
        self,
        conn: sqlite3.Connection,
        old: str | None,
        new: str,
        rules: LinkRules,
        commits: list[Commit] | None = None,
        known: Mapping[str, bytes] | None = None,
        building: bool = False,
    ) -> None:
        started = time.perf_counter()
        if commits is None:
            commits = self.git.log(rev_range=f"{old}..{new}")
        latest = latest_changes(commits)
        conn.execute("BEGIN IMMEDIATE")
        try:
            apply_changes(conn, self.git, latest, rules, known or {})
            if building:
                index_build.forget(conn, latest)
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
        (`known`: contents of written files) instead of asking git; anything else catches up.
        During a build the commit goes into the build, which keeps it when renamed into place."""
        rules = self.rules()
        with self._lock.hold():
            moved = self.git.head() == commit.revision
            for path, building in ((self.db_path, False), (self.building_path, True)):
                conn = self._connect(path)
                meta = self._meta(conn)
                if not building and meta.get("settings") != rules.fingerprint():
                    continue  # no usable index: the build takes the commit
                if not (moved and meta.get("settings") == rules.fingerprint()):
                    break
                if (meta.get("head") or None) != parent:
                    break
                self._catch_up(conn, parent, commit.revision, rules, [commit], known, building)
                self._local.recorded = commit.revision  # the write has had its build slice
                return
        self.ensure_current(build=False)

    def build_to_end(self, report: Callable[[Progress], None]) -> float:
        """Run the build until the index is complete (`wikibot index`), reporting progress after
        each step; returns the build's seconds of work (0 when there was nothing to build)."""
        self._local.built_seconds = 0.0
        while True:
            self.ensure_current(budget=0.0)  # one step
            progress = self.partial()
            if progress is None:
                return float(self._local.built_seconds)
            report(progress)

    def state(self) -> dict[str, Any]:
        """What `wikibot status` prints, read without building or catching up anything. The
        naming settings are those the files record (the app compares them with its own on its
        next read)."""
        head = self.git.head()
        conn = self._connect()
        meta = self._meta(conn)
        answer: dict[str, Any] = {
            "status": "not built",
            "repository_head": head,
            "index_head": meta.get("head") or None,
            "pages": conn.execute("SELECT count(*) FROM pages").fetchone()[0] if meta else 0,
            "built_for": _settings_of(meta),
            "file": self.db_path,
        }
        if meta and json.loads(meta.get("settings") or "[null]")[0] == SCHEMA_VERSION:
            current = answer["index_head"] == (head or None)
            answer["status"] = "complete" if current else "behind (caught up on the next read)"
        elif meta:
            answer["status"] = "rebuild needed (schema changed)"
        building = self._connect(self.building_path)
        job = self._meta(building)
        if "walk_target" in job and job.get("settings") != meta.get("settings"):
            answer["status"] = "building"
            answer["building"] = {
                **index_build.progress(building).as_dict(),
                "head": job.get("head") or None,
                "built_for": _settings_of(job),
                "work_seconds": round(index_build.work_seconds(building), 2),
            }
        return answer

    # -- building off the request path ---------------------------------------------------------
    def _building_in_background(self) -> bool:
        return self._background.running_beside()

    def _continue_in_background(self) -> None:
        """Once per process, after a request found the build incomplete: a thread goes on with
        it (never on Lambda, which freezes an instance between requests; never at app setup,
        since uWSGI forks its workers after that and threads do not survive a fork)."""
        if self.build.background:
            self._background.start()

    def _build_in_background(self) -> None:
        try:
            while True:
                self.ensure_current(BACKGROUND_SLICE)
                if self.partial() is None:
                    return
                time.sleep(0.01)  # requests waiting for the index lock get their turn
        except Exception:  # noqa: BLE001 - requests go on building; the log says why this stopped
            log.exception("page index: background build stopped")

    # -- queries -------------------------------------------------------------------------------
    def _read(self) -> sqlite3.Connection:
        self.ensure_current(build=False)
        if self.partial() is not None:
            self._continue_in_background()
        return self._active()

    def page(self, filename: str) -> PageRow | None:
        """The page's row; during a build, a page not built yet is read from git."""
        conn = self._read()
        row = conn.execute(f"SELECT {PAGE_COLUMNS} FROM pages WHERE filename = ?", (filename,))
        found = row.fetchone()
        if found is not None:
            return PageRow.from_row(found)
        return self._unbuilt_page(conn, filename) if self.partial() else None

    def _unbuilt_page(self, conn: sqlite3.Connection, filename: str) -> PageRow | None:
        """A page the build has not reached: from its blob and its last commit (known once the
        build has read the history that far, else asked of git)."""
        job = index_build.pending(conn, filename)
        if job is None:
            return None  # the build is at HEAD: a file it has nothing left for does not exist
        blob, commit = job
        if commit is None:
            head = self._meta(conn).get("head") or None
            found = self.git.log(rev_range=head, paths=[filename], limit=1, with_changes=False)
            if not found:
                return None
            commit = found[0]
        content = self.git.cat_blobs([blob])[0]
        if content is None:
            return None
        return parse_page(filename, content.decode("utf-8", "replace"), commit, self.rules()).row

    # -- queries -------------------------------------------------------------------------------
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
        return {row[0]: PageRow.from_row(row) for row in self._active().execute(sql, ids)}

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


def _settings_of(meta: Mapping[str, str]) -> dict[str, Any] | None:
    """The naming settings an index file was built with (`LinkRules.fingerprint`)."""
    if "settings" not in meta:
        return None
    schema, retain_case, style = json.loads(meta["settings"])
    return {"schema": schema, "RETAIN_PAGE_NAME_CASE": retain_case, "WIKILINK_STYLE": style}


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
