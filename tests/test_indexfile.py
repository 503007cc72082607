"""The in-place index patch gives exactly what `git update-index --index-info` gives."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess

import pytest
from conftest import git
from otterwiki_api.gitobjects import Entry
from otterwiki_api.indexfile import patch_index
from otterwiki_api.indexsum import CHUNK

LONG = "/".join(["z" * 150] * 2) + ".md"  # longer than 255 bytes, past one flags byte


@pytest.fixture
def repo(tmp_path):
    path = str(tmp_path / "r")
    subprocess.run(["git", "init", "-q", path], check=True)
    names = ["a.md", "xa.md", "dir/a.md", "dir/sub/b.md", "ünï/cödé.md", LONG]
    for name in names:
        os.makedirs(os.path.dirname(os.path.join(path, name)) or path, exist_ok=True)
        with open(os.path.join(path, name), "w") as f:
            f.write(f"first {name}")
    git(path, "add", "-A")
    env = {"GIT_AUTHOR_NAME": "a", "GIT_AUTHOR_EMAIL": "a@b", "GIT_COMMITTER_NAME": "a"}
    git(path, "commit", "-q", "-m", "one", env={**env, "GIT_COMMITTER_EMAIL": "a@b"})
    return path


def blob(repo: str, text: str) -> str:
    return subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=text, capture_output=True,
        text=True, check=True,
    ).stdout.strip()  # fmt: skip


def by_git(repo: str, entries: dict[str, Entry | None]) -> tuple[str, str]:
    copy = os.path.join(repo, ".git", "by-git")
    shutil.copy(os.path.join(repo, ".git", "index"), copy)
    lines = "".join(
        f"{e.mode.decode()} {e.blob}\t{p}\n" if e else f"0 {'0' * 40}\t{p}\n"
        for p, e in entries.items()
    )
    subprocess.run(
        ["git", "update-index", "--index-info"], cwd=repo, input=lines, text=True, check=True,
        env={**os.environ, "GIT_INDEX_FILE": copy},
    )  # fmt: skip
    env = {"GIT_INDEX_FILE": copy}
    return git(repo, "ls-files", "-s", "--debug", env=env), git(repo, "write-tree", env=env)


@pytest.mark.parametrize("intent_to_add", [False, True])
def test_patch_equals_git(repo, intent_to_add):
    if intent_to_add:  # an entry with extended flags makes the index version 3
        with open(os.path.join(repo, "new.md"), "w") as f:
            f.write("new")
        git(repo, "add", "-N", "new.md")
    entries = {
        "a.md": Entry(b"100644", blob(repo, "second a")),
        "dir/sub/b.md": Entry(b"100755", blob(repo, "second b")),
        "ünï/cödé.md": Entry(b"100644", blob(repo, "second c")),
        LONG: Entry(b"100644", blob(repo, "second z")),
        # additions at the start, in the middle, in a new folder and at the end; removals
        "0.md": Entry(b"100644", blob(repo, "zero")),
        "dir/aa.md": Entry(b"100644", blob(repo, "aa")),
        "new/folder/c.md": Entry(b"100644", blob(repo, "c")),
        "zzz.md": Entry(b"100644", blob(repo, "last")),
        "xa.md": None,
        "dir/a.md": None,
    }
    index = os.path.join(repo, ".git", "index")
    expected, tree = by_git(repo, entries)
    patched = patch_index(open(index, "rb").read(), entries, "sha1")
    assert patched is not None and b"TREE" in patched  # the cache tree is kept, parts invalid
    with open(index, "wb") as f:
        f.write(patched)
    assert git(repo, "ls-files", "-s", "--debug") == expected  # git reads it: checksum valid
    # a cache-tree node left valid above a changed file would make write-tree reuse a stale tree
    assert git(repo, "write-tree") == tree
    staged = git(repo, "diff", "--cached", "--name-only").split("\n")
    assert sorted(filter(None, staged)) == sorted(entries)  # nothing else
    subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, check=True, capture_output=True)


@pytest.mark.parametrize("count", [1, 2, 3, 50])
def test_insertion_points_in_indexes_of_any_size(tmp_path, count):
    """The binary search over byte offsets finds every slot, in small and larger indexes."""
    path = str(tmp_path / "r")
    subprocess.run(["git", "init", "-q", path], check=True)
    for i in range(count):
        with open(os.path.join(path, f"p{i * 2:03d}.md"), "w") as f:
            f.write(str(i))
    git(path, "add", "-A")
    index = os.path.join(path, ".git", "index")
    for i in range(-1, count * 2 + 1, 2):
        entries = {f"p{i:03d}.md": Entry(b"100644", blob(path, f"new {i}"))}
        expected, _ = by_git(path, entries)
        patched = patch_index(open(index, "rb").read(), entries, "sha1")
        copy = index + ".patched"
        with open(copy, "wb") as f:
            f.write(patched)
        assert git(path, "ls-files", "-s", "--debug", env={"GIT_INDEX_FILE": copy}) == expected


def test_what_it_does_not_do_is_left_to_git(repo):
    index = os.path.join(repo, ".git", "index")
    some = blob(repo, "x")
    change = {"a.md": Entry(b"100644", some)}
    assert patch_index(open(index, "rb").read()[:-1], change, "sha1") is None  # not all there
    git(repo, "update-index", "--index-version", "4")  # prefix-compressed names
    assert patch_index(open(index, "rb").read(), change, "sha1") is None


@pytest.fixture
def big_index(tmp_path) -> str:
    """A repository whose index spans several of the checksum's saved states (CHUNK bytes)."""
    path = str(tmp_path / "big")
    subprocess.run(["git", "init", "-q", path], check=True)
    one = blob(path, "one")
    lines = "".join(f"100644 {one}\tf{i // 500:02d}/page {i:05d}.md\n" for i in range(12_000))
    subprocess.run(
        ["git", "update-index", "--add", "--index-info"], cwd=path, input=lines, text=True,
        check=True,
    )  # fmt: skip
    git(path, "write-tree")  # a cache tree, as after a commit
    assert os.path.getsize(os.path.join(path, ".git", "index")) > 3 * CHUNK
    return path


