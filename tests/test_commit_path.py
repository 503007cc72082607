"""Every write commits exactly its own change (issue: phantom, leaked and reverted commits).

Reproductions, each against the real app on its real repository: a `git status` loop holding
`.git/index.lock`, files someone else staged, commits made behind the shared index's back, and
writes that fail half way.
"""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from conftest import csrf_token, git


def changed_paths(repo: str, rev: str = "HEAD") -> list[str]:
    out = git(repo, "diff-tree", "-r", "--no-commit-id", "--name-only", "--root", rev)
    return sorted(out.split())


def staged(repo: str) -> list[str]:
    return sorted(git(repo, "diff", "--cached", "--name-only").split())


def web_save(app, path: str, content: str, message: str):
    web = app.test_client()
    token = csrf_token(web.get(f"/{path}/edit").get_data(as_text=True))
    return web.post(
        f"/{path}/save", data={"content": content, "commit": message, "csrf_token": token}
    )


def plumbing_commit(repo: str, filename: str, content: str) -> str:
    """Commit like a tool that never touches the shared index (update-ref from another
    process): the index is left one commit behind HEAD."""
    env = {
        "GIT_AUTHOR_NAME": "Plumber",
        "GIT_AUTHOR_EMAIL": "plumber@example.org",
        "GIT_COMMITTER_NAME": "Plumber",
        "GIT_COMMITTER_EMAIL": "plumber@example.org",
        "GIT_INDEX_FILE": os.path.join(repo, ".git", "plumber-index"),
    }
    blob = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=repo,
        input=content,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    git(repo, "read-tree", "HEAD", env=env)
    git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{filename}", env=env)
    tree = git(repo, "write-tree", env=env).strip()
    commit = git(repo, "commit-tree", tree, "-p", "HEAD", "-m", "plumbing", env=env).strip()
    git(repo, "update-ref", "HEAD", commit)
    os.remove(env["GIT_INDEX_FILE"])
    return commit


@pytest.fixture
def status_loop(repo):
    """Another process running `git status` over and over: it holds `.git/index.lock` often."""
    proc = subprocess.Popen(
        ["sh", "-c", "while true; do git status --porcelain >/dev/null 2>&1; done"], cwd=repo
    )
    time.sleep(0.2)
    yield
    proc.kill()
    proc.wait()


def test_writes_succeed_and_stay_apart_while_git_status_loops(
    client_api, unique, repo, status_loop
):
    revisions = {}
    for i in range(15):
        code, body, _ = client_api.put(f"/pages/{unique}/P{i}", {"content": f"page {i}"})
        assert code == 201, body
        revisions[i] = body["revision"]
        assert changed_paths(repo, body["revision"]) == [f"{unique.lower()}/p{i}.md"]
    for i in range(0, 15, 3):
        code, body, _ = client_api.patch(
            f"/pages/{unique}/P{i}",
            {"old_string": f"page {i}", "new_string": f"edited {i}", "revision": revisions[i]},
        )
        assert code == 200, body
        assert changed_paths(repo, body["revision"]) == [f"{unique.lower()}/p{i}.md"]
    authors = git(repo, "log", "-20", "--format=%an", "--", unique.lower()).split("\n")
    assert set(filter(None, authors)) == {"Ada Admin"}


def test_what_someone_else_staged_is_never_committed_by_the_api(client_api, unique, repo):
    other = os.path.join(repo, f"{unique}-staged.md")
    with open(other, "w") as f:
        f.write("staged by someone else")
    git(repo, "add", "--", f"{unique}-staged.md")
    try:
        code, body, _ = client_api.put(f"/pages/{unique}/Mine", {"content": "mine"})
        assert code == 201, body
        assert changed_paths(repo) == [f"{unique.lower()}/mine.md"]
        code, body, _ = client_api.post(
            f"/pages/{unique}/Mine/rename", {"new_path": f"{unique}/Moved"}
        )
        assert code == 200, body
        assert f"{unique}-staged.md" not in changed_paths(repo)
        # still staged for its owner, and the API's own paths are clean in the index
        assert staged(repo) == [f"{unique}-staged.md"]
    finally:
        git(repo, "rm", "-q", "--cached", "--", f"{unique}-staged.md")
        os.remove(other)


def test_what_someone_else_staged_is_never_committed_by_the_web_ui(app, unique, repo):
    other = os.path.join(repo, f"{unique}-staged.md")
    with open(other, "w") as f:
        f.write("staged by someone else")
    git(repo, "add", "--", f"{unique}-staged.md")
    try:
        resp = web_save(app, f"{unique}/Web", "from the web", "web save")
        assert resp.status_code in (302, 303)
        assert changed_paths(repo) == [f"{unique.lower()}/web.md"]
        assert git(repo, "log", "-1", "--format=%s").strip() == "web save"
        assert staged(repo) == [f"{unique}-staged.md"]
    finally:
        git(repo, "rm", "-q", "--cached", "--", f"{unique}-staged.md")
        os.remove(other)


