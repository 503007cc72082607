"""The base commit's trees kept between writes (`otterwiki_api.basetrees`), on a real repository:
what a write reads of its base is exactly what git says is there, whatever was committed in
between by whom, and a write on the previous write's commit asks git for no trees at all."""

from __future__ import annotations

import subprocess

import pytest
from conftest import git
from otterwiki_api.basetrees import BaseTrees
from otterwiki_api.commits import Change, CommitPath
from otterwiki_api.gitcli import Git
from otterwiki_api.gitobjects import TREE_MODE

AUTHOR = ("Tester", "tester@example.org")


@pytest.fixture
def path(tmp_path):
    repo = str(tmp_path / "repo")
    subprocess.run(["git", "init", "-q", repo], check=True)
    for name, text in {"a/one.md": "one", "a/b/two.md": "two", "top.md": "top"}.items():
        (tmp_path / "repo" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "repo" / name).write_text(text)
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=x", "-c", "user.email=x@example.org", "commit", "-qm", "seed")
    return CommitPath(Git(repo), stale_after=2.0)


def commit(path: CommitPath, changes: dict[str, str | None]) -> str:
    base = path.git.head()
    made = path.commit(
        {p: Change(None if t is None else t.encode()) for p, t in changes.items()},
        "test",
        AUTHOR,
        base,
    )
    assert made is not None
    return made.revision


def external_commit(repo: str, *args: str) -> None:
    git(repo, *args)
    git(repo, "-c", "user.name=x", "-c", "user.email=x@example.org", "commit", "-qam", "ext")


def as_git_says(repo: str, rev: str, folder: str) -> dict[bytes, bytes]:
    """{name: mode} of a folder as `git ls-tree` lists it."""
    out = git(repo, "ls-tree", "-z", f"{rev}:{folder}" if folder else f"{rev}^{{tree}}")
    return {
        e.split("\t")[1].encode(): e.split()[0].lstrip("0").encode() for e in out.split("\0") if e
    }


def test_reads_match_git_after_external_commits_of_every_kind(path):
    repo = path.root
    commit(path, {"a/three.md": "three"})  # keeps the trees it wrote
    # behind its back: a file changed, a folder removed, a file where a folder was
    with open(f"{repo}/a/one.md", "w") as f:
        f.write("one, changed outside")
    external_commit(repo, "rm", "-rq", "a/b")
    with open(f"{repo}/a/b", "w") as f:
        f.write("now a file")
    external_commit(repo, "add", "a/b")
    head = path.git.head()
    root, trees, blobs = path.base.read(
        head, ["a/b", "a/b/c", "gone"], ["a/one.md", "a/b", "top.md"]
    )
    assert root == git(repo, "rev-parse", f"{head}^{{tree}}").strip()
    assert {n: e[0] for n, e in trees["a"].items()} == as_git_says(repo, head, "a")
    assert trees["a/b"] is None and trees["a/b/c"] is None and trees["gone"] is None
    assert blobs == [b"one, changed outside", b"now a file", b"top"]
    # a write on top keeps the external changes (a stale tree here would revert them)
    commit(path, {"a/four.md": "four"})
    assert git(repo, "show", "HEAD:a/one.md") == "one, changed outside"
    assert git(repo, "show", "HEAD:a/b") == "now a file"
    assert git(repo, "diff-tree", "-r", "--name-only", "--no-commit-id", "HEAD").split() == [
        "a/four.md"
    ]


def test_a_write_on_the_previous_write_asks_git_for_no_trees(path, monkeypatch):
    commit(path, {"a/b/five.md": "five"})
    asked: list[list[str]] = []
    real = Git.cat_blobs
    monkeypatch.setattr(
        Git, "cat_blobs", lambda self, names: (names and asked.append(names)) or real(self, names)
    )
    commit(path, {"a/b/six.md": "six", "top.md": "top, again"})
    assert asked == []
    # the committed files, as the working tree has them: no git process at all
    _, _, blobs = path.base.read(path.git.head(), [], ["a/b/six.md", "missing.md"])
    assert blobs == [b"six", None] and asked == []
    # a file changed but not committed: its committed bytes, by blob id (never `<commit>:<path>`,
    # for which git walks the trees again)
    with open(f"{path.root}/a/b/six.md", "w") as f:
        f.write("six, not committed")
    _, _, blobs = path.base.read(path.git.head(), [], ["a/b/six.md", "top.md"])
    assert blobs == [b"six", b"top, again"]
    assert len(asked) == 1 and len(asked[0]) == 1 and ":" not in asked[0][0]


def test_a_folder_replaced_by_a_file_is_refused_not_read_as_a_tree(path):
    repo = path.root
    external_commit(repo, "rm", "-rq", "a/b")
    with open(f"{repo}/a/b", "w") as f:
        f.write("a file")
    external_commit(repo, "add", "a/b")
    with pytest.raises(Exception, match="is a file"):
        commit(path, {"a/b/seven.md": "seven"})


def test_kept_trees_stay_within_their_limit(path):
    trees = BaseTrees(path.git, path.objects.object_id, limit=3)
    head = path.git.head()
    _, found, _ = trees.read(head, ["a/b"])
    assert set(found) == {"", "a", "a/b"}
    assert trees._entries <= 3 or len(trees._trees) == 1
    # what was dropped is read again, correctly
    _, again, _ = trees.read(head, ["a/b"])
    assert again == found and again["a"][b"b"][0] == TREE_MODE


def test_a_folder_named_as_a_file_reads_as_no_file(path):
    _, _, blobs = path.base.read(path.git.head(), [], ["a", "a/b", "a/one.md"])
    assert blobs == [None, None, b"one"]


def fake_tree(entries: int) -> dict[bytes, tuple[bytes, bytes]]:
    return {f"n{i}".encode(): (b"100644", b"") for i in range(entries)}


def test_the_cache_keeps_at_most_its_limit_least_recently_used_first(path):
    """Memory stays bounded: trees beyond `limit` entries go, the least recently used first,
    exactly at the limit nothing goes, and the newest tree always stays."""
    trees = BaseTrees(path.git, path.objects.object_id, limit=6)
    trees.keep("c1", "t1", {"t1": fake_tree(2), "t2": fake_tree(2), "t3": fake_tree(2)})
    assert list(trees._trees) == ["t1", "t2", "t3"]  # 6 entries: at the limit, all kept
    with trees._lock:
        trees._trees.move_to_end("t1")  # as a read does
    trees.keep("c2", "t4", {"t4": fake_tree(1)})
    assert list(trees._trees) == ["t3", "t1", "t4"]  # t2, least recently used, went
    trees.keep("c3", "t5", {"t5": fake_tree(50)})
    assert list(trees._trees) == ["t5"]  # larger than the limit on its own: kept alone
    for n in range(1030):
        trees.keep(f"commit{n}", "t5", {})
    assert len(trees._roots) == 1024 and "commit0" not in trees._roots
    assert "commit1029" in trees._roots


def test_a_read_marks_its_trees_recently_used(path):
    head = path.git.head()
    trees = BaseTrees(path.git, path.objects.object_id, limit=1000)
    root, found, _ = trees.read(head, ["a/b"])
    oldest = next(iter(trees._trees))
    trees.keep("other", "x", {"x": fake_tree(1)})
    trees.read(head, ["a/b"])  # touches root, a, a/b again
    assert list(trees._trees)[0] == "x" and oldest in trees._trees
    assert list(trees._roots)[-1] == head and root == list(trees._trees)[1]
