"""A killed writer never breaks the wiki: crash faults during writes recover by themselves.

Servers (`wikibot serve --direct` and the gateway mode) are SIGKILLed at random moments while
API writes and web saves stream in, sometimes with their git children, sometimes leaving those
to finish; git processes are also killed mid-commit under a live server. After every kill:
`git fsck` is clean, the next API write and the next web save succeed within the stale-lock
bound, every acknowledged write is in HEAD with its content, and the page index equals HEAD.
A full disk (a small tmpfs in a mount namespace of its own) answers 507 and loses nothing.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time

import pytest
import requests
from conftest import assert_semantic_index_equals_head, csrf_token, git
from mcp_helpers import WikiServe
from otterwiki_api.gitcli import Git

KEY = "crash-admin-key"
STALE = 2.0  # WIKIBOT_STALE_LOCK_SECONDS for these servers: the recovery bound under test
ENV = {"WIKIBOT_API_KEY": KEY, "WIKIBOT_STALE_LOCK_SECONDS": str(STALE)}
HERE = os.path.dirname(os.path.abspath(__file__))
pytestmark = pytest.mark.slow


def put(url: str, path: str, content: str, timeout: float = 30) -> requests.Response:
    return requests.put(
        f"{url}/api/v1/pages/{path}",
        json={"content": content},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=timeout,
    )


def web_save(url: str, path: str, content: str) -> int:
    session = requests.Session()
    token = csrf_token(session.get(f"{url}/{path}/edit", timeout=30).text)
    data = {"content": content, "commit": f"web {content}", "csrf_token": token}
    resp = session.post(f"{url}/{path}/save", data=data, allow_redirects=False, timeout=30)
    return resp.status_code


class Stream:
    """API writes (a new page each) from a thread until stopped; remembers what was
    acknowledged and what was refused."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.acknowledged: dict[str, str] = {}
        self.refused: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            n += 1
            path, content = f"{self.prefix}/p{n}", f"{self.prefix} write {n}"
            try:
                resp = put(self.url, path, content, timeout=10)
            except requests.RequestException:
                continue  # the server died mid-request: unknown outcome, neither list
            (self.acknowledged if resp.status_code == 201 else self.refused)[path] = content

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def check_repository(repo: str, acknowledged: dict[str, str]) -> None:
    fsck = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"], cwd=repo, capture_output=True, text=True
    )
    assert fsck.returncode == 0, fsck.stderr
    files = {p.lower() + ".md": c for p, c in acknowledged.items()}
    blobs = Git(repo).cat_blobs([f"HEAD:{f}" for f in files])
    missing = [f for f, b in zip(files, blobs, strict=True) if b is None or b.decode() != files[f]]
    assert missing == [], f"acknowledged but not in HEAD: {missing}"