def test_a_commit_made_behind_the_index_is_not_reverted(app, client_api, unique, repo):
    """A commit that did not update the shared index (plumbing, another instance) survives the
    API's and the web UI's next writes: neither writes the stale index into its tree."""
    code, body, _ = client_api.put(f"/pages/{unique}/Theirs", {"content": "first"})
    assert code == 201
    theirs = f"{unique.lower()}/theirs.md"
    plumbing_commit(repo, theirs, "second, committed behind the index")
    code, body, _ = client_api.put(f"/pages/{unique}/Api", {"content": "api"})
    assert code == 201
    assert changed_paths(repo) == [f"{unique.lower()}/api.md"]
    plumbing_commit(repo, theirs, "third, committed behind the index")
    resp = web_save(app, f"{unique}/Web", "web", "web save")
    assert resp.status_code in (302, 303)
    assert changed_paths(repo) == [f"{unique.lower()}/web.md"]
    assert git(repo, "show", f"HEAD:{theirs}") == "third, committed behind the index"
    # the index stays the plumber's business: its staged view of their page is theirs to fix
    git(repo, "reset", "-q", "--", theirs)
    git(repo, "checkout", "-q", "--", theirs)


def test_a_failed_write_leaves_nothing_behind(client_api, unique, repo, app, monkeypatch):
    code, body, _ = client_api.put(f"/pages/{unique}/Kept", {"content": "kept"})
    assert code == 201
    head = git(repo, "rev-parse", "HEAD").strip()
    commits = app.extensions["wikibot_api"].service.commits

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(commits, "_move_branch", refuse)
    code, body, _ = client_api.put(
        f"/pages/{unique}/Kept", {"content": "lost?", "revision": body["revision"]}
    )
    assert code >= 500
    code, _, _ = client_api.put(f"/pages/{unique}/Never", {"content": "never"})
    assert code >= 500
    monkeypatch.undo()
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert git(repo, "status", "--porcelain", "--", unique.lower()) == ""
    assert open(os.path.join(repo, unique.lower(), "kept.md")).read() == "kept"
    assert not os.path.exists(os.path.join(repo, unique.lower(), "never.md"))
    # and the next write commits only its own change
    code, body, _ = client_api.put(f"/pages/{unique}/After", {"content": "after"})
    assert code == 201
    assert changed_paths(repo) == [f"{unique.lower()}/after.md"]


def test_a_web_save_that_fails_leaves_nothing_behind(app, unique, repo, monkeypatch):
    head = git(repo, "rev-parse", "HEAD").strip()
    commits = app.extensions["wikibot_api"].service.commits

    def refuse(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(commits, "_move_branch", refuse)
    try:  # the test client re-raises what the view raised when the app propagates errors
        assert web_save(app, f"{unique}/Failed", "never committed", "x").status_code >= 500
    except OSError:
        pass
    monkeypatch.undo()
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert not os.path.exists(os.path.join(repo, unique.lower(), "failed.md"))
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_old_index_is_freed_after_the_write_and_leftovers_go(
    client_api, unique, repo, monkeypatch
):
    """The old index gets a second name so the rename does not free it on the write's time; a
    thread removes it, and one a dead process left is removed by a later write."""
    import otterwiki_api.indexswap as indexswap

    state = os.path.join(repo, ".git", "wikibot")
    os.makedirs(state, exist_ok=True)
    leftover = os.path.join(state, f"{indexswap.PREFIX}999999.0")
    with open(leftover, "wb") as f:
        f.write(b"an old index a killed process left")

    def retired() -> list[str]:
        return sorted(n for n in os.listdir(state) if n.startswith(indexswap.PREFIX))

    removed: list[str] = []
    real_remove = indexswap._remove

    def recording_remove(path: str) -> None:
        removed.append(os.path.basename(path))
        real_remove(path)

    monkeypatch.setattr(indexswap, "_remove", recording_remove)
    own = f"{indexswap.PREFIX}{os.getpid()}."
    code, body, _ = client_api.put(f"/pages/{unique}/Swap", {"content": "one"})
    assert code == 201, body
    waited = time.monotonic() + 30
    while any(n.startswith(own) for n in retired()) and time.monotonic() < waited:
        time.sleep(0.05)  # this write's old index, removed by its thread
    assert [n for n in removed if n.startswith(own)], removed  # it had a second name
    assert retired() == [os.path.basename(leftover)]  # young: maybe another process's, kept
    monkeypatch.setattr(indexswap, "LEFTOVER_AFTER", 0.0)
    update = {"content": "two", "revision": body["revision"]}
    code, body, _ = client_api.put(f"/pages/{unique}/Swap", update)
    assert code == 200, body
    waited = time.monotonic() + 30
    while retired() and time.monotonic() < waited:
        time.sleep(0.05)
    assert retired() == []
    assert git(repo, "show", f":{unique.lower()}/swap.md") == "two"  # the index is the new one
