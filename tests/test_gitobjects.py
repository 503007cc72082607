"""The objects `otterwiki_api.gitobjects` writes straight into `.git/objects`, checked against git
itself on real repositories (sha1 and sha256): ids and bytes are the ones `hash-object`, `mktree`,
`write-tree` and `commit-tree` make, the files are loose objects git reads and `fsck --strict`
accepts, a tree is parsed as `ls-tree` lists it, every path git refuses is refused, a message is
cleaned as `git stripspace` cleans it, and a write is durable (the file's content, then its
folder, synced) and leaves no temporary file and no open descriptor behind, even when it fails."""

from __future__ import annotations

import errno
import os
import random
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from otterwiki_api.errors import Conflict, Invalid
from otterwiki_api.gitobjects import (
    FILE_MODE,
    LINK_MODE,
    STORED_TREE_BYTES,
    TREE_MODE,
    Entry,
    ObjectWriter,
    build_tree,
    check_path,
    clean_message,
    commit_object,
    folders_of,
    format_tree,
    parse_tree,
    tree_entry,
)

AUTHOR = ("Ada Lovelace", "ada@example.org")


def run_git(repo: str, *args: str, data: bytes | None = None, **env: str) -> bytes:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        input=data,
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    ).stdout


def text(repo: str, *args: str, data: bytes | None = None, **env: str) -> str:
    return run_git(repo, *args, data=data, **env).decode().strip()


@pytest.fixture(params=["sha1", "sha256"])
def repo(request: pytest.FixtureRequest, tmp_path) -> str:
    path = str(tmp_path / "repo")
    subprocess.run(
        ["git", "init", "-q", f"--object-format={request.param}", path],
        check=True,
        env={**os.environ, "GIT_DEFAULT_HASH": request.param},
    )
    return path


def git_dir(repo: str) -> str:
    return os.path.join(repo, ".git")


def oid_bytes(repo: str) -> int:
    return len(text(repo, "hash-object", "--stdin", data=b"")) // 2


def loose(repo: str, oid: str) -> str:
    return os.path.join(git_dir(repo), "objects", oid[:2], oid[2:])


def object_files(repo: str) -> set[str]:
    found = set()
    for folder, _, files in os.walk(os.path.join(git_dir(repo), "objects")):
        found.update(os.path.join(folder, f) for f in files)
    return found


# -- loose objects ---------------------------------------------------------------------------------
def test_blobs_are_the_objects_git_would_write(repo: str) -> None:
    writer = ObjectWriter(git_dir(repo), fsync=False)
    rng = random.Random(7)
    blobs = [b"", b"hello\n", rng.randbytes(20_000)] + [b"blob %d" % i for i in range(300)]
    ids = [writer.blob(data) for data in blobs]  # 303 objects: folders are shared (exist_ok)
    for data, oid in zip(blobs[:3], ids[:3], strict=True):
        assert oid == text(repo, "hash-object", "--stdin", data=data)
        assert writer.object_id(b"blob", data) == oid
    listed = run_git(repo, "cat-file", "--batch", data="\n".join(ids).encode() + b"\n")
    for data, oid in zip(blobs, ids, strict=True):
        header = b"%s blob %d\n" % (oid.encode(), len(data))
        assert listed.startswith(header + data + b"\n")
        listed = listed[len(header) + len(data) + 1 :]
    run_git(repo, "fsck", "--strict", "--unreachable", "--no-dangling")
    # read-only, as git's own loose objects are
    own = text(repo, "hash-object", "-w", "--stdin", data=b"written by git")
    assert stat.S_IMODE(os.stat(loose(repo, ids[1])).st_mode) == stat.S_IMODE(
        os.stat(loose(repo, own)).st_mode
    )
    assert not [f for f in object_files(repo) if "tmp_obj_" in f]


