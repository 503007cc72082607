"""Several wiki processes on one repository (as several Lambda instances on EFS) writing at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import ROOT, csrf_token, git, wait_until_healthy
from mcp_helpers import free_port

KEY = "concurrency-key"
LOCK_TIMEOUT = 10  # seconds, the servers' WIKIBOT_LOCK_TIMEOUT
# the tests on `servers` (four wiki processes to start) and the cold-start race are `slow`; the
# lock and half-made-repository tests take well under a second and belong in the quick loop


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Four `wikibot serve` processes sharing one data folder: two as deployed (the wiki function
    behind the local gateway takes one request at a time, like a Lambda instance) and two
    `--direct` (one threaded server, like a self-hosted Otterwiki), alternating in `urls`."""
    data = tmp_path_factory.mktemp("shared")
    # these processes test the REST API's writes; semantic search would only add model loading
    # a short lock wait: a write stuck behind a lock nobody releases answers 503 within seconds
    # (each write holds the lock for milliseconds, so the queues here stay far below it)
    env = {
        **os.environ,
        "WIKIBOT_API_KEY": KEY,
        "WIKIBOT_SEARCH_EMBEDDER": "none",
        "WIKIBOT_LOCK_TIMEOUT": str(LOCK_TIMEOUT),
    }
    env.pop("WIKIBOT_API_KEYS", None)
    procs, urls = [], []
    for flags in [(), ("--direct",)] * 2:
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "wikibot",
                    "serve",
                    *flags,
                    "--port",
                    str(port),
                    "--data-dir",
                    str(data),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=open(data / f"server-{port}.log", "w"),
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
        if len(urls) == 1:  # let the first one create the repository and Home page alone
            wait_until_healthy(urls[0], request_timeout=30)
    for url in urls:
        wait_until_healthy(url, request_timeout=30)  # a gateway builds its app then
    yield urls, str(data / "repository")
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait(timeout=20)


def _put(url: str, path: str, body: dict) -> requests.Response:
    return requests.put(
        f"{url}/api/v1/pages/{path}",
        json=body,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=120,
    )


@pytest.mark.slow
def test_many_processes_write_different_pages(servers):
    urls, repo = servers
    before = int(git(repo, "rev-list", "--count", "HEAD"))
    jobs = [(urls[i % len(urls)], f"parallel/page-{i}") for i in range(40)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda j: _put(j[0], j[1], {"content": f"body {j[1]}"}), jobs))
    assert [r.status_code for r in results] == [201] * 40, [
        r.text for r in results if r.status_code != 201
    ]
    assert int(git(repo, "rev-list", "--count", "HEAD")) == before + 40
    assert git(repo, "status", "--porcelain") == ""
    fsck = subprocess.run(["git", "fsck", "--strict"], cwd=repo, capture_output=True, text=True)
    assert fsck.returncode == 0, fsck.stderr
    # every process sees every page, whichever wrote it
    for url in urls:
        listing = requests.get(
            f"{url}/api/v1/pages",
            params={"prefix": "parallel/"},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=30,
        ).json()
        assert listing["total"] == 40


@pytest.mark.slow
def test_same_revision_from_many_processes_one_wins(servers):
    urls, repo = servers
    rev = _put(urls[0], "contended", {"content": "start"}).json()["revision"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(
                lambda i: _put(
                    urls[i % len(urls)], "contended", {"content": f"v{i}", "revision": rev}
                ),
                range(8),
            )
        )
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 7, [r.text for r in results]
    winner = next(r.json() for r in results if r.status_code == 200)
    assert all(
        r.json()["current_revision"] == winner["revision"] for r in results if r.status_code == 409
    )
    assert git(repo, "status", "--porcelain") == ""


def _edit_form(url: str, page: str) -> tuple[requests.Session, str]:
    """A browser session on Otterwiki's editor for `page`, and the form's CSRF token."""
    session = requests.Session()
    return session, csrf_token(session.get(f"{url}/{page}/edit", timeout=30).text)


