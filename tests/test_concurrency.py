"""Several wiki processes on one repository (as several Lambda instances on EFS) writing at once."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from conftest import ROOT, csrf_token, git, wait_until_healthy
from mcp_helpers import free_port

KEY = "concurrency-key"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """Four `wikibot serve` processes sharing one data folder: two as deployed (the wiki function
    behind the local gateway takes one request at a time, like a Lambda instance) and two
    `--direct` (one threaded server, like a self-hosted Otterwiki), alternating in `urls`."""
    data = tmp_path_factory.mktemp("shared")
    # these processes test the REST API's writes; semantic search would only add model loading
    env = {**os.environ, "WIKIBOT_API_KEY": KEY, "WIKIBOT_SEARCH_EMBEDDER": "none"}
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


def test_web_ui_and_api_write_concurrently(servers):
    """Otterwiki's own editor (GitPython) in some processes, the API in others: no lost commit,
    no index.lock error."""
    urls, repo = servers
    before = int(git(repo, "rev-list", "--count", "HEAD"))

    # Fetch the editor forms one at a time: Otterwiki's own ftoc cache fills with a
    # check-then-insert that fails under concurrent cold reads (an upstream issue in a GET path).
    forms = []
    for i in range(10):
        session = requests.Session()
        url = urls[i % len(urls)]
        forms.append((session, url, csrf_token(session.get(f"{url}/mixed/web-{i}/edit").text)))

    def web_save(i: int) -> int:
        session, url, token = forms[i]
        resp = session.post(
            f"{url}/mixed/web-{i}/save",
            data={"content": f"web {i}", "commit": f"web {i}", "csrf_token": token},
            allow_redirects=False,
            timeout=120,
        )
        return resp.status_code

    def api_save(i: int) -> int:
        return _put(
            urls[(i + 1) % len(urls)], f"mixed/api-{i}", {"content": f"api {i}"}
        ).status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        web = [pool.submit(web_save, i) for i in range(10)]
        api = [pool.submit(api_save, i) for i in range(10)]
        web_codes = [f.result() for f in web]
        api_codes = [f.result() for f in api]
    assert all(c in (302, 303) for c in web_codes), web_codes
    assert api_codes == [201] * 10
    assert int(git(repo, "rev-list", "--count", "HEAD")) == before + 20
    assert git(repo, "status", "--porcelain") == ""
    listing = requests.get(
        f"{urls[2]}/api/v1/pages",
        params={"prefix": "mixed/"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    ).json()
    assert listing["total"] == 20


def test_file_lock_excludes_other_processes(tmp_path):
    from otterwiki_api.errors import Busy
    from otterwiki_api.repolock import FileLock

    path = str(tmp_path / "x.lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from otterwiki_api.repolock import FileLock\n"
            f"l = FileLock({path!r}); l.acquire(); print('held', flush=True); time.sleep(3)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline().strip() == "held"
    lock = FileLock(path, timeout=0.3)
    with pytest.raises(Busy):
        lock.acquire()
    holder.wait(timeout=10)
    with lock.hold():  # released when the other process ended
        with lock.hold():  # re-entrant in one thread
            pass


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
