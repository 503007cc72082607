"""The web UI's writes through the one commit path.

Otterwiki's GitStorage commits with GitPython from the shared index: whatever another process
staged is committed with the web save, and an index older than HEAD is written into the tree,
reverting other people's commits. Its mutating methods are replaced here, on the one storage
object, by methods with the same signatures and hooks that change the working tree as before but
commit exactly the paths the operation touched (`CommitPath`). Several calls of one request
(a rename stages the page and its folder, rewrites backlinks, then commits) share one hold of
`index.lock`, so no other git command sees their half-done state; a request that ends without
committing has its paths brought back to HEAD.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import otterwiki.gitstorage as gitstorage

from .commits import ZERO, Change, CommitPath, HeadMoved, Held
from .gitcli import GitFailed
from .gitobjects import Entry
from .repolock import FileLock
from .service import ChangeListener

log = logging.getLogger(__name__)
# gitstorage by module, not by name: importing it loads the plugins, and so this module, before
# gitstorage's own names exist

RETRIES = 5
MUTATIONS = ("update", "store", "commit", "delete", "rename", "revert", "restore")


class WebWrites:
    """GitStorage's mutating methods for one storage object."""

    def __init__(
        self, storage: Any, commits: CommitPath, lock: FileLock, listener: ChangeListener
    ) -> None:
        self.storage = storage
        self.listener = listener  # plugins hear of each commit and auto-push runs, as in GitStorage
        self.commits = commits
        self.git = commits.git
        self.lock = lock
        self._local = threading.local()

    def install(self) -> None:
        """Replace the storage's mutating methods (idempotent), and let a file deleted by
        another process between a listing and a look at it count as gone, not as an error."""
        mtime = self.storage.mtime
        if not getattr(mtime, "__wikibot__", False):

            def tolerant_mtime(filename: str) -> datetime:
                try:
                    return mtime(filename)
                except (FileNotFoundError, gitstorage.StorageNotFound):
                    # deleted meanwhile (the reader then finds it missing), or a symlink out of
                    # the wiki (StorageUnsafePath: listed, never read)
                    return datetime.fromtimestamp(0)

            tolerant_mtime.__wikibot__ = True  # type: ignore[attr-defined]
            self.storage.mtime = tolerant_mtime
        for name in MUTATIONS:
            method = getattr(self.storage, name, None)
            if getattr(method, "__wikibot__", False):
                continue
            replacement = getattr(self, name)

            def locked(*args: Any, _f: Any = replacement, **kwargs: Any) -> Any:
                with self.lock.hold():
                    return _f(*args, **kwargs)

            locked.__wikibot__ = True  # type: ignore[attr-defined]
            locked.__doc__ = replacement.__doc__
            setattr(self.storage, name, locked)

    # -- the request's hold of index.lock --------------------------------------------------------
    def _held(self) -> Held:
        held = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = self.commits.acquire()
        return held

    def finish(self) -> None:
        """End of a request: paths it changed but did not commit go back to HEAD."""
        held = getattr(self._local, "held", None)
        if held is not None:
            self._local.held = None
            if held.paths:
                log.warning("a web request ended without committing %s; undone", sorted(held.paths))
            self.commits.release(held)

    def _files(self, paths: Iterable[str]) -> list[str]:
        """Files at or below `paths`, in the working tree or at HEAD (removed ones too)."""
        found: set[str] = set()
        folders = []
        for path in paths:
            path = path.strip("/")
            absolute = os.path.join(self.storage.path, path)
            if os.path.isdir(absolute) and not os.path.islink(absolute):
                folders.append(path)
                for top, dirs, names in os.walk(absolute):
                    dirs[:] = [d for d in dirs if d != ".git"]
                    rel = os.path.relpath(top, self.storage.path)
                    found.update(os.path.normpath(os.path.join(rel, n)) for n in names)
            else:
                found.add(path)
        head = self.git.head()
        if head and folders:
            found.update(self.git.tree_entries(head, [f + "/" for f in folders]))
        return sorted(found)

    def _worktree_change(self, path: str) -> Change:
        absolute = os.path.join(self.storage.path, path)
        if os.path.islink(absolute):
            return Change(os.readlink(absolute).encode("utf-8", "surrogateescape"), link=True)
        if os.path.isfile(absolute):
            with open(absolute, "rb") as f:
                return Change(f.read())
        return Change()

    def _commit_touched(self, paths: Iterable[str], message: str | None, author: Any) -> None:
        """Commit the working-tree state of `paths` and of everything this request touched."""
        held = self._held()
        self.commits.touch(held, self._files(paths))
        changes = {p: self._worktree_change(p) for p in sorted(held.paths)}
        name, email = (author or ("", ""))[:2]
        try:
            for _ in range(RETRIES):
                try:
                    self.commits.commit(
                        changes, message or "", (name, email), self.git.head(), held
                    )
                    break
                except HeadMoved:
                    continue
            else:
                raise gitstorage.StorageError("the repository kept changing; try again")
        finally:
            self.finish()

    # -- GitStorage's mutating methods -----------------------------------------------------------
    def update(self, filename: str, content: Any, mode: str = "w") -> bool:
        """Write a file and mark it for the next commit; False when it equals HEAD's."""
        absolute = self.storage._abspath(filename)
        held = self._held()
        self.commits.touch(held, [filename])
        os.makedirs(os.path.dirname(absolute), mode=0o775, exist_ok=True)
        with open(absolute, mode) as f:
            f.write(content)
        head = self.git.head()
        committed = self.git.show_file(head, filename) if head else None
        return committed != self._worktree_change(filename).data

    def store(
        self,
        filename: str,
        content: Any,
        message: str | None = "",
        author: Any = ("", ""),
        mode: str = "w",
    ) -> bool:
        if not self.update(filename, content, mode):
            self.finish()
            return False
        self._commit_touched([filename], message, author)
        self.listener.repository_changed([filename])
        return True

    def commit(
        self, filenames: Any, message: str = "", author: Any = ("", ""), no_add: bool = False
    ) -> None:
        files = filenames if isinstance(filenames, list) else [filenames]
        self._commit_touched(files, message, author)
        self.listener.repository_changed(files)

    def delete(self, filename: Any, message: str | None = None, author: Any = ("", "")) -> None:
        names = filename if isinstance(filename, list) else [filename]
        existing = [n for n in names if self.storage.exists(n)]
        files = self._files(existing)
        held = self._held()
        self.commits.touch(held, files)
        for path in files:
            absolute = self.storage._abspath(path)
            if os.path.lexists(absolute):
                os.remove(absolute)
        for name in existing:  # emptied folders go, as in git
            absolute = os.path.join(self.storage.path, name)
            if os.path.isdir(absolute):
                for top, _, _ in sorted(os.walk(absolute), reverse=True):
                    if not os.listdir(top):
                        os.rmdir(top)
        if message is None:
            message = f"Deleted {existing}."
        self._commit_touched(files, message, author)
        self.listener.repository_changed(existing)

    def rename(
        self,
        old_filename: str,
        new_filename: str,
        message: str | None = None,
        author: Any = None,
        no_commit: bool = False,
        files_updated: list[str] | None = None,
        preserve_symlink_target: bool = False,
    ) -> None:
        self.storage._abspath(new_filename)
        if self.storage.exists(new_filename):
            raise gitstorage.StorageError(
                f'The filename "{new_filename}" already exist. Please choose a new filename.'
            )
        old_abs = self.storage._abspath(old_filename)
        new_abs = os.path.join(self.storage.path, new_filename)
        if not os.path.lexists(old_abs):
            raise gitstorage.StorageError(
                f"Renaming {old_filename} to {new_filename} failed: not found."
            )
        moved = self._files([old_filename])
        prefix = old_filename.strip("/")
        targets = [new_filename.strip("/") + p[len(prefix) :] for p in moved]
        held = self._held()
        self.commits.touch(held, moved + targets)
        os.makedirs(os.path.dirname(new_abs), mode=0o775, exist_ok=True)
        link = os.readlink(old_abs) if os.path.islink(old_abs) else None
        os.rename(old_abs, new_abs)
        if link is not None and preserve_symlink_target and not os.path.isabs(link):
            if os.path.dirname(old_filename) != os.path.dirname(new_filename):
                target = os.path.join(os.path.dirname(old_abs), link)
                os.unlink(new_abs)
                os.symlink(os.path.relpath(target, os.path.dirname(new_abs)), new_abs)
        if not no_commit:
            if message is None:
                message = f"{old_filename} renamed to {new_filename}."
            files = (files_updated or []) + [new_filename]
            self._commit_touched(files, message, author)
            self.listener.repository_changed(files)

    def restore(self, paths: list[str], revision: str = "HEAD") -> None:
        """Otterwiki's roll-back of a failed operation: its paths go back to HEAD."""
        held = self._held()
        self.commits.touch(held, self._files(p for p in paths if p))
        self.finish()

    def revert(self, revision: str, message: str = "", author: Any = ("", "")) -> None:
        """Undo one commit's changes, where no later commit changed the same files (otherwise
        the revert fails, as Otterwiki's does on a conflict)."""
        self.storage._validate_revision(revision)
        for _ in range(RETRIES):
            head = self.git.head()
            changes = self._reverse(revision, head)
            try:
                new = self.commits.commit(changes, message, tuple(author)[:2], head)
                break
            except HeadMoved:
                continue
        else:
            raise gitstorage.StorageError("Revert failed.")
        if new is None:
            raise gitstorage.StorageError("Revert failed.")
        self.listener.repository_changed(sorted(changes))

    def _reverse(self, revision: str, head: str | None) -> dict[str, Change]:
        """The changes that undo `revision` on top of `head`."""
        try:
            out = self.git.run(
                "diff-tree", "-r", "-z", "--no-renames", "--root", "--no-commit-id", revision
            ).decode("utf-8", "surrogateescape")
        except GitFailed:
            raise gitstorage.StorageError("Revert failed.") from None
        tokens = out.split("\0")
        undo: dict[str, tuple[str, str]] = {}  # path -> (mode before, blob before), "" if none
        after: dict[str, str] = {}
        for meta, path in zip(tokens[0::2], tokens[1::2], strict=False):
            old_mode, new_mode, old_blob, new_blob, _ = meta.lstrip(":").split()
            undo[path] = (old_mode, old_blob)
            after[path] = new_blob
        if not undo or head is None:
            raise gitstorage.StorageError("Revert failed.")
        now = self.git.tree_entries(head, sorted(undo))
        changes: dict[str, Change] = {}
        for path, (mode, blob) in undo.items():
            if now.get(path, ("", ZERO))[1] != after[path]:
                raise gitstorage.StorageError("Revert failed.")  # changed again since: a conflict
            changes[path] = Change() if blob == ZERO else Change(entry=Entry(mode.encode(), blob))
        return changes