def _web_save(url: str, page: str, form: tuple[requests.Session, str], text: str) -> tuple:
    """Save through Otterwiki's editor: (status, Location, start of the body)."""
    session, token = form
    resp = session.post(
        f"{url}/{page}/save",
        data={"content": text, "commit": text, "csrf_token": token},
        allow_redirects=False,
        timeout=LOCK_TIMEOUT + 20,
    )
    return resp.status_code, resp.headers.get("Location", ""), resp.text[:300]


@pytest.mark.slow
def test_a_web_save_waits_for_the_repository_lock_and_then_frees_it(servers):
    """Otterwiki's editor writes under the one repository lock: while another process holds it,
    a save waits instead of committing beside it, and once the save is answered the lock is free
    again (one it kept would stall every other writer). Both server kinds: the gateway's
    one-request-at-a-time function and the threaded `--direct` server."""
    from otterwiki_api.errors import Busy
    from otterwiki_api.repolock import FileLock

    urls, repo = servers
    lock = FileLock(os.path.join(repo, ".git", "wikibot-write.lock"), timeout=5)
    for i, url in enumerate(urls[:2]):
        page = f"locked/web-{i}"
        form = _edit_form(url, page)
        head = git(repo, "rev-parse", "HEAD").strip()
        pool = ThreadPoolExecutor(max_workers=1)
        try:
            with lock.hold():
                save = pool.submit(_web_save, url, page, form, f"locked web {i}")
                time.sleep(1.0)
                assert not save.done(), f"{url} saved while the lock was held: {save.result()}"
                assert git(repo, "rev-parse", "HEAD").strip() == head
            status, location, text = save.result(timeout=LOCK_TIMEOUT)
        finally:
            pool.shutdown(wait=False)
        assert (status, location.rstrip("/").endswith(f"/{page}")) == (302, True), (text, url)
        assert git(repo, "log", "-1", "--format=%s").strip() == f"locked web {i}"
        assert git(repo, "rev-parse", "HEAD~1").strip() == head
        try:
            with lock.hold(timeout=2):
                pass
        except Busy:
            pytest.fail(f"{url} still holds the repository lock after answering a web save")


