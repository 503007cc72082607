"""Thin, fast access to the git command line for one repository.

GitPython's index handling rewrites the whole index in Python on every commit (about 300 ms at
10,000 pages); the git binary does the same work in a few milliseconds, so the service layer's
reads of history and its commits go through here.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .errors import Busy, Invalid, NotFound

REVISION_RE = re.compile(r"\A(?:HEAD|[0-9a-fA-F]{4,64})\Z")
_BASE_ARGS = [
    "-c",
    "core.quotepath=off",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "gc.auto=0",
    "-c",
    "maintenance.auto=false",  # `git commit` would start `maintenance run --auto` otherwise
]


class GitFailed(Exception):
    def __init__(self, args: list[str], code: int, stderr: str) -> None:
        super().__init__(f"git {' '.join(args[:3])} failed ({code}): {stderr.strip()[:500]}")
        self.stderr = stderr


@dataclass
class Commit:
    revision: str
    author: str
    email: str
    timestamp: int
    message: str
    changes: list[tuple[str, str]] = field(default_factory=list)  # (status letter, path)
    blobs: dict[str, str] = field(default_factory=dict)  # path -> blob id after this commit

    @property
    def date(self) -> str:
        return datetime.fromtimestamp(self.timestamp, UTC).isoformat()

    def summary(self) -> dict[str, str]:
        return {
            "revision": self.revision,
            "author": self.author,
            "date": self.date,
            "message": self.message.strip(),
        }


def check_revision(revision: object) -> str:
    """Accept only a hex commit id (4 to 64 digits) or HEAD, like Otterwiki; nothing git could
    read as an option or an expression."""
    if not isinstance(revision, str) or not REVISION_RE.match(revision):
        raise Invalid("revision must be a hexadecimal commit id (at least 4 digits) or HEAD")
    return revision


class Git:
    """The git binary, run in one repository's working tree."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.git_dir = os.path.join(self.path, ".git")

    def _exec(
        self, args: tuple[str, ...], input: bytes | None, env: dict[str, str] | None
    ) -> subprocess.CompletedProcess[bytes]:
        full_env = {
            **os.environ,
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_LITERAL_PATHSPECS": "1",  # page names may contain * [ ] which are not globs
            "LC_ALL": "C",
            **(env or {}),
        }
        return subprocess.run(
            ["git", *_BASE_ARGS, *args],
            cwd=self.path,
            input=input,
            capture_output=True,
            env=full_env,
        )

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: dict[str, str] | None = None,
        ok_codes: tuple[int, ...] = (0,),
    ) -> bytes:
        proc = self._exec(args, input, env)
        if proc.returncode not in ok_codes:
            stderr = proc.stderr.decode("utf-8", "replace")
            if "index.lock" in stderr:
                raise Busy("the git index is locked by another process; retry shortly")
            raise GitFailed(list(args), proc.returncode, stderr)
        return proc.stdout

    # -- refs --------------------------------------------------------------------------------
    def head(self) -> str | None:
        """HEAD's commit id, read straight from the ref files (no subprocess), None if unborn."""
        try:
            with open(os.path.join(self.git_dir, "HEAD"), encoding="utf-8") as f:
                head = f.read().strip()
        except FileNotFoundError:
            return None
        if not head.startswith("ref:"):
            return head or None
        ref = head[4:].strip()
        try:
            with open(os.path.join(self.git_dir, ref), encoding="utf-8") as f:
                return f.read().strip() or None
        except (FileNotFoundError, IsADirectoryError):
            pass
        try:
            with open(os.path.join(self.git_dir, "packed-refs"), encoding="utf-8") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2 and parts[1] == ref:
                        return parts[0]
        except FileNotFoundError:
            pass
        return None

    def resolve(self, revision: str) -> str:
        """Full commit id of a revision, NotFound if there is no such commit."""
        check_revision(revision)
        out = self.run(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{revision}^{{commit}}",
            ok_codes=(0, 1, 128),
        )
        sha = out.decode().strip()
        if not sha:
            raise NotFound(f"unknown revision {revision!r}")
        return sha

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self._exec(("merge-base", "--is-ancestor", older, newer), None, None).returncode == 0

    # -- history -----------------------------------------------------------------------------
    def log(
        self,
        *,
        rev_range: str | None = None,
        paths: list[str] | None = None,
        limit: int | None = None,
        with_changes: bool = True,
        follow: bool = False,
        since: datetime | None = None,
    ) -> list[Commit]:
        """Commits newest first. Merges are shown against their first parent, so every change that
        reached the branch is attributed to a commit on it."""
        # record and field markers with a random part: no message or author name can contain them
        token = secrets.token_hex(8)
        rs, fs = f"\x1e{token}", f"\x1f{token}"
        args = ["log", "-z", f"--format={rs}%H{fs}%an{fs}%ae{fs}%at{fs}%B{fs}", "--first-parent"]
        if with_changes:
            args += ["-m", "--raw", "--no-abbrev", "--no-renames"]
        if follow:
            args.append("--follow")
        if limit is not None:
            args.append(f"--max-count={limit}")
        if since is not None:
            args.append(f"--since={since.isoformat()}")
        args.append(rev_range or "HEAD")
        args.append("--")
        args += paths or []
        if self.head() is None:
            return []
        return parse_log(self.run(*args).decode("utf-8", "surrogateescape"), rs, fs)

    def followed(self, path: str) -> set[str]:
        """The commits `git log --follow` may list for `path` that belong to it: --follow also
        continues through a copy (a new file much like an existing one, "C" status: a page made
        from another page or a template would show that page's history). The history stops at
        the copy, which is where the file was created."""
        out = self.run(
            "log",
            "--first-parent",
            "--follow",
            "--name-status",
            "-z",
            "--format=%x00%H",
            "HEAD",
            "--",
            path,
        ).decode("utf-8", "surrogateescape")
        kept: set[str] = set()
        for token in out.split("\0"):
            token = token.strip("\n")
            if re.fullmatch(r"[0-9a-f]{40,64}", token):
                kept.add(token)
            elif re.fullmatch(r"C[0-9]*", token) and kept:
                return kept  # the last commit copied the file from elsewhere: nothing older
        return kept

    def line_counts(self, since: datetime, limit: int) -> dict[str, dict[str, tuple[int, int]]]:
        """{commit: {path: (lines added, lines deleted)}} of the newest `limit` commits since
        `since` (binary files count 0)."""
        if self.head() is None:
            return {}
        out = self.run(
            "log",
            "--first-parent",
            "-m",
            "--no-renames",
            "--numstat",
            "-z",
            "--format=%x00%H",
            f"--max-count={limit}",
            f"--since={since.isoformat()}",
            "HEAD",
            "--",
        ).decode("utf-8", "surrogateescape")
        counts: dict[str, dict[str, tuple[int, int]]] = {}
        current: dict[str, tuple[int, int]] = {}
        for token in out.split("\0"):
            token = token.strip("\n")
            if re.fullmatch(r"[0-9a-f]{40,64}", token):
                current = counts.setdefault(token, {})
            elif "\t" in token:
                added, deleted, path = token.split("\t", 2)
                current[path] = (
                    int(added) if added.isdigit() else 0,
                    int(deleted) if deleted.isdigit() else 0,
                )
        return counts

    # -- trees and blobs ---------------------------------------------------------------------
    def ls_tree(self, revision: str, path: str | None = None) -> dict[str, str]:
        """{path: blob id} of every file at a revision (optionally below a folder), symlinks left
        out: they are not pages."""
        return {
            name: oid
            for name, (mode, oid) in self.tree_entries(revision, [path] if path else []).items()
            if mode != "120000"
        }

    def tree_entries(self, revision: str, paths: list[str]) -> dict[str, tuple[str, str]]:
        """{path: (mode, blob id)} of the files at or below `paths` (all without) at a revision."""
        out = self.run("ls-tree", "-r", "-z", "--full-tree", revision, "--", *paths)
        files = {}
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            meta, _, name = entry.partition("\t")
            if meta:
                mode, kind, sha = meta.split()
                if kind == "blob":
                    files[name] = (mode, sha)
        return files

    def cat_blobs(self, objects: list[str]) -> list[bytes | None]:
        """Contents of many objects (`<blob id>` or `<rev>:<path>`) in one git process."""
        if not objects:
            return []
        out = self.run("cat-file", "--batch", input="".join(f"{o}\n" for o in objects).encode())
        results: list[bytes | None] = []
        pos = 0
        for _ in objects:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            pos = nl + 1
            if len(header) < 3 or header[1] == b"missing" or header[-1] == b"missing":
                results.append(None)
                continue
            size = int(header[2])
            results.append(out[pos : pos + size])
            pos += size + 1
        return results

    def show_file(self, revision: str, path: str) -> bytes | None:
        return self.cat_blobs([f"{revision}:{path}"])[0]


def parse_log(raw: str, rs: str, fs: str) -> list[Commit]:
    """Parse `git log -z --raw` output written with record marker `rs` and field marker `fs`."""
    commits = []
    for record in raw.split(rs):
        if not record.strip("\0\n"):
            continue
        revision, author, email, timestamp, message, rest = record.split(fs, 5)
        # --raw -z: ":<old mode> <new mode> <old blob> <new blob> <status>\0<path>\0" per file
        tokens = rest.lstrip("\n").split("\0")
        changes, blobs = [], {}
        i = 0
        while i + 1 < len(tokens):
            fields = tokens[i].strip().split()
            if len(fields) < 5:
                i += 1
                continue
            path = tokens[i + 1]
            changes.append((fields[4][0], path))
            blobs.setdefault(path, fields[3])
            i += 2
        commits.append(Commit(revision, author, email, int(timestamp), message, changes, blobs))
    return commits
