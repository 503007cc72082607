"""Writes that cannot finish before the Lambda invocation's deadline are refused before they
start (503, nothing written) instead of being killed mid-commit; waits for the repository lock
and the init phase's repository set-up end in time. Against the real app and repository; the
deadline is set as the Lambda entry sets it from the invocation's context."""

from __future__ import annotations

import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from conftest import csrf_token, git
from otterwiki_api import deadline
from otterwiki_api.errors import Busy

import lambda_init

HOLD_LOCK = """
import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def locked_elsewhere(repo):
    """The repository's write lock, held by another process (another Lambda instance)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, f"{repo}/.git/wikibot-write.lock"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    yield
    proc.kill()
    proc.wait()


def test_a_write_too_close_to_the_deadline_is_refused_and_leaves_nothing(client_api, unique, repo):
    head = git(repo, "rev-parse", "HEAD")
    with deadline.until(deadline.RESERVE - 0.5):
        code, body, _ = client_api.put(f"/pages/{unique}/Late", {"content": "too late"})
    assert code == 503 and "not enough time left" in body["error"], body
    assert git(repo, "rev-parse", "HEAD") == head
    assert client_api.get(f"/pages/{unique}/Late")[0] == 404
    with deadline.until(deadline.RESERVE + 10):
        code, body, _ = client_api.put(f"/pages/{unique}/Late", {"content": "in time"})
    assert code == 201, body


def test_a_web_save_too_close_to_the_deadline_is_refused(app, unique, repo):
    web = app.test_client()
    token = csrf_token(web.get(f"/{unique}/Web/edit").get_data(as_text=True))
    head = git(repo, "rev-parse", "HEAD")
    form = {"content": "late", "commit": "late", "csrf_token": token}
    with deadline.until(1.0):
        response = web.post(f"/{unique}/Web/save", data=form)
    assert response.status_code == 503
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""


def test_the_lock_wait_ends_in_time_to_answer(client_api, unique, repo, locked_elsewhere):
    """Another instance holds the lock: the wait stops `RESERVE` seconds before the deadline
    (the lock's own timeout is 30 s), and the caller hears why."""
    started = time.monotonic()
    with deadline.until(deadline.RESERVE + 1.0):
        code, body, _ = client_api.put(f"/pages/{unique}/Waiting", {"content": "x"})
    waited = time.monotonic() - started
    assert code == 503 and "locked by another writer" in body["error"], body
    assert 0.8 < waited < deadline.RESERVE, waited


def test_the_lambda_entry_gives_each_invocation_its_deadline(monkeypatch):
    seen = []
    monkeypatch.setattr(
        lambda_init, "_wiki", lambda: lambda event, ctx: seen.append(deadline.remaining())
    )
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 12_000)
    lambda_init.handler({"rawPath": "/"}, context)
    lambda_init.handler({"rawPath": "/"}, object())  # a caller without Lambda's context
    assert 11.0 < seen[0] <= 12.0 and seen[1] is None
    assert deadline.remaining() is None  # nothing lingers after the invocation


def test_the_init_phase_does_not_wait_out_a_locked_repository(tmp_path, monkeypatch, capsys):
    """A new repository another instance is setting up: init gives up within its budget and
    leaves the wiki to the first request (Lambda's init phase is capped at 10 s)."""
    repository = str(tmp_path / "repository")
    subprocess.run(["git", "init", "-q", repository], check=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, f"{repository}/.git/wikibot-write.lock"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        with deadline.until(3.0), pytest.raises(Busy):
            lambda_init.init_repository(repository)
        assert time.monotonic() - started < 3.0
        monkeypatch.setattr(lambda_init, "INIT_BUDGET", 3.0)
        monkeypatch.setattr(lambda_init, "_wiki", lambda: lambda_init.init_repository(repository))
        started = time.monotonic()
        lambda_init._init_wiki()  # does not raise: the first request builds the wiki
        assert time.monotonic() - started < 3.0
        assert "built on the first request" in capsys.readouterr().out
    finally:
        holder.kill()
        holder.wait()


def test_a_wiki_that_cannot_be_built_in_time_answers_503_not_an_invocation_error(monkeypatch):
    def locked() -> None:
        raise Busy("the repository is locked by another writer; retry shortly")

    monkeypatch.setattr(lambda_init, "_wiki", locked)
    context = SimpleNamespace(get_remaining_time_in_millis=lambda: 9000)
    answer = lambda_init.handler({"rawPath": "/"}, context)
    assert answer["statusCode"] == 503 and "locked" in answer["body"]