def check_index(url: str, repo: str, prefix: str) -> None:
    listed = requests.get(
        f"{url}/api/v1/pages",
        params={"prefix": prefix + "/"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    ).json()["pages"]
    files = {p for p in Git(repo).ls_tree("HEAD", prefix.lower() + "/") if p.endswith(".md")}
    assert {p["path"].lower() + ".md" for p in listed} == files


def recover(server: WikiServe, repo: str, round_: int) -> float:
    """Restart; the next API write and web save must succeed within the stale-lock bound."""
    started = time.monotonic()
    server.start()
    resp = put(server.url, f"crash/after-{round_}", f"after {round_}")
    assert resp.status_code == 201, resp.text
    assert web_save(server.url, f"crash/web-{round_}", f"web after {round_}") in (302, 303)
    elapsed = time.monotonic() - started
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    return elapsed


def test_servers_killed_mid_write_recover(tmp_path):
    data = str(tmp_path / "data")
    rng = random.Random(7)
    servers = [WikiServe(data, ENV, "--direct"), WikiServe(data, ENV)]
    repo = os.path.join(data, "repository")
    acknowledged: dict[str, str] = {}
    recoveries = []
    servers[0].start()
    try:
        for round_ in range(8):
            server = servers[round_ % 2]
            if server.process is None:
                server.start()
            stream = Stream(server.url, f"crash/r{round_}")
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill(group=rng.random() < 0.5)
            stream.stop()
            acknowledged.update(stream.acknowledged)
            check_repository(repo, acknowledged)
            recoveries.append(recover(server, repo, round_))
            check_index(server.url, repo, f"crash/r{round_}")
            server.stop()
        assert len(acknowledged) > 20
        # restarted servers answer within the bound: no lock waits longer than the stale rule
        assert max(recoveries) < STALE + 20, recoveries
        print(
            f"kills survived: 8, acknowledged writes: {len(acknowledged)}, recovery s: "
            + ", ".join(f"{r:.1f}" for r in recoveries)
        )
    finally:
        for server in servers:
            server.stop()


# git as the server finds it on PATH: of the write path's `update-ref` and `cat-file` runs, one in
# six dies before it starts (so some writes fail for sure), two in six are SIGKILLed a moment after
# they start (before, during or after their work), the rest run untouched, once the kill log
# exists (the server has started). A line per kill in the log.
KILLING_GIT = """#!/bin/sh
case " $* " in
  *" update-ref "*|*" cat-file "*)
    roll=$(( $(od -An -N1 -tu1 /dev/urandom) % 6 ))
    if [ -e "$KILL_LOG" ] && [ $roll -eq 0 ]; then
      echo killed >> "$KILL_LOG"  # before it did anything
      exit 137
    fi
    if [ -e "$KILL_LOG" ] && [ $roll -le 2 ]; then
      "$REAL_GIT" "$@" & child=$!
      sleep 0.00$(( $(od -An -N1 -tu1 /dev/urandom) % 4 ))
      kill -9 $child 2>/dev/null && echo killed >> "$KILL_LOG"
      wait $child
      exit 137
    fi;;
esac
exec "$REAL_GIT" "$@"
"""


def test_git_killed_mid_commit_leaves_no_trace(tmp_path):
    """git children killed at random under a live server: a write either answers 2xx and is in
    HEAD, or answers an error and is in no commit; the repository stays sound."""
    wrapper = tmp_path / "bin"
    wrapper.mkdir()
    (wrapper / "git").write_text(KILLING_GIT)
    (wrapper / "git").chmod(0o755)
    kills = tmp_path / "kills.log"
    env = {
        **ENV,
        "PATH": f"{wrapper}:{os.environ['PATH']}",
        "REAL_GIT": shutil.which("git"),
        "KILL_LOG": str(kills),
    }
    data = str(tmp_path / "data")
    repo = os.path.join(data, "repository")
    os.makedirs(repo)
    subprocess.run(["git", "init", "-q", repo], check=True)  # before any kill
    server = WikiServe(data, env, "--direct").start()
    kills.write_text("")  # armed
    try:
        stream = Stream(server.url, "crash/git")
        time.sleep(6)
        stream.stop()
        server.stop()
        assert kills.exists() and kills.read_text().count("killed") > 3, "nothing was killed"
        assert stream.acknowledged and stream.refused, len(stream.acknowledged)
        check_repository(repo, stream.acknowledged)
        touched = set(git(repo, "log", "--name-only", "--format=").split())
        assert [p for p in stream.refused if p.lower() + ".md" in touched] == []
        server.env["PATH"] = os.environ["PATH"]  # git whole again: recovery as usual
        assert recover(server, repo, 0) < STALE + 20
        check_index(server.url, repo, "crash/git")
    finally:
        server.stop()


@pytest.mark.parametrize("owner", ["git", "wikibot"])
def test_a_stale_index_lock_blocks_no_write_for_long(tmp_path, owner):
    """`.git/index.lock` left by a killed process: web saves used to fail until someone deleted
    it by hand. A dead wikibot writer's lock (its journal's token) goes at once; any other one
    once it is older than the stale bound."""
    data = str(tmp_path / "data")
    server = WikiServe(data, ENV, "--direct").start()
    repo = os.path.join(data, "repository")
    try:
        assert put(server.url, "lock/first", "first").status_code == 201
        server.kill()
        lock = os.path.join(repo, ".git", "index.lock")
        if owner == "wikibot":
            journal = os.path.join(repo, ".git", "wikibot", "journal")
            with open(journal, "w") as f:
                json.dump({"paths": ["lock/first.md"], "token": "dead-writer"}, f)
            with open(lock, "w") as f:
                f.write("dead-writer")
            with open(os.path.join(repo, "lock", "first.md"), "w") as f:
                f.write("half-written by the dead writer")
        else:
            shutil.copy(os.path.join(repo, ".git", "index"), lock)  # as a killed git leaves it
        took = recover(server, repo, 0)
        assert took < STALE + 20
        assert not os.path.exists(lock)
        if owner == "wikibot":  # the dead writer's half-written file is back to HEAD
            assert open(os.path.join(repo, "lock", "first.md")).read() == "first"
    finally:
        server.stop()


PROBE = r"""
import json, os, sys, base64, subprocess
os.environ["WIKIBOT_API_KEY"] = "k"
os.environ["WIKIBOT_SEARCH_EMBEDDER"] = "none"
from wikibot import localwiki
data = localwiki.prepare(sys.argv[1])
app = localwiki.create_app(data)
client = app.test_client()
auth = {"Authorization": "Bearer k"}
head = lambda: subprocess.run(["git", "rev-parse", "HEAD"], cwd=data.repository,
                              capture_output=True, text=True).stdout.strip()
assert client.put("/api/v1/pages/Full", json={"content": "kept"}, headers=auth).status_code == 201
before, answers = head(), []
blob = base64.b64encode(os.urandom(1024 * 1024)).decode()
for i in range(40):
    resp = client.post("/api/v1/pages/Full/attachments", headers=auth,
                       json={"filename": f"f{i}.bin", "content": blob})
    answers.append((resp.status_code, (resp.get_json() or {}).get("code")))
    if resp.status_code != 201:
        break
    before = head()
fsck = subprocess.run(["git", "fsck", "--strict", "--no-dangling"], cwd=data.repository,
                      capture_output=True, text=True)
page = client.get("/api/v1/pages/Full", headers=auth).get_json()
print("PROBE " + json.dumps({"answers": answers, "head_kept": head() == before,
      "fsck": fsck.returncode, "fsck_err": fsck.stderr[-500:], "content": page["content"]}))
"""


def test_a_full_disk_answers_507_and_loses_nothing(tmp_path):
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed for the full-disk test")
    mount = str(tmp_path / "small")
    os.makedirs(mount)
    script = (
        f"mount -t tmpfs -o size=12m tmpfs {mount} && "
        f'exec {sys.executable} -c "$PROBE" {mount}/data'
    )
    proc = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        env={**os.environ, "PROBE": PROBE},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=HERE,
    )
    line = next((x for x in proc.stdout.splitlines() if x.startswith("PROBE ")), None)
    assert line, proc.stdout[-2000:] + proc.stderr[-3000:]
    result = json.loads(line[6:])
    last = result["answers"][-1]
    assert last == [507, "insufficient_storage"], result["answers"]
    assert result["head_kept"] and result["fsck"] == 0, result
    assert result["content"] == "kept"


