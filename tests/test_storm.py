"""The storm: every kind of writer at once on one repository, then the history is audited.

Servers: `wikibot serve --direct` and the gateway mode (the deployed shape) on one data folder.
Writers, each its own process (tests/storm_client.py): REST API clients (PUT, PATCH, rename,
delete, attachments, a contended page), a web-UI client saving through the editor form, an
external git user (`git commit -- file` and `git commit -a`), and a `git status` loop that keeps
taking `.git/index.lock`. Afterwards, from git itself: every commit belongs to exactly one
operation and changes exactly its files with exactly its content and author; every
acknowledged write is in history, no refused one is; replaying the operations in history order
gives HEAD (nothing reverted); `git fsck` is clean; every server's page index equals HEAD, and
so does the semantic index once it has caught up.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter

import pytest
import requests
from conftest import assert_semantic_index_equals_head, git
from mcp_helpers import WikiServe
from otterwiki_api.gitcli import Git

KEY = "storm-admin-key"
SECONDS = 40
HERE = os.path.dirname(os.path.abspath(__file__))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def storm(tmp_path_factory):
    data = str(tmp_path_factory.mktemp("storm") / "data")
    # the direct server keeps a semantic index with the local model, synced on every write
    searching = {"WIKIBOT_API_KEY": KEY, "WIKIBOT_SEARCH_EMBEDDER": "local"}
    servers = [WikiServe(data, searching, "--direct").start()]
    # the gateway as deployed, its wiki function scaling out to three instance processes
    servers.append(WikiServe(data, {"WIKIBOT_API_KEY": KEY}, "--instances", "3").start())
    repo = os.path.join(data, "repository")
    start = git(repo, "rev-parse", "HEAD").strip()
    urls = ",".join(s.url for s in servers)
    logs = os.path.join(data, "ops")
    os.makedirs(logs)
    status_loop = subprocess.Popen(
        ["sh", "-c", "while true; do git status --porcelain >/dev/null 2>&1; sleep 0.05; done"],
        cwd=repo,
    )
    writers = [("api", f"a{i}") for i in range(3)] + [("web", "w0"), ("git", "g0")]
    procs = [
        subprocess.Popen(
            [sys.executable, os.path.join(HERE, "storm_client.py"), kind, ident, urls, repo, KEY]
            + [str(SECONDS), os.path.join(logs, f"{ident}.jsonl")],
            stderr=subprocess.PIPE,
            text=True,
        )
        for kind, ident in writers
    ]
    try:
        for proc in procs:
            _, err = proc.communicate(timeout=SECONDS + 180)
            assert proc.returncode == 0, err[-3000:]
    finally:
        status_loop.kill()
        status_loop.wait()
    ops = []
    for name in sorted(os.listdir(logs)):
        with open(os.path.join(logs, name), encoding="utf-8") as f:
            ops += [json.loads(line) for line in f]
    instances = servers[1].instances()
    yield {"repo": repo, "start": start, "ops": ops, "servers": servers, "instances": instances}
    for server in servers:
        server.stop()


def test_every_commit_is_exactly_one_operation(storm):
    repo, ops = storm["repo"], storm["ops"]
    by_message = {op["message"]: op for op in ops}
    assert len(by_message) == len(ops)
    commits = list(reversed(Git(repo).log(rev_range=f"{storm['start']}..HEAD")))
    kinds = Counter(op["message"].split()[1][0] for op in ops if op["ok"])
    assert kinds["a"] > 50 and kinds["w"] > 5 and kinds["g"] > 5, kinds  # a real storm
    seen = Counter(c.message.strip() for c in commits)
    assert [m for m, n in seen.items() if n > 1] == []
    for commit in commits:
        op = by_message.get(commit.message.strip())
        assert op is not None, f"a commit no operation made: {commit.message!r} {commit.changes}"
        assert sorted(p for _, p in commit.changes) == sorted(op["files"]), op
        assert commit.author == op["author"]
        wanted = [p for p, content in op["files"].items() if content is not None]
        blobs = Git(repo).cat_blobs([f"{commit.revision}:{p}" for p in wanted])
        for path, blob in zip(wanted, blobs, strict=True):
            assert blob is not None and blob.decode().strip() == op["files"][path], (path, op)


def test_the_gateway_ran_the_wiki_in_several_instances(storm):
    """Like Lambda instances on EFS: separate processes writing one repository."""
    wiki = [pid for pid, handler in storm["instances"].items() if handler == "lambda_init.handler"]
    assert 2 <= len(wiki) <= 3, storm["instances"]


def test_acknowledged_writes_are_in_history_and_refused_ones_are_not(storm):
    messages = {
        c.message.strip() for c in Git(storm["repo"]).log(rev_range=f"{storm['start']}..HEAD")
    }
    acknowledged = [op["message"] for op in storm["ops"] if op["ok"]]
    refused = [op for op in storm["ops"] if not op["ok"]]
    assert [m for m in acknowledged if m not in messages] == []
    assert [op for op in refused if op["message"] in messages] == []
    # refusals are the optimistic lock's (409) and nothing else: no 5xx under the storm
    assert {op["status"] for op in refused} <= {409}, Counter(op["status"] for op in refused)


def test_replaying_history_gives_head(storm):
    repo = storm["repo"]
    by_message = {op["message"]: op for op in storm["ops"]}
    state: dict[str, str | None] = {}
    for commit in reversed(Git(repo).log(rev_range=f"{storm['start']}..HEAD")):
        state.update(by_message[commit.message.strip()]["files"])
    head = Git(repo).tree_entries("HEAD", ["storm/"])
    assert sorted(p for p, c in state.items() if c is not None) == sorted(head)
    blobs = Git(repo).cat_blobs([oid for _, oid in head.values()])
    for path, blob in zip(head, blobs, strict=True):
        assert blob.decode().strip() == state[path], path


def test_repository_is_sound_and_clean(storm):
    repo = storm["repo"]
    fsck = subprocess.run(
        ["git", "fsck", "--strict", "--no-dangling"], cwd=repo, capture_output=True, text=True
    )
    assert fsck.returncode == 0 and "error" not in fsck.stderr, fsck.stderr
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not os.path.exists(os.path.join(repo, ".git", "index.lock"))


def test_every_page_index_equals_head(storm):
    repo = storm["repo"]
    files = {p for p in Git(repo).ls_tree("HEAD", "storm/") if p.endswith(".md")}
    for server in storm["servers"]:
        pages = requests.get(
            f"{server.url}/api/v1/pages",
            params={"prefix": "storm/"},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=60,
        ).json()["pages"]
        assert {p["path"].lower() + ".md" for p in pages} == files
        for page in pages:
            filename = page["path"].lower() + ".md"
            last = git(repo, "log", "-1", "--format=%H", "--", filename).strip()
            assert page["revision"] == last, filename


def test_the_semantic_index_equals_head(storm):
    repo, url = storm["repo"], storm["servers"][0].url
    assert_semantic_index_equals_head(url, KEY, repo)