@pytest.mark.slow
def test_web_ui_and_api_write_concurrently(servers):
    """Otterwiki's own editor (GitPython) in some processes, the API in others: every write
    answers its success (none is refused after waiting out a lock), and each is a commit of its
    own holding exactly its page."""
    urls, repo = servers
    before = git(repo, "rev-parse", "HEAD").strip()

    # Fetch the editor forms one at a time: Otterwiki's own ftoc cache fills with a
    # check-then-insert that fails under concurrent cold reads (an upstream issue in a GET path).
    pages = [(urls[i % len(urls)], f"mixed/web-{i}") for i in range(10)]
    forms = [_edit_form(url, page) for url, page in pages]

    def api_save(i: int) -> tuple[int, str]:
        resp = _put(urls[(i + 1) % len(urls)], f"mixed/api-{i}", {"content": f"api {i}"})
        return resp.status_code, resp.text[:300]

    with ThreadPoolExecutor(max_workers=10) as pool:
        web = [pool.submit(_web_save, *pages[i], forms[i], f"web {i}") for i in range(10)]
        api = [pool.submit(api_save, i) for i in range(10)]
        web_answers = [f.result() for f in web]
        api_answers = [f.result() for f in api]
    assert [a[0] for a in web_answers] == [302] * 10, web_answers
    assert [a[0] for a in api_answers] == [201] * 10, api_answers
    # each write is one commit holding exactly its own page
    log = git(repo, "log", "--format=%x00%s", "--name-only", f"{before}..HEAD")
    commits = [c.split("\n") for c in log.split("\x00")[1:]]
    commits = sorted((c[0], tuple(f for f in c[1:] if f)) for c in commits)
    expected = [(f"web {i}", (f"mixed/web-{i}.md",)) for i in range(10)]
    expected += [(f"[api] Create: mixed/api-{i}", (f"mixed/api-{i}.md",)) for i in range(10)]
    assert commits == sorted(expected)
    assert git(repo, "status", "--porcelain") == ""
    listing = requests.get(
        f"{urls[2]}/api/v1/pages",
        params={"prefix": "mixed/"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    ).json()
    assert listing["total"] == 20


_HOLDER = """
import sys
from otterwiki_api.repolock import FileLock

lock = FileLock(sys.argv[1])
for line in sys.stdin:  # "acquire" / "release", each answered when done
    getattr(lock, line.strip())()
    print(line.strip(), flush=True)
"""


def test_file_lock_excludes_other_processes(tmp_path):
    """The repository lock holds across processes: while another process has it, taking it
    times out with Busy; it is free once that process releases it, or dies holding it (a killed
    Lambda instance must not lock the wiki); re-entrant within a thread."""
    from otterwiki_api.errors import Busy
    from otterwiki_api.repolock import FileLock

    path = str(tmp_path / "x.lock")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )

    def tell(command: str) -> None:
        holder.stdin.write(command + "\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == command

    lock = FileLock(path, timeout=0.3)
    try:
        tell("acquire")
        with pytest.raises(Busy):
            lock.acquire()
        tell("release")  # the holder lives on
        with lock.hold():
            with lock.hold():  # re-entrant in one thread
                pass
        tell("acquire")
        with pytest.raises(Busy):
            lock.acquire()
        holder.kill()
        holder.wait(timeout=10)
        with lock.hold(timeout=2):
            pass
    finally:
        holder.kill()
        holder.wait()


# Each racer imports lambda_init once, then for every round waits for that round's start file and
# calls init_repository on the round's new folder, as cold starts of several Lambda instances on
# one new EFS folder do.
_COLD_START = r"""
import os, sys, time, traceback
import lambda_init

lambda_init._git_environment()
folders = sys.argv[1:]
print("ready", flush=True)
for i, repository in enumerate(folders):
    go = f"{repository}.go"
    while not os.path.exists(go):
        time.sleep(0.0002)
    try:
        lambda_init.init_repository(repository)
        print(f"{i} ok", flush=True)
    except Exception:
        print(f"{i} failed: " + traceback.format_exc().replace("\n", " | "), flush=True)
"""


@pytest.mark.slow
def test_cold_starts_racing_on_a_new_folder_make_one_sound_repository(tmp_path):
    """Several instances start at once on a folder with no repository yet: every one of them
    comes up (none fails its init), and the folder holds one repository with exactly one
    initial commit, nothing left over beside it."""
    rounds, racers = 8, 6
    folders = [str(tmp_path / f"wiki{i}" / "repository") for i in range(rounds)]
    for folder in folders:
        os.makedirs(os.path.dirname(folder))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _COLD_START, *folders],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(racers)
    ]
    try:
        for p in procs:
            assert p.stdout.readline().strip() == "ready"
        for i, folder in enumerate(folders):
            open(f"{folder}.go", "w").close()  # all racers start this round at once
            answers = [p.stdout.readline().strip() for p in procs]
            assert answers == [f"{i} ok"] * racers, answers
            assert git(folder, "rev-list", "--count", "HEAD").strip() == "1"
            log = git(folder, "log", "--format=%an <%ae>|%s").strip()
            assert log == "Otterwiki Robot <noreply@otterwiki>|Initial commit"
            assert git(folder, "ls-tree", "-r", "--name-only", "HEAD").split() == ["home.md"]
            assert git(folder, "status", "--porcelain", "--ignored") == ""
            assert sorted(os.listdir(folder)) == [".git", "home.md"]
            fsck = subprocess.run(["git", "fsck", "--strict"], cwd=folder, capture_output=True)
            assert fsck.returncode == 0, fsck.stderr
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_a_half_made_git_folder_is_completed_on_the_next_cold_start(tmp_path, monkeypatch):
    """A `.git` with no HEAD (a start killed early left only the write lock's file in it) is not
    taken for a repository: the next start completes it and makes the initial commit."""
    import lambda_init

    monkeypatch.setenv("GIT_COMMITTER_NAME", "Otterwiki Robot")  # as _git_environment gives
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "noreply@otterwiki")
    repository = tmp_path / "repository"
    (repository / ".git").mkdir(parents=True)
    (repository / ".git" / "wikibot-write.lock").touch()
    lambda_init.init_repository(str(repository))
    assert git(str(repository), "log", "--format=%s").strip() == "Initial commit"
    assert sorted(os.listdir(repository)) == [".git", "home.md"]
    assert git(str(repository), "status", "--porcelain", "--ignored") == ""
