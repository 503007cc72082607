"""The page index's full build as a resumable job, so no request waits for a whole build.

The job lives in its own SQLite file (`pages.building.sqlite3`) beside the index: the index's
tables plus the work left. It starts at one commit (its target): every markdown file there goes
to `job_walk`; walking the first-parent history back from the target (a chunk of commits per
step) finds each file's last commit and moves it to `job_todo`; each later step indexes a batch
of `job_todo` in one transaction. Any process holding the index lock can run the next step,
and a killed one leaves the last committed batch. Commits made meanwhile are caught up into the
job like into a finished index (and taken off the work left), so the job's rows are always at
the repository's HEAD; when nothing is left, the file is renamed over the index.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .gitcli import Commit, Git
from .index_rows import SCHEMA, LinkRules, upsert_page

log = logging.getLogger(__name__)

WALK_COMMITS = 2000  # commits of history read per walk step
_JOB_SCHEMA = """
CREATE TABLE job_walk (filename TEXT PRIMARY KEY, blob TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE job_todo (filename TEXT PRIMARY KEY, blob TEXT NOT NULL, revision TEXT NOT NULL)
    WITHOUT ROWID;
CREATE TABLE job_commits (
    revision TEXT PRIMARY KEY, author TEXT, email TEXT, timestamp INTEGER, message TEXT
) WITHOUT ROWID;
"""
_JOB_KEYS = ("walk_target", "walk_position", "reason", "started_at", "work_s")


@dataclass(frozen=True)
class Progress:
    """How far a build is: pages indexed of the pages known so far."""

    indexed: int
    total: int
    phase: str  # "reading history" or "indexing pages"
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "indexed": self.indexed,
            "total": self.total,
            "phase": self.phase,
            "reason": self.reason,
        }


def open_db(path: str, durable: bool = True) -> sqlite3.Connection:
    """A connection to an index file; a build's (not `durable`) is not synced per batch: a
    process killed mid-batch still leaves the last batch (the journal), and a file a power loss
    corrupted is unreadable, so the build starts again (`finish` syncs it before it is used)."""
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    conn.execute("PRAGMA journal_mode=DELETE")  # WAL's shared memory is unsafe on EFS/NFS
    conn.execute(f"PRAGMA synchronous={'NORMAL' if durable else 'OFF'}")
    conn.execute("PRAGMA cache_size=-32768")  # 32 MB: a build batch's FTS pages stay in memory
    return conn


def create(path: str, git: Git, head: str | None, rules: LinkRules, reason: str) -> None:
    """A new job at `head` (any earlier job's file is replaced)."""
    for leftover in (path, path + "-journal"):
        if os.path.exists(leftover):
            os.remove(leftover)
    conn = open_db(path)
    try:
        conn.executescript(SCHEMA + _JOB_SCHEMA)
        conn.execute("BEGIN")
        files = (
            {p: oid for p, oid in git.ls_tree(head).items() if p.endswith(".md")} if head else {}
        )
        conn.executemany("INSERT INTO job_walk VALUES (?, ?)", sorted(files.items()))
        meta = {
            "head": head or "",
            "settings": rules.fingerprint(),
            "walk_target": head or "",
            "walk_position": "0",
            "reason": reason,
            "started_at": str(int(time.time())),
            "work_s": "0",
        }
        conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        conn.execute("COMMIT")
    finally:
        conn.close()


def forget(conn: sqlite3.Connection, filenames: Iterable[str]) -> None:
    """Take files a catch-up has just indexed (or deleted) off the work left."""
    names = [(n,) for n in filenames]
    conn.executemany("DELETE FROM job_walk WHERE filename = ?", names)
    conn.executemany("DELETE FROM job_todo WHERE filename = ?", names)


def pending(conn: sqlite3.Connection, filename: str) -> tuple[str, Commit | None] | None:
    """(blob, its last commit when known yet) of a file the job has not indexed; None if the
    job has nothing left to do for it."""
    row = conn.execute(
        "SELECT t.blob, c.revision, c.author, c.email, c.timestamp, c.message FROM job_todo t"
        " JOIN job_commits c ON c.revision = t.revision WHERE t.filename = ?",
        (filename,),
    ).fetchone()
    if row is not None:
        return row[0], Commit(*row[1:])
    row = conn.execute("SELECT blob FROM job_walk WHERE filename = ?", (filename,)).fetchone()
    return (row[0], None) if row is not None else None


def step(conn: sqlite3.Connection, git: Git, rules: LinkRules, batch: int) -> tuple[bool, float]:
    """One bounded piece of work in one transaction: (nothing is left, seconds its commit took,
    which FTS5 spends writing its new segment; `record_commits` adds them to the work)."""
    started = time.perf_counter()
    conn.execute("BEGIN IMMEDIATE")
    try:
        if conn.execute("SELECT 1 FROM job_walk LIMIT 1").fetchone() is not None:
            _walk(conn, git)
        else:
            _index_batch(conn, git, rules, batch)
        spent = time.perf_counter() - started
        conn.execute("UPDATE meta SET value = value + ? WHERE key = 'work_s'", (spent,))
        committing = time.perf_counter()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return _left(conn) == 0, time.perf_counter() - committing


def record_commits(conn: sqlite3.Connection, seconds: float) -> None:
    """Add the commits of a run of steps to the build's work (a transaction cannot count its
    own commit): one small write per run, not per step. Only a statistic: a busy file skips it."""
    try:
        conn.execute("UPDATE meta SET value = value + ? WHERE key = 'work_s'", (seconds,))
    except sqlite3.OperationalError as e:
        log.info("page index: build time not recorded (%s)", e)


def _left(conn: sqlite3.Connection) -> int:
    walk = conn.execute("SELECT count(*) FROM job_walk").fetchone()[0]
    return walk + conn.execute("SELECT count(*) FROM job_todo").fetchone()[0]


def _walk(conn: sqlite3.Connection, git: Git) -> None:
    """Read the next chunk of history; each file still walked for gets the newest commit that
    changed it. Position n is the target's n-th first-parent ancestor (`target~n`): the chunk
    starts one commit before it, which always exists, and drops it."""
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    target, position = meta["walk_target"], int(meta["walk_position"])
    rev = target if position == 0 else f"{target}~{position - 1}"
    commits = git.log(rev_range=rev, limit=WALK_COMMITS + (position > 0))[position > 0 :]
    wanted = dict(conn.execute("SELECT filename, blob FROM job_walk"))
    found: list[tuple[str, str, str]] = []
    used: dict[str, Commit] = {}
    for commit in commits:
        for _, path in commit.changes:
            blob = wanted.pop(path, None)
            if blob is not None:
                found.append((path, blob, commit.revision))
                used[commit.revision] = commit
        if not wanted:
            break
    if len(commits) < WALK_COMMITS and wanted:  # history ended: never on a consistent repository
        for path, blob in wanted.items():
            last = git.log(rev_range=target, paths=[path], limit=1, with_changes=False)
            if last:
                found.append((path, blob, last[0].revision))
                used[last[0].revision] = last[0]
        log.warning("page index: %d file(s) had no change on the first-parent path", len(wanted))
        wanted = {}
    conn.executemany(
        "INSERT OR IGNORE INTO job_commits VALUES (?, ?, ?, ?, ?)",
        [(c.revision, c.author, c.email, c.timestamp, c.message) for c in used.values()],
    )
    conn.executemany("INSERT OR REPLACE INTO job_todo VALUES (?, ?, ?)", found)
    conn.executemany("DELETE FROM job_walk WHERE filename = ?", [(f,) for f, _, _ in found])
    conn.execute(
        "UPDATE meta SET value = ? WHERE key = 'walk_position'", (str(position + len(commits)),)
    )


def _index_batch(conn: sqlite3.Connection, git: Git, rules: LinkRules, batch: int) -> None:
    rows = conn.execute(
        "SELECT t.filename, t.blob, c.revision, c.author, c.email, c.timestamp, c.message"
        " FROM job_todo t JOIN job_commits c ON c.revision = t.revision"
        " ORDER BY t.filename LIMIT ?",
        (batch,),
    ).fetchall()
    blobs = git.cat_blobs([r[1] for r in rows])
    for row, blob in zip(rows, blobs, strict=True):
        if blob is not None:  # a blob gone from the object store: the catch-up will see to it
            upsert_page(conn, row[0], blob.decode("utf-8", "replace"), Commit(*row[2:]), rules)
    conn.executemany("DELETE FROM job_todo WHERE filename = ?", [(r[0],) for r in rows])


def progress(conn: sqlite3.Connection) -> Progress:
    meta = dict(conn.execute("SELECT key, value FROM meta"))
    indexed = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
    walking = conn.execute("SELECT 1 FROM job_walk LIMIT 1").fetchone() is not None
    return Progress(
        indexed=indexed,
        total=indexed + _left(conn),
        phase="reading history" if walking else "indexing pages",
        reason=meta.get("reason", ""),
    )


def work_seconds(conn: sqlite3.Connection) -> float:
    row = conn.execute("SELECT value FROM meta WHERE key = 'work_s'").fetchone()
    return float(row[0]) if row else 0.0


def finish(conn: sqlite3.Connection, path: str) -> None:
    """Drop the job's own tables and keys (what is left is an index like any other) and sync the
    file, which is about to become the index."""
    conn.executescript(
        "DROP TABLE job_walk; DROP TABLE job_todo; DROP TABLE job_commits;"
        f" DELETE FROM meta WHERE key IN ({','.join(repr(k) for k in _JOB_KEYS)});"
    )
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
