"""A page move patches git's index with one removal and one addition at once: the entry count
stays, but every byte after the first of the two moves. The resumed checksum must start before
it (a review found it resumed from the old end of the entries: `git fsck` then called the index
corrupt, and the process trusted its own bad file afterwards)."""

from __future__ import annotations

import hashlib
import os
import subprocess

from conftest import git
from otterwiki_api.gitobjects import Entry
from otterwiki_api.indexfile import patch_index
from otterwiki_api.indexsum import CHUNK


def test_a_move_in_one_patch_keeps_the_checksum_whole(tmp_path):
    repo = str(tmp_path / "moves")
    subprocess.run(["git", "init", "-q", repo], check=True)
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"], cwd=repo, input=b"one", capture_output=True,
        check=True,
    ).stdout.decode().strip()  # fmt: skip
    lines = "".join(f"100644 {blob}\tf{i // 500:02d}/page {i:05d}.md\n" for i in range(12_000))
    subprocess.run(
        ["git", "update-index", "--add", "--index-info"], cwd=repo, input=lines.encode(),
        check=True,
    )  # fmt: skip
    git(repo, "write-tree")
    index = os.path.join(repo, ".git", "index")
    assert os.path.getsize(index) > 3 * CHUNK
    moves = [  # removed before added, added before removed, both in one chunk
        {"f02/page 01000.md": None, "f20/page 10000.5.md": Entry(b"100644", blob)},
        {"f21/page 10500.md": None, "f03/page 01700.5.md": Entry(b"100644", blob)},
        {"f05/page 02600.md": None, "f05/page 02601.5.md": Entry(b"100644", blob)},
    ]
    for move in moves:
        patched = patch_index(open(index, "rb").read(), move, "sha1")
        assert patched is not None
        assert hashlib.sha1(patched[:-20]).digest() == patched[-20:], move
        with open(index, "wb") as f:
            f.write(patched)
        fsck = subprocess.run(["git", "fsck", "--no-dangling"], cwd=repo, capture_output=True)
        assert fsck.returncode == 0, fsck.stderr
    listed = git(repo, "ls-files").splitlines()
    assert "f20/page 10000.5.md" in listed and "f02/page 01000.md" not in listed
    assert len(listed) == 12_000
