"""The one commit path of every wikibot writer (REST API, MCP, the web UI through GitStorage).

A commit holds exactly its own change, whatever else happens in the repository:

1. its objects are built from the base commit's trees (`gitobjects`), never from the shared
   index, so nothing another process staged leaks in and no stale index reverts anyone;
2. it holds git's own `.git/index.lock` while it moves the branch (`git update-ref` with the
   expected old commit, so a commit another process made in between is never overwritten) and
   brings the working tree and the shared index to the new commit for its paths. Another `git`
   command therefore never sees HEAD and the index disagree, and `git commit -a` cannot sweep up
   a write that is half done;
3. a journal (`.git/wikibot/journal`) names the paths in flight and the token written into the
   `index.lock` it holds. Only a holder of the repository lock writes it, so a lock carrying the
   journal's token belongs to a dead writer and goes at once; the paths the journal names are
   brought back to HEAD by the next writer (committed or not, whichever HEAD says). Any other
   `index.lock` belongs to some git command: it is waited for, and removed only once it is older
   than `stale_after` seconds (no git command holds it that long).

The caller holds the repository lock (`FileLock`) for the whole write.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .authors import without_crud
from .basetrees import BaseTrees
from .errors import Busy
from .gitcli import Commit, Git, GitFailed
from .gitobjects import (
    FILE_MODE,
    LINK_MODE,
    Entry,
    ObjectWriter,
    build_tree,
    clean_message,
    commit_object,
    folders_of,
    ident_name,
)
from .indexfile import patch_index
from .indexswap import replace_index

log = logging.getLogger(__name__)

ZERO = "0" * 40


class HeadMoved(Exception):
    """HEAD is no longer the commit the write was built on: another process committed."""


@dataclass(frozen=True)
class Change:
    """A file's new content (`data`, and whether it is a symlink), an object already in the
    repository (`entry`: a moved file), or, with neither, the file's removal."""

    data: bytes | None = None
    link: bool = False
    entry: Entry | None = None


@dataclass
class Held:
    """`.git/index.lock`, held by this process: its token and the paths in flight."""

    token: str
    paths: set[str] = field(default_factory=set)