def test_patches_in_a_row_resume_the_checksum_exactly(big_index):
    """Each patch hashes from the saved state before its first change: a state from the wrong
    offset, or a change before the offset it resumed from (an entry count that moved), would
    give a checksum git refuses. (`git write-tree` rewrites the file after each patch, so each
    reads git's file; reading back its own is test_what_is_hashed_is_only_what_changed's.)"""
    index = os.path.join(big_index, ".git", "index")
    changes = [
        {"f11/page 05900.md": "replace in the middle"},
        {"f23/page 11999.md": "replace the last"},
        {"f00/page 00000.md": "replace the first"},
        {"f05/page 02750.5.md": "add in the middle"},
        {"f17/page 08600.md": None},  # remove
        {"f02/page 01000.md": "several", "f20/page 10000.md": "at once"},
        {"f11/page 05901.md": "again next to the first"},
    ]
    for change in changes:
        entries = {
            p: Entry(b"100644", blob(big_index, text)) if text else None
            for p, text in change.items()
        }
        expected, tree = by_git(big_index, entries)
        patched = patch_index(open(index, "rb").read(), entries, "sha1")
        assert patched is not None
        assert hashlib.sha1(patched[:-20]).digest() == patched[-20:], change  # git reads
        # without checking it (only fsck does)
        with open(index, "wb") as f:
            f.write(patched)
        assert git(big_index, "ls-files", "-s", "--debug") == expected, change
        assert git(big_index, "write-tree") == tree


def test_a_file_that_differs_from_the_last_one_written_is_checked_again(big_index):
    index = os.path.join(big_index, ".git", "index")
    first = {"f11/page 05900.md": Entry(b"100644", blob(big_index, "first"))}
    written = patch_index(open(index, "rb").read(), first, "sha1")
    assert written is not None
    # the same file with one entry's object id flipped and the old checksum: not a whole index
    damaged = bytearray(written)
    at = damaged.index(b"f03/page 01700.md") - 22
    damaged[at] ^= 0xFF
    second = {"f20/page 10000.md": Entry(b"100644", blob(big_index, "second"))}
    assert patch_index(bytes(damaged), second, "sha1") is None
    # git rewrites the file between two patches: the patch follows git's file
    git(big_index, "update-index", "--add", "--cacheinfo", f"100644,{blob(big_index, 'g')},g.md")
    expected, _ = by_git(big_index, second)
    patched = patch_index(open(index, "rb").read(), second, "sha1")
    assert hashlib.sha1(patched[:-20]).digest() == patched[-20:]
    with open(index, "wb") as f:
        f.write(patched)
    assert git(big_index, "ls-files", "-s", "--debug") == expected


