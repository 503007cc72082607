"""State of the local OAuth server: registered clients, approvals waiting for a person, codes and
tokens, one row each in a SQLite database (in memory when no path is configured).

A change touches its own rows, so its cost does not grow with the number of clients or tokens
(the JSON file this replaces was rewritten whole on every step: 0.11-0.15 s at 11.7 MB). Several
processes may share the file (workers, a restart while another runs): WAL journal, a busy
timeout, and every change in one `BEGIN IMMEDIATE` transaction. The file is created 0600.

Tokens and codes are keyed by SHA-256 digests, so the database holds nothing a caller could
present. Entries with an `expires_at` in the past are dropped as changes happen (by index).
The approval page's count of wrong keys per address and per client is a table of its own here
(`attempts.py`), so every process sharing the file shares the count.

A configured path ending in `.json` names the old state file: the database is kept beside it
(`mcp-oauth.json` -> `mcp-oauth.sqlite3`), and the file, if present, is read into it once and
renamed `<name>.json.migrated`, so a deployed wiki keeps its clients and tokens.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import threading
import time
from typing import Any

SECTIONS = ("clients", "pending", "codes", "access", "refresh")
Entry = dict[str, Any]
SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    section TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at REAL,
    origin TEXT,
    used_at REAL,
    PRIMARY KEY (section, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entries_expiry ON entries (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_origin ON entries (origin) WHERE origin IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_used ON entries (section, used_at);
CREATE INDEX IF NOT EXISTS entries_account ON entries (json_extract(value, '$.identity.email'))
    WHERE section = 'refresh';
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS attempts (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    window_start REAL NOT NULL,
    locked_until REAL NOT NULL,
    strikes INTEGER NOT NULL,
    expires_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attempts_expiry ON attempts (expires_at);
"""


def database_path(path: str) -> str:
    """Where the database for a configured state path lives."""
    return path[: -len(".json")] + ".sqlite3" if path.endswith(".json") else path


def _columns(section: str, value: Entry) -> tuple[Any, Any, Any]:
    """The indexed columns of an entry: its expiry, the grant it belongs to (a token's code
    digest) and, for a client, when it was last used (or registered)."""
    used = None
    if section == "clients":
        used = value.get("last_used", value.get("client_id_issued_at"))
    return value.get("expires_at"), value.get("origin"), used


class Transaction:
    """Row operations inside one store transaction."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def get(self, section: str, key: str) -> Entry | None:
        row = self.db.execute(
            "SELECT value FROM entries WHERE section = ? AND key = ?", (section, key)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, section: str, key: str, value: Entry) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?, ?, ?)",
            (section, key, json.dumps(value, sort_keys=True), *_columns(section, value)),
        )

    def pop(self, section: str, key: str) -> Entry | None:
        found = self.get(section, key)
        if found is not None:
            self.db.execute("DELETE FROM entries WHERE section = ? AND key = ?", (section, key))
        return found

    def drop_grant(self, origin: str) -> int:
        """Every token whose grant began with the code of digest `origin`."""
        return self.db.execute(
            "DELETE FROM entries WHERE origin = ? AND section IN ('access', 'refresh')", (origin,)
        ).rowcount

    def grants_of(self, email: str) -> list[Entry]:
        """The live refresh entries (one per grant) of the wiki account `email`, newest first;
        each names its grant (`origin`)."""
        rows = self.db.execute(
            "SELECT value FROM entries WHERE section = 'refresh' "
            "AND json_extract(value, '$.identity.email') = ? AND expires_at >= ?",
            (email, time.time()),
        ).fetchall()
        found = [json.loads(row[0]) for row in rows]
        return sorted(
            (g for g in found if g.get("identity", {}).get("account")),
            key=lambda g: -float(g.get("expires_at", 0)),
        )

    def drop_unused_clients(self, before: float) -> int:
        """Registrations last used (or registered, if never used) before `before`."""
        return self.db.execute(
            "DELETE FROM entries WHERE section = 'clients' AND used_at < ?", (before,)
        ).rowcount


class OAuthStore:
    def __init__(self, path: str | None = None, busy_timeout: float = 10.0) -> None:
        self.path = database_path(os.path.abspath(path)) if path else None
        self._lock = threading.RLock()  # one connection per store, shared by this process
        self._db = self._connect(busy_timeout)
        if path and path.endswith(".json"):
            self._migrate(os.path.abspath(path))

    def _connect(self, busy_timeout: float) -> sqlite3.Connection:
        if self.path is None:
            target = ":memory:"
        else:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))  # SQLite keeps the mode
            target = self.path
        db = sqlite3.connect(
            target, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        if self.path is not None:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} COMMIT;")
        return db

    def _migrate(self, legacy: str) -> None:
        """Read the old JSON state file into the database once, then rename it."""
        with self.transaction() as tx:
            done = tx.db.execute("SELECT 1 FROM meta WHERE name = 'migrated'").fetchone()
            if not done and os.path.exists(legacy):
                with open(legacy, encoding="utf-8") as f:
                    state = json.load(f)
                now = time.time()
                for section in SECTIONS:
                    for key, value in (state.get(section) or {}).items():
                        if (value.get("expires_at") or now + 1) >= now:
                            tx.put(section, key, value)
                tx.db.execute("INSERT INTO meta VALUES ('migrated', ?)", (legacy,))
        if os.path.exists(legacy):
            os.replace(legacy, legacy + ".migrated")

    def secret(self, name: str) -> bytes:
        """A random secret made once and shared by every process of this store (the key of the
        approval forms' CSRF tokens)."""
        with self.transaction() as tx:
            tx.db.execute(
                "INSERT OR IGNORE INTO meta VALUES (?, ?)",
                (f"secret:{name}", secrets.token_hex(32)),
            )
            row = tx.db.execute("SELECT value FROM meta WHERE name = ?", (f"secret:{name}",))
            return bytes.fromhex(row.fetchone()[0])

    def get(self, section: str, key: str) -> Entry | None:
        """One entry, e.g. a token's grant by its digest."""
        with self._lock:
            return Transaction(self._db).get(section, key)

    def read(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        """The rows of one query, read without a write lock."""
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def transaction(self) -> InTransaction:
        """Changes that happen together or not at all, and that no other process interleaves
        with; expired entries go at the end."""
        return InTransaction(self._db, self._lock)

    def close(self) -> None:
        with self._lock:
            self._db.close()


class InTransaction:
    """`with store.transaction() as tx:`: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK when the
    block raises. A class, not a generator context manager: contextlib sets the traceback on
    the exception it re-raises, which fails for the MCP SDK's errors (frozen dataclasses) and
    turned a refused token request into a 500."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self.db, self.lock = db, lock

    def __enter__(self) -> Transaction:
        self.lock.acquire()
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self.lock.release()
            raise
        return Transaction(self.db)

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        try:
            if kind is None:
                try:
                    self.db.execute("DELETE FROM entries WHERE expires_at < ?", (time.time(),))
                    self.db.execute("COMMIT")
                except BaseException:
                    self.db.execute("ROLLBACK")
                    raise
            else:
                self.db.execute("ROLLBACK")
        finally:
            self.lock.release()
