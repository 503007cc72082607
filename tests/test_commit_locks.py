"""The commit path's locks, journal and file handling (`otterwiki_api.commits`), one promise a test,
on a real temporary repository with the real `git`.

Time is the module's own: a `Clock` stands in for `time` inside `commits`, so waiting for a lock,
the stale bound and the deadlines are checked to the exact boundary without sleeping, and a loop
that never sleeps or never gives up fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import time
from collections.abc import Callable, Iterator

import pytest
from conftest import git
from otterwiki_api import commits
from otterwiki_api.commits import Change, CommitPath, HeadMoved
from otterwiki_api.errors import Busy
from otterwiki_api.gitcli import Git, GitFailed
from otterwiki_api.gitobjects import Entry

AUTHOR = ("Tester", "tester@example.org")
SEED = {"a.md": "one", "sub/deep/x.md": "x", "keep/y.md": "y", "keep/z.md": "z"}
IDENTITY = ("-c", "user.name=Ext", "-c", "user.email=ext@example.org")


class Clock:
    """`time` for the commits module: time passes only when it sleeps (by `step`, or by what it
    asked for), every sleep is recorded, and `on_sleep` plays the other process."""

    def __init__(self, step: float | None = None) -> None:
        self.start = self.now = 1_000_000.0
        self.step = step
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[Clock], None] | None = None
        self.calls = 0
        self.real_start = time.monotonic()

    def _tick(self) -> None:
        # code that spins or never gives up (a mutant) fails the test instead of hanging it
        self.calls += 1
        if self.calls > 20_000 or time.monotonic() - self.real_start > 20:
            raise RuntimeError("the commit path waited forever")

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        self._tick()
        return self.now

    def sleep(self, seconds: float) -> None:
        self._tick()
        self.sleeps.append(seconds)
        self.now += seconds if self.step is None else self.step
        if self.on_sleep is not None:
            self.on_sleep(self)


@pytest.fixture
def wiki(tmp_path) -> str:
    repo = str(tmp_path / "repo")
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    for name, text in SEED.items():
        write(repo, name, text)
    git(repo, "add", "-A")
    git(repo, *IDENTITY, "commit", "-qm", "seed")
    return repo


@pytest.fixture
def cp(wiki) -> CommitPath:
    return CommitPath(Git(wiki), stale_after=2.0, fsync=False)


@pytest.fixture
def clock(monkeypatch) -> Iterator[Clock]:
    clock = Clock()
    monkeypatch.setattr(commits, "time", clock)
    yield clock


@pytest.fixture
def umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def write(repo: str, name: str, text: str) -> None:
    target = os.path.join(repo, name)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with open(target, "w") as f:
        f.write(text)


def read(repo: str, name: str) -> str | None:
    try:
        with open(os.path.join(repo, name)) as f:
            return f.read()
    except FileNotFoundError:
        return None


def head(repo: str) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


def indexed(repo: str, name: str) -> str:
    """The blob the index holds for `name` ("" if none)."""
    out = git(repo, "ls-files", "-s", "--", name).split()
    return out[1] if out else ""


def at_head(repo: str, name: str) -> str:
    return git(repo, "rev-parse", f"HEAD:{name}").strip()


def journal(cp: CommitPath) -> dict | None:
    try:
        with open(cp.journal) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def lock_at(path: str, age: float, clock: Clock, content: str = "git") -> None:
    """A lock file `age` seconds old by the clock (its mtime set exactly)."""
    with open(path, "w") as f:
        f.write(content)
    when = clock.now - age
    os.utime(path, (when, when))


def branch_lock(repo: str) -> str:
    return os.path.join(repo, ".git", "refs", "heads", "main.lock")


def commit(cp: CommitPath, changes: dict[str, Change], message: str = "test"):
    return cp.commit(changes, message, AUTHOR, cp.git.head())


def on_update_ref(cp: CommitPath, monkeypatch, before: Callable[[list], None]) -> list:
    """Run `before(args)` ahead of every `git update-ref` the commit path runs; returns the list
    of their argument lists."""
    calls: list = []
    real = cp.git.run

    def run(*args, **kw):
        if "update-ref" in args:
            calls.append(list(args))
            before(list(args))
        return real(*args, **kw)

    monkeypatch.setattr(cp.git, "run", run)
    return calls


def external_commit(repo: str) -> str:
    """Another process moves the branch with plumbing (no index.lock needed)."""
    tree = git(repo, "rev-parse", "HEAD^{tree}").strip()
    new = git(repo, *IDENTITY, "commit-tree", tree, "-p", "HEAD", "-m", "ext").strip()
    git(repo, "update-ref", "HEAD", new)
    return new


# -- the commit -----------------------------------------------------------------------------------
def test_head_moved_after_the_base_was_read_writes_nothing(cp, wiki):
    """Checked under index.lock before anything is written: the path's local edit and what is
    staged for it stay, and the lock and the journal are gone."""
    base = head(wiki)
    moved = external_commit(wiki)
    write(wiki, "a.md", "local edit")
    git(wiki, "add", "a.md")
    staged = indexed(wiki, "a.md")
    with pytest.raises(HeadMoved):
        cp.commit({"a.md": Change(b"mine")}, "m", AUTHOR, base)
    assert head(wiki) == moved
    assert read(wiki, "a.md") == "local edit"
    assert indexed(wiki, "a.md") == staged
    assert not os.path.exists(cp.index_lock) and journal(cp) is None


def test_the_commit_returned_names_its_author_and_changes(cp, wiki):
    made = commit(cp, {"a.md": Change(b"two"), "keep/y.md": Change()})
    assert (made.author, made.email) == AUTHOR
    assert made.revision == head(wiki)
    assert made.changes == [("M", "a.md"), ("D", "keep/y.md")]
    assert made.blobs == {"a.md": at_head(wiki, "a.md")}


def test_a_moved_file_is_committed_with_its_object(cp, wiki):
    mode, oid = cp.git.tree_entries(head(wiki), ["a.md"])["a.md"]
    commit(cp, {"moved.md": Change(entry=Entry(mode.encode(), oid)), "a.md": Change()})
    assert at_head(wiki, "moved.md") == oid
    assert read(wiki, "moved.md") == "one" and read(wiki, "a.md") is None
    assert git(wiki, "status", "--porcelain") == ""


def test_the_reflog_names_the_first_line_up_to_200_characters(cp, wiki):
    commit(cp, {"a.md": Change(b"two")}, "x" * 300 + "\nbody")
    assert git(wiki, "log", "-g", "-1", "--format=%gs").strip() == "commit: " + "x" * 200
    commit(cp, {"a.md": Change(b"three")}, "")
    assert git(wiki, "log", "-g", "-1", "--format=%gs").strip() == "commit: (no message)"


def test_fsync_is_on_by_default_for_the_objects_and_the_ref(wiki, monkeypatch):
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd))
    for fsync in (True, False):
        cp = CommitPath(Git(wiki)) if fsync else CommitPath(Git(wiki), fsync=False)
        calls = on_update_ref(cp, monkeypatch, lambda args: None)
        synced.clear()
        commit(cp, {"a.md": Change(f"fsync {fsync}".encode())})
        assert bool(synced) is fsync
        assert f"core.fsync={'reference' if fsync else 'none'}" in calls[0]


# -- moving the branch ----------------------------------------------------------------------------
def test_a_branch_moved_by_a_git_that_was_then_killed_counts_as_done(cp, wiki, monkeypatch):
    real = cp.git.run

    def run(*args, **kw):
        out = real(*args, **kw)
        if "update-ref" in args:
            raise GitFailed(list(args), 137, "killed after the ref was written")
        return out

    monkeypatch.setattr(cp.git, "run", run)
    made = commit(cp, {"a.md": Change(b"mine")})
    assert head(wiki) == made.revision
    assert read(wiki, "a.md") == "mine" and indexed(wiki, "a.md") == at_head(wiki, "a.md")
    assert not os.path.exists(cp.index_lock)


def test_a_commit_by_another_process_during_update_ref_is_head_moved(cp, wiki, monkeypatch):
    """`update-ref` with the expected old commit refuses; the other commit stays and the path is
    back to it in the working tree and the index."""
    moved: list[str] = []
    on_update_ref(cp, monkeypatch, lambda args: moved.append(external_commit(wiki)))
    with pytest.raises(HeadMoved):
        commit(cp, {"a.md": Change(b"mine")})
    assert head(wiki) == moved[0]
    assert read(wiki, "a.md") == "one" and indexed(wiki, "a.md") == at_head(wiki, "a.md")
    assert not os.path.exists(cp.index_lock) and journal(cp) is None


def test_a_failure_with_no_ref_lock_in_the_way_is_not_retried(cp, wiki, monkeypatch, clock):
    def fail(args: list) -> None:
        if len(calls) > 1:
            raise RuntimeError("retried although no ref lock was in the way")
        raise GitFailed(args, 128, "fatal: some other failure")

    calls = on_update_ref(cp, monkeypatch, fail)
    before = head(wiki)
    with pytest.raises(GitFailed):
        commit(cp, {"a.md": Change(b"mine")})
    assert len(calls) == 1 and clock.sleeps == []
    assert head(wiki) == before and read(wiki, "a.md") == "one"
    assert cp._wait_for_ref_locks() is False


@pytest.mark.parametrize("symref", ["ref: refs/heads/main", "ref:refs/heads/main"])
def test_a_stale_branch_lock_is_removed_and_the_write_goes_on(cp, wiki, clock, caplog, symref):
    """A `<branch>.lock` older than `stale_after` was left by a killed git (git reads HEAD's
    `ref:` with or without the space)."""
    clock.step = 1.0  # (a mutant that keeps the lock reaches the deadline in a few retries)
    with open(os.path.join(wiki, ".git", "HEAD"), "w") as f:
        f.write(symref + "\n")
    lock_at(branch_lock(wiki), cp.stale_after + 1, clock)
    with caplog.at_level(logging.WARNING, logger=commits.__name__):
        made = commit(cp, {"a.md": Change(b"mine")})
    assert head(wiki) == made.revision and read(wiki, "a.md") == "mine"
    assert not os.path.exists(branch_lock(wiki))
    assert f"removing a stale {branch_lock(wiki)}" in caplog.text


def test_a_fresh_branch_lock_is_waited_for_in_10_ms_steps(cp, wiki, clock):
    lock_at(branch_lock(wiki), 0, clock)

    def git_finishes(clock: Clock) -> None:
        if len(clock.sleeps) == 3:
            os.remove(branch_lock(wiki))

    clock.on_sleep = git_finishes
    made = commit(cp, {"a.md": Change(b"mine")})
    assert head(wiki) == made.revision
    assert clock.sleeps == [0.01, 0.01, 0.01]


def test_a_branch_lock_kept_fresh_makes_the_write_busy_at_its_deadline(wiki, monkeypatch):
    """Waited for `stale_after` + 5 s (by the clock: the first retry past it gives up), then
    Busy (a 503 to retry, not git's error as a 500), and the write leaves nothing behind; the
    lock is not ours to remove."""
    clock = Clock(step=1.0)
    monkeypatch.setattr(commits, "time", clock)
    cp = CommitPath(Git(wiki), stale_after=1.0, fsync=False)
    lock_at(branch_lock(wiki), -1000, clock)  # touched again and again by a busy git
    before = head(wiki)
    with pytest.raises(Busy):
        commit(cp, {"a.md": Change(b"mine")})
    assert clock.now - clock.start == 1.0 + 5.0 + 1.0
    assert head(wiki) == before and read(wiki, "a.md") == "one"
    assert os.path.exists(branch_lock(wiki)) and not os.path.exists(cp.index_lock)


def test_a_ref_lock_is_stale_only_when_older_than_stale_after(cp, wiki, clock):
    lock = branch_lock(wiki)
    lock_at(lock, cp.stale_after, clock)
    assert cp._wait_for_ref_locks() is True and os.path.exists(lock)
    lock_at(lock, cp.stale_after + 0.5, clock)
    assert cp._wait_for_ref_locks() is True and not os.path.exists(lock)
    assert cp._wait_for_ref_locks() is False


# -- index.lock and the journal -------------------------------------------------------------------
def test_acquire_writes_its_token_into_a_0644_lock_and_the_journal(cp, wiki, umask):
    held = cp.acquire()
    with open(cp.index_lock) as f:
        assert f.read() == held.token
    assert len(held.token) == 32 and int(held.token, 16) >= 0
    assert os.stat(cp.index_lock).st_mode & 0o777 == 0o644
    assert journal(cp) == {"paths": [], "token": held.token}
    cp.release(held)
    assert not os.path.exists(cp.index_lock) and journal(cp) is None


def test_acquire_removes_a_killed_writers_staged_index(cp, wiki):
    os.makedirs(cp.state_dir, exist_ok=True)
    for name in ("index.4242", "index.4242.lock"):
        write(cp.state_dir, name, "left by a killed writer")
    held = cp.acquire()
    assert sorted(os.listdir(cp.state_dir)) == ["journal"]
    cp.release(held)


def test_a_dead_writers_lock_is_taken_over_at_once_and_its_paths_go_back_to_head(
    cp, wiki, clock, caplog
):
    write(wiki, "a.md", "half written")
    write(wiki, "new.md", "half created")
    git(wiki, "add", "a.md", "new.md")  # as the dead writer's staged index left them
    write(cp.state_dir, "journal", json.dumps({"paths": ["a.md", "new.md"], "token": "dead"}))
    lock_at(cp.index_lock, 0, clock, content="dead")
    with caplog.at_level(logging.WARNING, logger=commits.__name__):
        held = cp.acquire()
    assert clock.sleeps == [0.001]  # one poll, no waiting for the stale bound
    assert held.paths == set()
    assert journal(cp) == {"paths": [], "token": held.token}
    assert read(wiki, "a.md") == "one" and read(wiki, "new.md") is None
    assert indexed(wiki, "a.md") == at_head(wiki, "a.md") and indexed(wiki, "new.md") == ""
    assert "its wikibot writer died" in caplog.text
    assert "bringing 2 path(s) of an interrupted write to HEAD" in caplog.text
    cp.release(held)
    assert git(wiki, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_foreign_index_lock_is_waited_for_with_a_short_backoff(cp, wiki, clock):
    lock_at(cp.index_lock, 0, clock)
    write(cp.state_dir, "journal", json.dumps({"paths": [], "token": "another"}))

    def git_finishes(clock: Clock) -> None:
        if len(clock.sleeps) == 8:
            os.remove(cp.index_lock)

    clock.on_sleep = git_finishes
    held = cp.acquire()
    # the first retry after 1 ms, doubling to at most 20 ms: a write follows a git command
    # within milliseconds, and a long one costs at most 50 polls a second
    assert clock.sleeps == [0.001, 0.002, 0.004, 0.008, 0.016, 0.02, 0.02, 0.02]
    cp.release(held)


def test_a_foreign_index_lock_held_past_the_deadline_is_busy(wiki, monkeypatch):
    clock = Clock(step=1.0)
    monkeypatch.setattr(commits, "time", clock)
    cp = CommitPath(Git(wiki), stale_after=1.0, fsync=False)
    lock_at(cp.index_lock, -1000, clock, content="a git command")  # never stale
    with pytest.raises(Busy):
        cp.acquire()
    assert clock.now - clock.start == 1.0 + 5.0 + 1.0  # the first retry past the deadline
    assert read(wiki, ".git/index.lock") == "a git command"
    with pytest.raises(Busy):  # and so is a commit, which writes nothing
        commit(cp, {"a.md": Change(b"mine")})
    assert read(wiki, "a.md") == "one" and journal(cp) is None


def test_an_index_lock_is_stale_only_when_older_than_stale_after(cp, wiki, clock, caplog):
    lock_at(cp.index_lock, cp.stale_after, clock)
    assert cp._clear_stale_lock() is False and os.path.exists(cp.index_lock)
    lock_at(cp.index_lock, cp.stale_after + 0.5, clock)
    with caplog.at_level(logging.WARNING, logger=commits.__name__):
        assert cp._clear_stale_lock() is True
    assert not os.path.exists(cp.index_lock)
    assert "s old: its git process is gone" in caplog.text
    assert cp._clear_stale_lock() is True  # gone already: retry at once


def test_the_default_stale_bound_is_10_seconds(wiki, clock):
    cp = CommitPath(Git(wiki))
    lock_at(cp.index_lock, 9.5, clock)
    assert cp._clear_stale_lock() is False
    lock_at(cp.index_lock, 10.5, clock)
    assert cp._clear_stale_lock() is True and not os.path.exists(cp.index_lock)


def test_only_the_journals_token_marks_a_dead_writers_lock(cp, wiki, clock):
    write(cp.state_dir, "journal", json.dumps({"paths": [], "token": "dead"}))
    lock_at(cp.index_lock, 0, clock, content="another git")
    assert cp._clear_stale_lock() is False and os.path.exists(cp.index_lock)
    lock_at(cp.index_lock, 0, clock, content="dead")
    assert cp._clear_stale_lock() is True and not os.path.exists(cp.index_lock)


def test_an_unreadable_journal_marks_no_lock_and_restores_nothing(cp, wiki, clock):
    write(cp.state_dir, "journal", "{not json")
    lock_at(cp.index_lock, 0, clock, content="{not json")
    assert cp._clear_stale_lock() is False
    os.remove(cp.index_lock)
    held = cp.acquire()
    assert held.paths == set() and journal(cp) == {"paths": [], "token": held.token}
    cp.release(held)


def test_the_journal_names_the_paths_in_flight_and_goes_after(cp, wiki, monkeypatch):
    seen: list = []
    real = cp._move_branch

    def move(*args):
        with open(cp.index_lock) as f:
            seen.append((journal(cp), f.read()))
        return real(*args)

    monkeypatch.setattr(cp, "_move_branch", move)
    commit(cp, {"a.md": Change(b"mine"), "b/new.md": Change(b"new")})
    ((during, token),) = seen
    assert during == {"paths": ["a.md", "b/new.md"], "token": token}
    assert journal(cp) is None and not os.path.exists(cp.index_lock)


def test_release_brings_the_paths_in_flight_back_to_head(cp, wiki):
    held = cp.acquire()
    cp.touch(held, ["a.md", "new.md"])
    assert journal(cp) == {"paths": ["a.md", "new.md"], "token": held.token}
    write(wiki, "a.md", "a web save half done")
    write(wiki, "new.md", "a new page half done")
    cp.release(held)
    assert read(wiki, "a.md") == "one" and read(wiki, "new.md") is None
    assert git(wiki, "status", "--porcelain", "--untracked-files=all") == ""
    assert journal(cp) is None and not os.path.exists(cp.index_lock)


def test_paths_that_cannot_go_back_stay_in_the_journal_without_the_token(
    cp, wiki, monkeypatch, caplog
):
    held = cp.acquire()
    cp.touch(held, ["a.md"])
    write(wiki, "a.md", "half done")

    def full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cp, "_sync", full)
    with caplog.at_level(logging.ERROR, logger=commits.__name__):
        cp.release(held)
    assert "could not bring 1 path(s) to HEAD" in caplog.text
    assert journal(cp) == {"paths": ["a.md"], "token": ""}
    assert not os.path.exists(cp.index_lock)
    monkeypatch.undo()
    held = cp.acquire()  # the next writer repairs it
    assert read(wiki, "a.md") == "one" and held.paths == set()
    cp.release(held)


def test_an_interrupted_write_in_an_empty_repository_goes_back_to_nothing(tmp_path):
    repo = str(tmp_path / "empty")
    subprocess.run(["git", "init", "-q", "-b", "main", repo], check=True)
    cp = CommitPath(Git(repo), stale_after=2.0, fsync=False)
    held = cp.acquire()
    cp.touch(held, ["a.md"])
    write(repo, "a.md", "half done")
    cp.release(held)
    assert read(repo, "a.md") is None and journal(cp) is None
    assert git(repo, "ls-files") == "" and os.path.exists(cp.index_file)


# -- the shared index and the working tree --------------------------------------------------------
@pytest.mark.parametrize("version", ["2", "4"])
def test_others_staged_changes_stay_staged_and_the_written_paths_match(cp, wiki, version):
    """Index version 4 is not patched in place: git's update-index does it on a copy."""
    git(wiki, "update-index", "--index-version", version)
    write(wiki, "staged.md", "someone else's")
    git(wiki, "add", "staged.md")
    commit(cp, {"a.md": Change(b"mine"), "keep/y.md": Change(), "sub/new.md": Change(b"n")})
    assert git(wiki, "diff", "--cached", "--name-only").split() == ["staged.md"]
    assert indexed(wiki, "a.md") == at_head(wiki, "a.md")
    assert indexed(wiki, "sub/new.md") == at_head(wiki, "sub/new.md")
    assert indexed(wiki, "keep/y.md") == ""
    assert indexed(wiki, "keep/z.md") == at_head(wiki, "keep/z.md")
    assert git(wiki, "status", "--porcelain").split("\n")[0] == "A  staged.md"


def test_a_staged_index_lock_left_by_a_killed_git_does_not_stop_the_way_back(cp, wiki, monkeypatch):
    """A version-4 index is staged by `git update-index`; when that git is killed, its
    `index.<pid>.lock` stays, and bringing the paths back to HEAD (in the same write, with no
    acquire in between to clear it) stages again from scratch."""
    git(wiki, "update-index", "--index-version", "4")
    real = cp.git.run
    killed: list[str] = []

    def run(*args, **kw):
        if "update-index" in args and not killed:
            killed.append(kw["env"]["GIT_INDEX_FILE"])
            write(os.path.dirname(killed[0]), os.path.basename(killed[0]) + ".lock", "")
            raise GitFailed(list(args), -9, "killed")
        return real(*args, **kw)

    monkeypatch.setattr(cp.git, "run", run)
    with pytest.raises(GitFailed):
        commit(cp, {"a.md": Change(b"mine")})
    assert killed and read(wiki, "a.md") == "one"
    assert indexed(wiki, "a.md") == at_head(wiki, "a.md")
    assert journal(cp) is None and not os.path.exists(cp.index_lock)


def test_the_new_index_keeps_the_old_ones_time(cp, wiki):
    """Git judges "racily clean" entries by the index's time: a copy dated now would make it
    trust the stale stat data of a file rewritten within the second."""
    index = os.path.join(wiki, ".git", "index")
    os.utime(index, ns=(1_500_000_000 * 10**9, 1_500_000_000 * 10**9))
    commit(cp, {"a.md": Change(b"mine")})
    assert os.stat(index).st_mtime_ns == 1_500_000_000 * 10**9


def test_a_symlink_is_written_as_a_link(cp, wiki):
    commit(cp, {"link.md": Change(b"a.md", link=True), "file.md": Change(b"text")})
    assert os.readlink(os.path.join(wiki, "link.md")) == "a.md"
    assert not os.path.islink(os.path.join(wiki, "file.md")) and read(wiki, "file.md") == "text"
    assert git(wiki, "ls-tree", "HEAD", "link.md").split()[0] == "120000"
    assert git(wiki, "status", "--porcelain") == ""


def test_a_removal_prunes_emptied_folders_and_a_killed_writers_leftover(cp, wiki):
    write(wiki, "sub/deep/.x.md.wikibot-tmp", "left by a killed writer")
    commit(cp, {"sub/deep/x.md": Change(), "keep/y.md": Change()})
    assert not os.path.exists(os.path.join(wiki, "sub"))
    assert os.listdir(os.path.join(wiki, "keep")) == ["z.md"]
    assert git(wiki, "status", "--porcelain", "--untracked-files=all") == ""


def test_removing_a_file_already_gone_from_the_working_tree(cp, wiki):
    os.remove(os.path.join(wiki, "a.md"))
    made = commit(cp, {"a.md": Change()})
    assert made is not None and git(wiki, "ls-tree", "HEAD", "a.md") == ""
    assert git(wiki, "status", "--porcelain") == ""