def test_what_is_hashed_is_only_what_changed(big_index, monkeypatch):
    """The saving itself, measured by the bytes the real hashing is given: a patch hashes from
    the last saved state before its first change, and the file it wrote is read back next time
    by comparison, hashing nothing (a mutant that always hashes from the start, or never
    recognises its own file, still writes the right checksum: only this tells them apart)."""
    from otterwiki_api import indexsum

    hashed: list[int] = []
    real = indexsum._run

    def counting(body, start):
        hashed.append(len(body) - start[-1][0])
        return real(body, start)

    monkeypatch.setattr(indexsum, "_run", counting)
    index = os.path.join(big_index, ".git", "index")
    data = open(index, "rb").read()
    name = b"f17/page 08600.md"
    first = patch_index(data, {name.decode(): Entry(b"100644", blob(big_index, "1"))}, "sha1")
    start = first.index(name) - 62
    assert start >= 2 * CHUNK
    assert hashed == [len(data) - 20, len(first) - 20 - start // CHUNK * CHUNK]
    with open(index, "wb") as f:
        f.write(first)
    name = b"f11/page 05900.md"
    second = open(index, "rb").read()
    patched = patch_index(second, {name.decode(): Entry(b"100644", blob(big_index, "2"))}, "sha1")
    start = patched.index(name) - 62
    assert hashed[2:] == [len(patched) - 20 - start // CHUNK * CHUNK]  # none to read it back
    assert hashlib.sha1(patched[:-20]).digest() == patched[-20:]


def patched_as_git_would(repo: str, entries: dict[str, Entry | None]) -> bytearray | None:
    """`repo`'s index patched with `entries` and written back, checked to read as git's own
    update of it (entries and tree); None: left to git, the file untouched."""
    index = os.path.join(repo, ".git", "index")
    expected, tree = by_git(repo, entries)
    patched = patch_index(open(index, "rb").read(), entries, "sha1")
    if patched is not None:
        with open(index, "wb") as f:
            f.write(patched)
        assert git(repo, "ls-files", "-s", "--debug") == expected
        assert git(repo, "write-tree") == tree
    return patched


def test_an_emptied_index_takes_a_first_entry(tmp_path):
    """The smallest index git writes (its last entry removed: a header and a checksum, 32
    bytes) is patched like any other."""
    path = str(tmp_path / "r")
    subprocess.run(["git", "init", "-q", path], check=True)
    with open(os.path.join(path, "old.md"), "w") as f:
        f.write("old")
    git(path, "add", "old.md")
    git(path, "rm", "-q", "--cached", "old.md")
    assert os.path.getsize(os.path.join(path, ".git", "index")) == 12 + 20
    assert patched_as_git_would(path, {"a.md": Entry(b"100644", blob(path, "a"))}) is not None


def test_a_file_without_the_index_signature_is_left_to_git(repo):
    """A valid checksum over bytes that do not start with git's "DIRC" is not an index."""
    data = bytearray(open(os.path.join(repo, ".git", "index"), "rb").read())
    data[:4] = b"DIRD"
    data[-20:] = hashlib.sha1(data[:-20]).digest()
    assert patch_index(bytes(data), {"a.md": Entry(b"100644", blob(repo, "x"))}, "sha1") is None


@pytest.mark.parametrize("length", [4094, 4095, 4096, 5000])
def test_paths_too_long_for_the_length_field_are_patched_exactly_or_left_to_git(repo, length):
    """An entry's 12-bit name length holds 4094 at most (0xFFF means "look for the NUL"); a
    patch of a longer path must be git's own or none."""
    name = "/".join(["d" * 200] * 20)
    name += "/" + "f" * (length - len(name) - 1)
    assert len(name) == length
    patched = patched_as_git_would(repo, {name: Entry(b"100644", blob(repo, "long"))})
    assert patched is not None or length > 4094


def test_removing_entries_with_extended_flags(repo):
    """Intent-to-add entries carry two more flag bytes: removing one must remove exactly its
    bytes, for every name length (7 bytes: the one where rounding up hides nothing)."""
    for name in ("ita7.md", "n.md"):
        with open(os.path.join(repo, name), "w") as f:
            f.write(name)
        git(repo, "add", "-N", name)
    entries = {"ita7.md": None, "n.md": None, "a.md": Entry(b"100644", blob(repo, "a"))}
    assert patched_as_git_would(repo, entries) is not None
