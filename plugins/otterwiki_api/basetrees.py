"""What a write reads of its base commit: folder trees parsed once and kept by object id.

A tree's id is the hash of its content, so a tree kept under its id can never be stale, and
neither can a commit's root tree. A write on the commit the previous write made finds every
folder it touches here (that write kept the trees it built) and starts no git process for them;
after an external commit, the folders that changed come from one `cat-file`. Files are then read
by blob id, which git answers far faster than `<commit>:<path>` names (each of those walks the
trees from the root again), or straight from the working tree when their hash shows they are
the committed bytes (never uncommitted ones). At 10,000 pages this takes a rename from three git
processes and ~20 ms of tree parsing to, usually, no process and no parsing.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping

from .gitcli import Git
from .gitobjects import TREE_MODE, Tree, folders_of, parse_tree

GITLINK_MODE = b"160000"  # a submodule's commit: no file content in this repository


class BaseTrees:
    """Parsed trees by id (at most `limit` entries in all, least recently used go first) and
    the root tree of the commits seen."""

    def __init__(
        self, git: Git, object_id: Callable[[bytes, bytes], str], limit: int = 200_000
    ) -> None:
        self.git = git
        self.object_id = object_id
        self.oid_bytes = len(object_id(b"blob", b"")) // 2
        self.limit = limit
        self._trees: OrderedDict[str, Tree] = OrderedDict()
        self._roots: OrderedDict[str, str] = OrderedDict()
        self._entries = 0
        self._lock = threading.Lock()

    def read(
        self, base: str, folders: Iterable[str], files: Iterable[str] = ()
    ) -> tuple[str, dict[str, Tree | None], list[bytes | None]]:
        """The root tree id of `base`, the trees of `folders` and of every folder above them and
        above `files` ({folder: tree, or None where there is no such folder}), and the contents
        of `files` (None where there is no such file). The trees are shared: do not change
        them."""
        files = list(files)
        wanted = folders_of([*(f + "/-" for f in folders if f), *files])
        root, trees, missing = self._known(base, wanted)
        if missing:
            specs = [f"{base}:{f}" if f else f"{base}^{{tree}}" for f in missing]
            fetched = dict(zip(missing, self.git.cat_blobs(specs), strict=True))
            root, trees, _ = self._known(base, wanted, fetched)
        blobs = {path: self._blob_id(trees, path) for path in files}
        contents = {p: self._in_worktree(p, b) for p, b in blobs.items() if b is not None}
        unread = [p for p, data in contents.items() if data is None]
        contents.update(zip(unread, self.git.cat_blobs([blobs[p] for p in unread]), strict=True))
        return root, trees, [contents.get(p) for p in files]

    def keep(self, commit: str, root: str, trees: Mapping[str, Tree]) -> None:
        """Remember a commit made here: its root tree and the trees it wrote ({id: tree})."""
        with self._lock:
            self._roots[commit] = root
            for oid, tree in trees.items():
                self._put(oid, tree)
            self._trim()

    # -- inside ----------------------------------------------------------------------------------
    def _known(
        self, base: str, folders: list[str], fetched: Mapping[str, bytes | None] | None = None
    ) -> tuple[str, dict[str, Tree | None], list[str]]:
        """Walk `folders` (parents first) from the root of `base` through the kept trees and
        those just `fetched` (raw, by folder; each is kept only if its parent names it with the
        id of these very bytes). Returns the root tree's id, what was found and the folders
        still missing."""
        trees: dict[str, Tree | None] = {}
        missing: list[str] = []
        root = ""
        with self._lock:
            for folder in folders:
                if folder == "":
                    oid = self._roots.get(base)  # None: not known yet
                else:
                    parent, _, name = folder.rpartition("/")
                    if parent in missing:
                        missing.append(folder)
                        continue
                    entry = (trees[parent] or {}).get(name.encode())
                    if entry is None or entry[0] != TREE_MODE:
                        trees[folder] = None  # no such folder (or a file in its place)
                        continue
                    oid = entry[1][-self.oid_bytes :].hex()
                raw = (fetched or {}).get(folder)
                if raw is not None and (oid is None or oid not in self._trees):
                    fetched_oid = self._put_raw(raw)
                    oid = oid or fetched_oid
                found = self._trees.get(oid) if oid else None
                if found is None:
                    missing.append(folder)
                    continue
                self._trees.move_to_end(oid)  # type: ignore[arg-type]
                trees[folder] = found
                if folder == "":
                    root = self._roots[base] = oid  # type: ignore[assignment]
                    self._roots.move_to_end(base)
            self._trim()
        if fetched is not None and missing:
            raise RuntimeError(f"git did not return the trees of {missing} at {base}")
        return root, trees, missing

    def _blob_id(self, trees: Mapping[str, Tree | None], path: str) -> str | None:
        folder, _, name = path.rpartition("/")
        entry = (trees.get(folder) or {}).get(name.encode())
        if entry is None or entry[0] in (TREE_MODE, GITLINK_MODE):
            return None
        return entry[1][-self.oid_bytes :].hex()

    def _in_worktree(self, path: str, blob: str) -> bytes | None:
        """The file's bytes from the working tree when they are exactly the blob (their hash
        says so): no git process for a file nobody changed. None otherwise."""
        try:
            with open(os.path.join(self.git.path, path), "rb") as f:
                data = f.read()
        except OSError:
            return None
        return data if self.object_id(b"blob", data) == blob else None

    def _put_raw(self, raw: bytes) -> str:
        oid = self.object_id(b"tree", raw)
        self._put(oid, parse_tree(raw, self.oid_bytes))
        return oid

    def _put(self, oid: str, tree: Tree) -> None:
        if oid not in self._trees:
            self._trees[oid] = tree
            self._entries += len(tree)

    def _trim(self) -> None:
        while self._entries > self.limit and len(self._trees) > 1:
            _, tree = self._trees.popitem(last=False)
            self._entries -= len(tree)
        while len(self._roots) > 1024:
            self._roots.popitem(last=False)
