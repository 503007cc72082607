"""The plugins installed the way Otterwiki's official image installs plugins, and served the way
it serves the wiki, without Docker.

The image's entrypoint runs `pip install -U .` in every folder under /plugins (alphabetical), then
starts uWSGI with `docker/uwsgi.ini` from Otterwiki's repository: `module = otterwiki.server`,
`callable = app`, master process, threads enabled, a single interpreter, `uid`/`gid = www-data`,
`env = HOME=/app-data`. Here: a fresh virtualenv holding only Otterwiki (the version on the
package index this project is tested with, which is also the lowest it supports), the loop over
copies of the three plugin folders, and Debian's uWSGI (`uwsgi-core`, `uwsgi-plugin-python3`)
with those settings, an HTTP socket instead of the unix one behind nginx, and 2 worker
processes (the image's default is 1): the app is imported in the master and forked, as there.
Everything is asked through the uWSGI server: the REST API, /mcp with a static token (the real
MCP client), semantic search's status, web saves through the real form, and API writes from
several threads at once (the repository lock across the forked workers)."""

from __future__ import annotations

import importlib.metadata
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import csrf_token, git
from mcp_helpers import free_port, tool

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("otterwiki_api", "otterwiki_mcp", "otterwiki_search")
SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter Debian's uWSGI plugin embeds
UWSGI = "/usr/bin/uwsgi"
KEY = "image-admin-key-0123456789abcdef"
TOKEN = "image-mcp-token-0123456789abcdef"
USER = "www-data"