def full_reindex(url: str) -> None:
    """Start a full rebuild of the semantic index; the server may die under it."""
    try:
        requests.post(
            f"{url}/api/v1/reindex",
            json={"full": True},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=60,
        )
    except requests.RequestException:
        pass


def test_killed_during_reindex_and_sync_the_semantic_index_recovers(tmp_path):
    """SIGKILL while the vector store is rebuilt in bounded steps and synced on writes: the next
    process continues the job, and the store ends equal to HEAD (never half-applied)."""
    data = str(tmp_path / "data")
    env = {**ENV, "WIKIBOT_SEARCH_EMBEDDER": "local", "WIKIBOT_REINDEX_BUDGET": "0.5"}
    server = WikiServe(data, env, "--direct").start()
    repo = os.path.join(data, "repository")
    acknowledged: dict[str, str] = {}
    try:
        for i in range(40):
            content = f"# Topic {i}\n\n" + f"paragraph about subject number {i}. " * 40
            assert put(server.url, f"crash/search/p{i}", content).status_code == 201
            acknowledged[f"crash/search/p{i}"] = content
        for round_ in range(3):
            stream = Stream(server.url, f"crash/search/r{round_}")
            reindex = threading.Thread(target=full_reindex, args=(server.url,), daemon=True)
            reindex.start()
            time.sleep(random.Random(round_).uniform(0.3, 1.2))
            server.kill()
            stream.stop()
            acknowledged.update(stream.acknowledged)
            check_repository(repo, acknowledged)
            server.start()
        assert_semantic_index_equals_head(server.url, KEY, repo)
    finally:
        server.stop()
