"""Git objects written straight into `.git/objects`: blobs, trees and commits for one write.

A commit made this way never reads or writes the shared index, so nothing another writer staged
can leak into it and no stale index can be written into its tree (which would revert other
people's work). Building the objects in Python costs about a millisecond where the plumbing
commands (`hash-object`, `read-tree`, `update-index`, `write-tree`, `commit-tree`) would spawn
five processes and rewrite a 10,000-entry index twice. The objects are unreachable until the
caller moves the branch with `git update-ref`, so a write that fails leaves nothing in history.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from .authors import without_crud
from .errors import Conflict, Invalid

TREE_MODE = b"40000"
FILE_MODE = b"100644"
LINK_MODE = b"120000"

Tree = dict[bytes, tuple[bytes, bytes]]  # a parsed tree: {name: (mode, the raw entry)}


@dataclass(frozen=True)
class Entry:
    """One file a commit sets: its mode and blob id."""

    mode: bytes
    blob: str


# A tree this large is written without compression (zlib level 0, which git reads like any
# other): a wiki's root or folder tree is rewritten on every write, and at 100,000 pages the root
# tree's 540 KB took 12 ms at level 1 (git's own for loose objects) to save a third (its object
# ids do not compress). `git gc` packs and compresses them all the same.
STORED_TREE_BYTES = 64 * 1024


class ObjectWriter:
    """Writes loose objects the way git does (zlib, temp file, rename), durably when asked."""

    def __init__(self, git_dir: str, *, fsync: bool = True) -> None:
        self.objects = os.path.join(git_dir, "objects")
        self.fsync = fsync
        self.algorithm = _object_format(git_dir)

    def object_id(self, kind: bytes, data: bytes) -> str:
        return hashlib.new(self.algorithm, b"%s %d\0" % (kind, len(data)) + data).hexdigest()

    def write(self, kind: bytes, data: bytes) -> str:
        raw = b"%s %d\0" % (kind, len(data)) + data
        oid = hashlib.new(self.algorithm, raw).hexdigest()
        folder = os.path.join(self.objects, oid[:2])
        target = os.path.join(folder, oid[2:])
        if os.path.exists(target):
            return oid
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="tmp_obj_", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                stored = kind == b"tree" and len(data) > STORED_TREE_BYTES
                f.write(zlib.compress(raw, 0 if stored else 1))
                if self.fsync:
                    f.flush()
                    os.fsync(f.fileno())
            os.chmod(tmp, 0o444)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        if self.fsync:
            _fsync_dir(folder)
        return oid

    def blob(self, data: bytes) -> str:
        return self.write(b"blob", data)


def _object_format(git_dir: str) -> str:
    """sha1, or sha256 for a repository made with `--object-format=sha256`."""
    try:
        with open(os.path.join(git_dir, "config"), encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition("=")
                if key.strip().lower() == "objectformat":
                    return value.strip().lower()
    except FileNotFoundError:
        pass
    return "sha1"


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def parse_tree(data: bytes, oid_bytes: int) -> Tree:
    """{name: (mode, the entry's raw bytes)} of a raw tree object, in its order."""
    entries: Tree = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        end = nul + 1 + oid_bytes
        entries[data[space + 1 : nul]] = (data[pos:space], data[pos:end])
        pos = end
    return entries


def tree_entry(mode: bytes, name: bytes, oid: str) -> tuple[bytes, bytes]:
    return mode, mode + b" " + name + b"\0" + bytes.fromhex(oid)


def format_tree(entries: Mapping[bytes, tuple[bytes, bytes]]) -> bytes:
    """A raw tree object, entries in git's order (a folder sorts as if its name ended in /)."""

    def key(name: bytes) -> bytes:
        return name + b"/" if entries[name][0] == TREE_MODE else name

    return b"".join(entries[n][1] for n in sorted(entries, key=key))


def folders_of(paths: list[str]) -> list[str]:
    """Every folder above `paths` ("" is the root), parents before children."""
    folders = {""}
    for path in paths:
        parts = path.split("/")[:-1]
        folders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return sorted(folders, key=lambda f: (f.count("/") + bool(f), f))


def check_path(path: str) -> None:
    """Refuse what git's `verify_path` refuses (with its default NTFS and HFS protection), so
    no tree is written that git itself would not write or check out."""
    for part in path.split("/"):
        plain = "".join(ch for ch in part.lower() if ch not in _HFS_IGNORED).rstrip(". ")
        if part in ("", ".", "..") or "\\" in part or plain in (".git", "git~1"):
            raise Invalid(f"git refuses this path: {path!r}")


# characters HFS+ ignores in names, so ".g\u200cit" is ".git" there (git's is_hfs_dotgit)
_HFS_IGNORED = set("\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\ufeff")
_HFS_IGNORED |= set("\u206a\u206b\u206c\u206d\u206e\u206f")


def build_tree(
    writer: ObjectWriter,
    trees: Mapping[str, Tree | None],
    changes: Mapping[str, Entry | None],
) -> tuple[str, dict[str, Tree]]:
    """The root tree id after applying `changes` ({path: entry, or None to remove}) to the trees
    of the base commit (`trees`: {folder: parsed tree or None if absent}, every folder of
    `folders_of(changes)`; left unchanged), and the trees written ({id: tree}). Folders left
    empty disappear, as in git."""
    for path in changes:
        check_path(path)
    folders = folders_of(list(changes))
    content = {f: dict(trees.get(f) or {}) for f in folders}
    for path, entry in changes.items():
        folder, _, name = path.rpartition("/")
        existing = content[folder].get(name.encode())
        if existing is not None and existing[0] == TREE_MODE:
            raise Conflict(f"{path} is a folder in the wiki, not a file")
        if entry is None:
            content[folder].pop(name.encode(), None)
        else:
            content[folder][name.encode()] = tree_entry(entry.mode, name.encode(), entry.blob)
    written: dict[str, Tree] = {}
    for folder in reversed(folders):  # children before their parents
        entries = content[folder]
        if folder == "":
            root = writer.write(b"tree", format_tree(entries))
            written[root] = entries
            return root, written
        parent, _, name = folder.rpartition("/")
        existing = content[parent].get(name.encode())
        if existing is not None and existing[0] != TREE_MODE:
            raise Conflict(f"{folder} is a file (an attachment?), not a folder")
        if entries:
            subtree = writer.write(b"tree", format_tree(entries))
            written[subtree] = entries
            content[parent][name.encode()] = tree_entry(TREE_MODE, name.encode(), subtree)
        else:
            content[parent].pop(name.encode(), None)
    raise AssertionError("folders_of always includes the root")


def commit_object(
    tree: str,
    parent: str | None,
    author: tuple[str, str],
    message: str,
    when: float | None = None,
) -> bytes:
    """A raw commit object with the author as committer, dated now in the local time zone."""
    stamp = int(time.time() if when is None else when)
    offset = time.localtime(stamp).tm_gmtoff // 60
    sign = "+" if offset >= 0 else "-"
    zone = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    ident = f"{ident_name(author[0])} <{without_crud(author[1])}> {stamp} {zone}"
    lines = [f"tree {tree}"]
    if parent:
        lines.append(f"parent {parent}")
    lines += [f"author {ident}", f"committer {ident}", "", clean_message(message)]
    return "\n".join(lines).encode("utf-8")


def ident_name(name: str) -> str:
    """The author name a commit records (git would refuse an empty one; Otterwiki's anonymous
    editor has none)."""
    return without_crud(name) or "Anonymous"


def clean_message(message: str) -> str:
    """What `git commit --cleanup=whitespace` keeps: no trailing spaces, no leading or trailing
    blank lines, no runs of blank lines; ends in a newline unless empty."""
    kept: list[str] = []
    for line in message.replace("\r\n", "\n").split("\n"):
        line = line.rstrip()
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return "\n".join(kept) + "\n" if kept else ""