def pip(venv: Path, *args: str, cwd: Path | None = None) -> None:
    """This project's pip, installing into `venv` (made without pip of its own)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    for needed in (SYSTEM_PYTHON, UWSGI):
        assert os.path.exists(needed), (
            f"{needed} is missing: apt-get install uwsgi-core uwsgi-plugin-python3"
        )
    assert os.geteuid() == 0, "uWSGI switches to www-data as in the image: run as root"
    base = Path(tempfile.mkdtemp(prefix="wikibot-image-", dir="/tmp"))
    base.chmod(0o755)
    venv = base / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    otterwiki = importlib.metadata.version("otterwiki")
    pip(venv, "install", "-q", f"otterwiki=={otterwiki}")
    plugins = base / "plugins"
    skip = shutil.ignore_patterns("__pycache__", "build", "*.egg-info")
    for name in PLUGINS:
        shutil.copytree(ROOT / "plugins" / name, plugins / name, ignore=skip)
    for folder in sorted(plugins.iterdir()):  # the entrypoint's loop
        pip(venv, "install", "-q", "-U", ".", cwd=folder)
    data = base / "app-data"
    repository = data / "repository"
    repository.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(repository)], check=True)
    settings = data / "settings.cfg"
    settings.write_text(
        f"REPOSITORY = '{repository}'\nSECRET_KEY = 'image-test-secret'\n"
        f"SQLALCHEMY_DATABASE_URI = 'sqlite:///{data}/db.sqlite'\n"
    )
    user = pwd.getpwnam(USER)
    for path in [data, *data.rglob("*")]:
        os.chown(path, user.pw_uid, user.pw_gid)
    port = free_port()
    ini = base / "uwsgi.ini"
    ini.write_text(
        textwrap.dedent(
            f"""\
            [uwsgi]
            plugin = python3
            virtualenv = {venv}
            module = otterwiki.server
            callable = app
            http11-socket = 127.0.0.1:{port}
            master = true
            processes = 2
            need-app = true
            die-on-term = true
            single-interpreter = true
            vacuum = true
            uid = {USER}
            gid = {USER}
            wsgi-disable-file-wrapper = true
            enable-threads = true
            env = HOME={data}
            """
        )
    )
    env = {
        "PATH": os.environ["PATH"],
        "OTTERWIKI_SETTINGS": str(settings),
        "WIKIBOT_API_KEY": KEY,
        "WIKIBOT_MCP_TOKEN": TOKEN,
        "WIKIBOT_SEARCH_EMBEDDER": "none",
    }
    log = base / "uwsgi.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [UWSGI, "--ini", str(ini)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=base
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/api/v1/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert server.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        yield {"url": url, "repo": str(repository), "log": log, "venv": venv}
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(base, ignore_errors=True)


def as_root(repo: str, *args: str) -> str:
    """git here (root) in the repository www-data owns."""
    return git(repo, "-c", "safe.directory=*", *args)


def api(image: dict[str, Any], method: str, path: str, **body: Any) -> requests.Response:
    return requests.request(
        method,
        f"{image['url']}/api/v1{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    )


@pytest.mark.slow
def test_the_plugins_install_as_the_image_installs_them(image: dict[str, Any]) -> None:
    out = subprocess.run(
        [
            str(image["venv"] / "bin" / "python"),
            "-c",
            "import importlib.metadata as m; "
            "print(sorted((d.metadata['Name'], d.version) for d in m.distributions() "
            "if d.metadata['Name'].startswith('wikibot')))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=image["venv"],  # not this checkout, whose wikibot.egg-info Python would find
        env={"PATH": os.environ["PATH"]},
    ).stdout
    assert (
        out.strip()
        == "[('wikibot-api', '0.1.0'), ('wikibot-mcp', '0.1.0'), ('wikibot-search', '0.1.0')]"
    )


@pytest.mark.slow
def test_rest_mcp_and_search_answer_through_uwsgi(image: dict[str, Any]) -> None:
    created = api(image, "PUT", "/pages/Image/First", content="# First\n\nThrough uWSGI.\n")
    assert created.status_code == 201, created.text
    assert (
        api(image, "GET", "/pages/Image/First").json()["content"] == "# First\n\nThrough uWSGI.\n"
    )
    written = tool(f"{image['url']}/mcp", TOKEN, "write_note", path="Image/Mcp", content="via MCP")
    assert "error" not in written, written
    assert as_root(image["repo"], "show", "HEAD:image/mcp.md") == "via MCP"
    status = api(image, "GET", "/reindex/status")
    assert status.status_code == 200 and status.json()["status"] == "unavailable", status.text
    assert "WIKIBOT_SEARCH_EMBEDDER" in status.json()["reason"]


@pytest.mark.slow
def test_web_saves_and_api_writes_at_once_across_the_forked_workers(image: dict[str, Any]) -> None:
    url, repo = image["url"], image["repo"]
    results: list[tuple[str, int]] = []

    def api_writes(n: int) -> None:
        for i in range(6):
            r = api(image, "PUT", f"/pages/Image/Api {n}-{i}", content=f"api {n} {i}\n")
            results.append((f"image/api {n}-{i}.md", r.status_code))

    def web_saves(n: int) -> None:
        web = requests.Session()
        for i in range(4):
            path = f"Image/Web {n}-{i}"
            form = web.get(f"{url}/{path}/edit", timeout=60)
            if 'name="csrf_token"' not in form.text:  # recorded, with what the worker logged
                results.append((f"{path}: {form.status_code} {form.text[-1500:]}", -1))
                continue
            token = csrf_token(form.text)
            r = web.post(
                f"{url}/{path}/save",
                data={"content": f"web {n} {i}\n", "commit": f"web {n} {i}", "csrf_token": token},
                timeout=60,
            )
            results.append((f"image/web {n}-{i}.md", r.status_code))

    threads = [threading.Thread(target=api_writes, args=(n,)) for n in range(3)]
    threads += [threading.Thread(target=web_saves, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert {code for _, code in results} <= {200, 201} and len(results) == 3 * 6 + 2 * 4, (
        results,
        image["log"].read_text()[-4000:],
    )
    committed = set(as_root(repo, "ls-tree", "-r", "--name-only", "HEAD", "image/").splitlines())
    assert {name for name, _ in results} <= committed
    # every write a commit of its own
    changed = as_root(repo, "log", "--format=%x00", "--name-only", "--", "image/").split("\x00")
    assert all(len([f for f in c.split("\n") if f.strip()]) <= 1 for c in changed), changed
    assert (
        subprocess.run(
            ["git", "-c", "safe.directory=*", "fsck", "--strict"], cwd=repo, capture_output=True
        ).returncode
        == 0
    )
    listed = requests.get(  # the page index, in either worker
        f"{url}/api/v1/pages",
        params={"prefix": "Image/"},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=60,
    )
    paths = {p["path"].lower() + ".md" for p in listed.json()["pages"]}
    assert {name for name, _ in results} <= paths


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX")
def test_a_forked_worker_opens_its_own_index_connection(app: Any) -> None:
    """uWSGI builds the app in its master and forks the workers: a worker must not use the
    master's SQLite connection to the page index (SQLite forbids it across fork)."""
    index = app.extensions["wikibot_api"].service.index
    while index.ensure_current(budget=60) and index.partial():
        pass  # the index file exists once its first build is done
    parent = index._connect()  # this thread's connection to the index file
    assert parent is not None and index._connect() is parent
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, leave without pytest's teardown
        try:
            mine = index._connect()
            os.write(write, b"own" if mine is not None and mine is not parent else b"inherited")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 16) == b"own"
    assert index._connect() is parent  # the parent keeps its own


def test_a_plugin_without_the_api_plugin_says_so_and_stays_off() -> None:
    """Installed alone (the API plugin's folder missing from /plugins), the MCP and search
    plugins do not stop the wiki: each logs what to install and registers nothing."""
    script = (  # an import system without otterwiki_api, as in a venv without its folder
        "import sys, logging; logging.basicConfig()\n"
        "class Gone:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'otterwiki_api':\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, Gone())\n"
        "import otterwiki_mcp, otterwiki_search\n"
        "print(otterwiki_mcp.plugin, otterwiki_search.plugin)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "None None"
    for name in ("MCP", "semantic search"):
        assert f"wikibot {name} is off: it needs the wikibot REST API plugin" in done.stderr