class CommitPath:
    def __init__(self, git: Git, *, stale_after: float = 10.0, fsync: bool = True) -> None:
        self.git = git
        self.root = git.path
        self.index_file = os.path.join(git.git_dir, "index")
        self.index_lock = self.index_file + ".lock"
        self.state_dir = os.path.join(git.git_dir, "wikibot")
        self.journal = os.path.join(self.state_dir, "journal")
        self.stale_after = stale_after
        self.objects = ObjectWriter(git.git_dir, fsync=fsync)  # its flag covers the ref too
        self.base = BaseTrees(git, self.objects.object_id)

    # -- the commit ------------------------------------------------------------------------------
    def commit(
        self,
        changes: Mapping[str, Change],
        message: str,
        author: tuple[str, str],
        base: str | None,
        held: Held | None = None,
    ) -> Commit | None:
        """Commit `changes` on top of `base` (the HEAD the caller read) and bring the working
        tree and the index along; returns the new commit, or None when the tree would not change
        (nothing is committed then). Raises HeadMoved when HEAD is not `base` any more, Busy when
        another process keeps `index.lock`. With `held`, the caller (a web-UI write that changed
        the working tree itself) took the lock and releases it."""
        entries = {p: self._entry(c) for p, c in changes.items()}
        if base is None:
            base_tree, trees = None, {}
        else:
            base_tree, trees, _ = self.base.read(base, folders_of(list(entries)))
        tree, written = build_tree(self.objects, trees, entries)
        if tree == base_tree:
            return None
        when = int(time.time())
        commit = self.objects.write(b"commit", commit_object(tree, base, author, message, when))
        self.base.keep(commit, tree, written)
        own = held is None
        held = held or self.acquire()
        try:
            if self.git.head() != base:
                raise HeadMoved()
            self.touch(held, changes)
            # the working tree and the index first, the branch last: git reads HEAD before the
            # index, so no git command can pair the new HEAD with the old index (and commit a
            # tree that reverts this commit); one that pairs the old HEAD with the new index
            # fails its own update of the branch
            known = {p: (c, entries[p]) for p, c in changes.items() if c.entry is None}
            self._install(self._sync(commit, sorted(held.paths), known))
            self._move_branch(commit, base, message)
        except BaseException:
            self._back_to_head(held)
            if own:
                self._drop(held)
            raise
        held.paths.clear()
        if own:
            self._drop(held)
        return Commit(
            commit,
            ident_name(author[0]),
            without_crud(author[1]),
            when,
            clean_message(message),
            [("D" if e is None else "M", p) for p, e in entries.items()],
            {p: e.blob for p, e in entries.items() if e is not None},
        )

    def _entry(self, change: Change) -> Entry | None:
        if change.entry is not None:
            return change.entry
        if change.data is None:
            return None
        return Entry(LINK_MODE if change.link else FILE_MODE, self.objects.blob(change.data))

    def _move_branch(self, commit: str, base: str | None, message: str) -> None:
        """`git update-ref` from `base` to `commit`; a ref lock left by a killed git process is
        cleared by the stale rule and the update tried again; one still held by another git at
        the deadline makes the write Busy."""
        first = (message.strip().split("\n", 1)[0] or "(no message)")[:200]
        args = ["update-ref", "-m", f"commit: {first}", "HEAD", commit, base or ZERO]
        fsync = f"core.fsync={'reference' if self.objects.fsync else 'none'}"
        deadline = time.monotonic() + self.stale_after + 5.0
        while True:
            try:
                self.git.run("-c", fsync, *args)
                return
            except (GitFailed, Busy) as e:
                head = self.git.head()
                if head == commit:  # git was killed after it moved the branch: done
                    return
                if head != base:
                    raise HeadMoved() from e
                if not self._wait_for_ref_locks():
                    raise
                if time.monotonic() > deadline:  # another git keeps it: busy, not broken
                    raise Busy("a git ref is locked by another process; retry shortly") from e

    def _wait_for_ref_locks(self) -> bool:
        """True if a ref lock was in the way (now gone, or removed as stale): worth a retry."""
        found = False
        for lock in self._ref_locks():
            found = True
            try:
                age = time.time() - os.stat(lock).st_mtime
            except FileNotFoundError:
                continue
            if age > self.stale_after:
                log.warning("removing a stale %s (%.0f s old: its git process is gone)", lock, age)
                _remove(lock)
        if found:
            time.sleep(0.01)
        return found

    def _ref_locks(self) -> list[str]:
        git_dir = os.path.dirname(self.index_file)
        names = ["HEAD.lock", "packed-refs.lock"]
        try:
            with open(os.path.join(git_dir, "HEAD"), encoding="utf-8") as f:
                head = f.read().strip()
            if head.startswith("ref:"):
                names.append(head[4:].strip() + ".lock")
        except FileNotFoundError:
            pass
        return [p for p in (os.path.join(git_dir, n) for n in names) if os.path.exists(p)]

    # -- index.lock and the journal --------------------------------------------------------------
    def acquire(self) -> Held:
        """Create `.git/index.lock` as git does, waiting while another git command holds it."""
        token = secrets.token_hex(16)
        deadline = time.monotonic() + self.stale_after + 5.0
        delay = 0.001
        while True:
            try:
                fd = os.open(self.index_lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                fd = None
            if fd is None:
                if not self._clear_stale_lock() and time.monotonic() > deadline:
                    raise Busy("the git index is locked by another process; retry shortly")
                time.sleep(delay)
                delay = min(delay * 2, 0.02)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(token)
            for name in os.listdir(self.state_dir) if os.path.isdir(self.state_dir) else []:
                if name.startswith("index."):  # a killed writer's staged index
                    _remove(os.path.join(self.state_dir, name))
            held = Held(token, set(self._journal().get("paths", [])))
            self._write_journal(held)
            if held.paths:  # an interrupted write's: back to HEAD before anything else
                log.warning("bringing %d path(s) of an interrupted write to HEAD", len(held.paths))
                self._back_to_head(held)
                self._write_journal(held)
            return held

    def _clear_stale_lock(self) -> bool:
        """Remove `index.lock` if it is a dead wikibot writer's or older than `stale_after`."""
        try:
            with open(self.index_lock, "rb") as f:
                content = f.read(64)
            age = time.time() - os.stat(self.index_lock).st_mtime
        except FileNotFoundError:
            return True
        token = self._journal().get("token")
        if token and content == token.encode():
            reason = "its wikibot writer died"
        elif age > self.stale_after:
            reason = f"{age:.0f} s old: its git process is gone"
        else:
            return False
        log.warning("removing a stale %s (%s)", self.index_lock, reason)
        _remove(self.index_lock)
        return True

    def touch(self, held: Held, paths: Iterable[str]) -> None:
        """Record paths about to change, so a crash from here on is repaired."""
        new = set(paths) - held.paths
        if new:
            held.paths.update(new)
            self._write_journal(held)

    def release(self, held: Held) -> None:
        """Bring every path in flight to HEAD in the working tree and the index and drop the
        lock (the end of a web-UI request, or of a write that failed)."""
        self._back_to_head(held)
        self._drop(held)

    def _back_to_head(self, held: Held) -> None:
        """Paths in flight back to HEAD; if even that fails, the journal keeps them for the
        next writer."""
        if not held.paths:
            return
        try:
            self._install(self._sync(self.git.head(), sorted(held.paths), {}))
            held.paths.clear()
        except Exception:
            log.exception(
                "could not bring %d path(s) to HEAD; the next write will", len(held.paths)
            )

    def _install(self, staged: str) -> None:
        """Put a staged index in place while holding `index.lock` (the old one freed later)."""
        replace_index(staged, self.index_file, self.state_dir)

    def _drop(self, held: Held) -> None:
        """Release `index.lock`: the journal goes first (or keeps unfinished paths, without the
        token), so a lock without the journal's token is never mistaken for a dead writer's."""
        if held.paths:
            held.token = ""
            self._write_journal(held)
        else:
            _remove(self.journal)
        _remove(self.index_lock)

    def _journal(self) -> dict:
        try:
            with open(self.journal, encoding="utf-8") as f:
                return json.load(f)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            return {"paths": []}

    def _write_journal(self, held: Held) -> None:
        os.makedirs(self.state_dir, exist_ok=True)
        tmp = self.journal + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"paths": sorted(held.paths), "token": held.token}, f)
        os.replace(tmp, self.journal)

    # -- the shared index and the working tree ---------------------------------------------------
    def _sync(
        self,
        head: str | None,
        paths: list[str],
        known: Mapping[str, tuple[Change, Entry | None]],
    ) -> str:
        """Write `paths` into the working tree as they are at `head` (`known` gives some of them
        without asking git) and return a staged copy of the index with them set."""
        wanted = {p: known[p] for p in paths if p in known}
        others = [p for p in paths if p not in known]
        if others:
            at_head = self._head_files(head, others)
            present = [p for p in others if p in at_head]
            blobs = self.git.cat_blobs([at_head[p].blob for p in present])
            for p, data in zip(present, blobs, strict=True):
                wanted[p] = (Change(data, at_head[p].mode == LINK_MODE), at_head[p])
            for p in others:
                wanted.setdefault(p, (Change(), None))
        for path, (change, _) in wanted.items():
            self._write_file(path, change)
        return self._staged_index({p: e for p, (_, e) in wanted.items()}, head)

    def _head_files(self, head: str | None, paths: list[str]) -> dict[str, Entry]:
        if head is None:
            return {}
        found = self.git.tree_entries(head, paths)
        return {p: Entry(m.encode(), oid) for p, (m, oid) in found.items() if p in paths}

    def _staged_index(self, entries: Mapping[str, Entry | None], head: str | None) -> str:
        """A copy of the shared index with `entries` set, to be renamed over it."""
        staged = os.path.join(self.state_dir, f"index.{os.getpid()}")
        for leftover in (staged, staged + ".lock"):
            _remove(leftover)
        env = {"GIT_INDEX_FILE": staged}
        if not os.path.exists(self.index_file):
            if head:
                self.git.run("read-tree", head, env=env)
            else:
                self.git.run("read-tree", "--empty", env=env)
            return staged
        # the staged index keeps the old one's time: git decides by it which entries are "racily
        # clean" (a file rewritten in the second the index was written, with the same size),
        # and a copy dated now would make git trust such entries' stale stat data
        with open(self.index_file, "rb") as f:
            current = f.read()
            times = os.fstat(f.fileno())
        patched = patch_index(current, entries, self.objects.algorithm) if entries else current
        if patched is not None:
            with open(staged, "wb") as f:
                f.write(patched)
            os.utime(staged, ns=(times.st_atime_ns, times.st_mtime_ns))
            return staged
        shutil.copy2(self.index_file, staged)  # copy2: the time, as above
        lines = "".join(
            f"{e.mode.decode()} {e.blob}\t{p}\n" if e else f"0 {ZERO}\t{p}\n"
            for p, e in entries.items()
        )
        self.git.run("update-index", "--index-info", input=lines.encode(), env=env)
        return staged

    def _write_file(self, path: str, change: Change) -> None:
        target = os.path.join(self.root, path)
        tmp = os.path.join(os.path.dirname(target), f".{os.path.basename(path)}.wikibot-tmp")
        _remove(tmp)  # a killed writer's, if any
        if change.data is None:
            if os.path.lexists(target) and not os.path.isdir(target):
                os.remove(target)
                self._prune_folders(path)
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if change.link:
            os.symlink(change.data.decode("utf-8", "surrogateescape"), tmp)
        else:
            with open(tmp, "wb") as f:
                f.write(change.data)
        os.replace(tmp, target)

    def _prune_folders(self, path: str) -> None:
        """Remove folders a removal left empty, as git does."""
        folder = os.path.dirname(path)
        while folder:
            try:
                os.rmdir(os.path.join(self.root, folder))
            except OSError:
                return
            folder = os.path.dirname(folder)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except (FileNotFoundError, NotADirectoryError):
        pass