def test_an_object_already_there_is_kept_as_it_is(repo: str) -> None:
    writer = ObjectWriter(git_dir(repo), fsync=False)
    oid = writer.blob(b"same")
    before = os.stat(loose(repo, oid))
    assert writer.blob(b"same") == oid
    after = os.stat(loose(repo, oid))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_large_trees_are_stored_uncompressed_and_read_by_git(repo: str) -> None:
    """Compressing a 100,000-page wiki's root tree cost 12 ms of every write; above
    STORED_TREE_BYTES a tree is written at zlib level 0, blobs and smaller trees at level 1."""
    writer = ObjectWriter(git_dir(repo), fsync=False)
    width = oid_bytes(repo)
    blob = writer.blob(b"page\n")

    def tree(names: int) -> tuple[bytes, str]:
        named = [b"page-%05d.md" % i for i in range(names)]
        raw = format_tree({name: tree_entry(FILE_MODE, name, blob) for name in named})
        return raw, writer.write(b"tree", raw)

    big_raw, big = tree(STORED_TREE_BYTES // (20 + width) + 10)
    small_raw, small = tree(200)
    assert len(big_raw) > STORED_TREE_BYTES >= len(small_raw)
    assert os.path.getsize(loose(repo, big)) > len(big_raw)  # stored: a few bytes of framing
    assert os.path.getsize(loose(repo, small)) < len(small_raw) / 2
    text_blob = writer.blob(b"many words " * 10_000)  # blobs compress whatever their size
    assert os.path.getsize(loose(repo, text_blob)) < 10_000
    for oid, raw in ((big, big_raw), (small, small_raw)):
        assert run_git(repo, "cat-file", "tree", oid) == raw
    run_git(repo, "fsck", "--strict", "--unreachable", "--no-dangling")


def test_a_durable_write_syncs_the_whole_file_then_its_folder(
    repo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the fsyncs cover, seen from each synced descriptor: the object file with all its bytes
    (flushed before the sync), then the folder the rename went to. By default, and only then."""
    synced: list[tuple[bool, int, int]] = []  # (a folder?, inode, size) at each fsync
    real = os.fsync

    def recording(fd: int) -> None:
        st = os.fstat(fd)
        synced.append((stat.S_ISDIR(st.st_mode), st.st_ino, st.st_size))
        real(fd)

    monkeypatch.setattr(os, "fsync", recording)
    oid = ObjectWriter(git_dir(repo)).blob(b"durable\n")
    written = os.stat(loose(repo, oid))
    folder = os.stat(os.path.dirname(loose(repo, oid)))
    assert synced == [
        (False, written.st_ino, written.st_size),
        (True, folder.st_ino, folder.st_size),
    ]
    synced.clear()
    ObjectWriter(git_dir(repo), fsync=False).blob(b"not durable\n")
    assert synced == []


def test_writes_leave_no_descriptor_open(repo: str) -> None:
    writer = ObjectWriter(git_dir(repo))
    writer.blob(b"warm-up")  # whatever the first write opens once
    before = len(os.listdir("/proc/self/fd"))
    for i in range(20):
        writer.blob(b"descriptor %d" % i)
    assert len(os.listdir("/proc/self/fd")) == before


FAILING_WRITE = """
import os, resource, signal, sys
from otterwiki_api.gitobjects import ObjectWriter
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    ObjectWriter(sys.argv[1], fsync=False).blob(os.urandom(65536))
except OSError as e:
    print(e.errno)
"""


def test_a_write_that_fails_leaves_no_temporary_file(repo: str) -> None:
    """A file size limit (RLIMIT_FSIZE, in a process of its own) makes the write fail halfway:
    the error reaches the caller and nothing is left in the objects folder."""
    before = object_files(repo)
    done = subprocess.run(
        [sys.executable, "-c", FAILING_WRITE, git_dir(repo)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(errno.EFBIG), done.stderr
    assert object_files(repo) == before


# -- trees -----------------------------------------------------------------------------------------
def mktree(repo: str, entries: list[tuple[bytes, str, str, str]]) -> str:
    """The tree git's `mktree` makes of (mode, type, id, name) entries."""
    lines = b"".join(
        b"%s %s %s\t%s\n" % (m, k.encode(), o.encode(), n.encode()) for m, k, o, n in entries
    )
    return text(repo, "mktree", data=lines)


def test_trees_parse_and_format_as_git_lists_and_orders_them(repo: str) -> None:
    writer = ObjectWriter(git_dir(repo), fsync=False)
    blob = writer.blob(b"x")
    sub = mktree(repo, [(FILE_MODE, "blob", blob, "inner.md")])
    # names whose order changes if a folder sorts without its "/" or a file with one
    names = {"a": FILE_MODE, "a.b": FILE_MODE, "c": TREE_MODE, "c.md": FILE_MODE}
    names.update({"c-d": FILE_MODE, "link": LINK_MODE, "é.md": FILE_MODE})
    entries = [
        (mode, "tree", sub, name) if mode == TREE_MODE else (mode, "blob", blob, name)
        for name, mode in names.items()
    ]
    tree = mktree(repo, entries)
    raw = run_git(repo, "cat-file", "tree", tree)
    parsed = parse_tree(raw, oid_bytes(repo))
    listed = run_git(repo, "ls-tree", "-z", tree).split(b"\0")[:-1]
    assert list(parsed) == [line.split(b"\t", 1)[1] for line in listed]
    for line in listed:
        mode, _, oid = line.split(b"\t")[0].split()
        name = line.split(b"\t", 1)[1]
        assert parsed[name][0] == mode.lstrip(b"0")
        assert parsed[name][1].endswith(bytes.fromhex(oid.decode()))
    assert format_tree(parsed) == raw
    rng = random.Random(3)
    shuffled = dict(sorted(parsed.items(), key=lambda _: rng.random()))
    assert list(shuffled) != list(parsed)
    assert format_tree(shuffled) == raw
    assert format_tree(dict(reversed(parsed.items()))) == raw
    assert writer.write(b"tree", format_tree(shuffled)) == tree


def test_folders_of_lists_every_folder_parents_first() -> None:
    paths = ["a/b/c.md", "x.md", "a/d.md", "e/f/g/h.md"]
    assert folders_of(paths) == ["", "a", "e", "a/b", "e/f", "e/f/g"]
    assert folders_of(["top.md"]) == [""]


@pytest.fixture
def seeded(repo: str) -> str:
    files = {"a/one.md": "one", "a/b/two.md": "two", "top.md": "top", "c/keep.md": "keep"}
    for name, body in files.items():
        os.makedirs(os.path.dirname(os.path.join(repo, name)), exist_ok=True)
        with open(os.path.join(repo, name), "w") as f:
            f.write(body)
    run_git(repo, "add", "-A")
    run_git(repo, "-c", "user.name=x", "-c", "user.email=x@example.org", "commit", "-qm", "seed")
    return repo


def base_trees(repo: str, paths: list[str]) -> dict[str, dict | None]:
    """The parsed trees of HEAD for every folder of `paths` (None where HEAD has none)."""
    trees: dict[str, dict | None] = {}
    for folder in folders_of(paths):
        spec = f"HEAD:{folder}"
        kind = subprocess.run(["git", "cat-file", "-t", spec], cwd=repo, capture_output=True)
        if kind.stdout.strip() == b"tree":
            trees[folder] = parse_tree(run_git(repo, "cat-file", "tree", spec), oid_bytes(repo))
        else:  # absent, or a file
            trees[folder] = None
    return trees


def as_git_writes_it(repo: str, changes: dict[str, Entry | None], tmp_index: str) -> str:
    """The root tree git makes of HEAD with `changes` (a temporary index, `write-tree`)."""
    env = {"GIT_INDEX_FILE": tmp_index}
    run_git(repo, "read-tree", "HEAD", **env)
    for path, entry in changes.items():
        if entry is None:
            run_git(repo, "update-index", "--force-remove", path, **env)
        else:
            info = f"{entry.mode.decode()},{entry.blob},{path}"
            run_git(repo, "update-index", "--add", "--cacheinfo", info, **env)
    return text(repo, "write-tree", **env)


def test_build_tree_makes_the_tree_git_makes(seeded: str, tmp_path) -> None:
    writer = ObjectWriter(git_dir(seeded), fsync=False)
    new = Entry(FILE_MODE, writer.blob(b"new"))
    changes: dict[str, Entry | None] = {
        "a/one.md": Entry(FILE_MODE, writer.blob(b"one, changed")),  # beside a kept folder
        "a/b/two.md": None,  # its folder's only file: the folder goes
        "new/deep/x.md": new,  # folders that did not exist
        "c/link": Entry(LINK_MODE, writer.blob(b"keep.md")),  # beside a kept file
        "gone.md": None,  # removing what is not there changes nothing
    }
    root, written = build_tree(writer, base_trees(seeded, list(changes)), changes)
    assert root == as_git_writes_it(seeded, changes, str(tmp_path / "index"))
    assert root in written
    for oid, tree in written.items():
        assert run_git(seeded, "cat-file", "tree", oid) == format_tree(tree)
    listed = text(seeded, "ls-tree", "-r", "--name-only", root).split("\n")
    assert listed == ["a/one.md", "c/keep.md", "c/link", "new/deep/x.md", "top.md"]
    # removing every file of the wiki leaves the empty tree
    everything = dict.fromkeys(["a/one.md", "a/b/two.md", "top.md", "c/keep.md"])
    empty, _ = build_tree(writer, base_trees(seeded, list(everything)), everything)
    assert empty == text(seeded, "hash-object", "-t", "tree", "--stdin", data=b"")


@pytest.mark.parametrize(
    ("path", "entry"),
    [("a", "file"), ("a/b", None), ("top.md/x.md", "file"), ("a/one.md/deeper/x.md", "file")],
)
def test_a_file_where_a_folder_is_or_a_folder_where_a_file_is_conflicts(
    seeded: str, path: str, entry: str | None
) -> None:
    writer = ObjectWriter(git_dir(seeded), fsync=False)
    change = {path: Entry(FILE_MODE, writer.blob(b"x")) if entry else None}
    with pytest.raises(Conflict):
        build_tree(writer, base_trees(seeded, [path]), change)


# -- paths -----------------------------------------------------------------------------------------
REFUSED_BY_GIT = [
    ".git/x", "a/.GIT/b", "a/.git", ".Git", "a/..", "./a", "a//b", "/a", "a/", "",
    "git~1/x", "GIT~1", ".git./x", ".git /x", ".git..",
    ".g\u200cit/x", ".gi\ufefft", ".GI\u206at", "\u200e.git",
]  # fmt: skip
ACCEPTED_BY_GIT = [
    "a.md", "..a", "a..b", ".gitx", "git~2", "~1", ".git~1", ".gitmodules", "a. ", "x/ ./y",
    "Folder/Page.md", "é/ü.md", ".hidden/page.md",
]  # fmt: skip


def test_paths_git_refuses_are_refused_and_the_rest_accepted(repo: str) -> None:
    """The same answer as git's `verify_path` with the NTFS and HFS protection on (the default on
    Windows and macOS: a wiki cloned there must check out), path by path."""
    blob = text(repo, "hash-object", "-w", "--stdin", data=b"x")
    for path in REFUSED_BY_GIT + ACCEPTED_BY_GIT:
        protected = ["-c", "core.protectNTFS=true", "-c", "core.protectHFS=true"]
        added = subprocess.run(
            ["git", *protected, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}"],
            cwd=repo,
            capture_output=True,
        )
        assert (added.returncode != 0) is (path in REFUSED_BY_GIT), path
        if path in REFUSED_BY_GIT:
            with pytest.raises(Invalid):
                check_path(path)
        else:
            check_path(path)


def test_a_backslash_is_refused_as_git_for_windows_refuses_it() -> None:
    with pytest.raises(Invalid):
        check_path("a\\b.md")


def test_build_tree_writes_nothing_for_a_path_git_refuses(seeded: str) -> None:
    writer = ObjectWriter(git_dir(seeded), fsync=False)
    blob = writer.blob(b"x")
    before = object_files(seeded)
    changes = {"ok/page.md": Entry(FILE_MODE, blob), "ok/.git/config": Entry(FILE_MODE, blob)}
    with pytest.raises(Invalid):
        build_tree(writer, base_trees(seeded, ["ok/page.md"]), changes)
    assert object_files(seeded) == before


# -- commits ---------------------------------------------------------------------------------------
@contextmanager
def time_zone(name: str) -> Iterator[None]:
    old = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


def stripspace(repo: str, message: str) -> str:
    return run_git(repo, "stripspace", data=message.encode()).decode()


@pytest.mark.parametrize(
    "zone",
    ["UTC", "Asia/Kolkata", "America/St_Johns", "Pacific/Chatham", "America/Los_Angeles"],
)
def test_commits_are_the_ones_commit_tree_makes(repo: str, zone: str) -> None:
    """Dated in the local time zone (whole hours, half hours, negative, 45 minutes) as git
    dates them, with and without a parent; the anonymous editor is "Anonymous"."""
    writer = ObjectWriter(git_dir(repo), fsync=False)
    tree = text(repo, "hash-object", "-w", "-t", "tree", "--stdin", data=b"")
    message = "\n\nSubject  \r\n\n\n\nbody line\t\n\n"
    parent = None
    for stamp, author in [(1700000000, AUTHOR), (1690000000, ("", "anon@example.org"))]:
        with time_zone(zone):
            ours = writer.write(b"commit", commit_object(tree, parent, author, message, stamp))
            env = {
                "GIT_AUTHOR_NAME": author[0] or "Anonymous",
                "GIT_AUTHOR_EMAIL": author[1],
                "GIT_AUTHOR_DATE": f"@{stamp}",
                "GIT_COMMITTER_NAME": author[0] or "Anonymous",
                "GIT_COMMITTER_EMAIL": author[1],
                "GIT_COMMITTER_DATE": f"@{stamp}",
                "TZ": zone,
            }
            args = ["commit-tree", tree] + (["-p", parent] if parent else [])
            theirs = text(repo, *args, data=stripspace(repo, message).encode(), **env)
        assert ours == theirs, run_git(repo, "cat-file", "-p", ours).decode()
        parent = ours
    run_git(repo, "fsck", "--strict", "--no-dangling")


def test_a_commit_without_a_date_is_dated_now(repo: str) -> None:
    before = int(time.time())
    raw = commit_object("0" * 40, None, AUTHOR, "now")
    after = int(time.time())
    author = next(line for line in raw.decode().split("\n") if line.startswith("author "))
    assert before <= int(author.split()[-2]) <= after


@pytest.mark.parametrize(
    "message",
    [
        "",
        "\n\n",
        " \t\n  \n",
        "one",
        "one\n",
        "  indented stays  \n\ntrailing spaces go   \n\n\n",
        "a\r\nb\r\n\r\n\r\nc\r\n",
        "\n\nsubject\n\n\n\nbody  \t\n\n",
        "a\n \n\t\nb",
        "x\n\n\n",
        "lone\rcarriage return\n",
    ],
)
def test_messages_are_cleaned_as_git_stripspace_cleans_them(repo: str, message: str) -> None:
    assert clean_message(message) == stripspace(repo, message)
