"""The wiki function's git layer, built from Debian 12's git package (`apt-get download`), works
alone: with only the layer's bin/ on PATH and its lib/ on LD_LIBRARY_PATH (as Lambda mounts a
layer in /opt), every git command Otterwiki and wikibot run works on a real wiki, and a clone
of it (upload-pack) too."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wikibot.git_layer import GLIBC_LIMIT, build_git_layer

pytestmark = pytest.mark.slow

WIKI = r"""
import base64, os, re, shutil, subprocess, sys
assert shutil.which("git").startswith(os.environ["LAYER"]), shutil.which("git")
os.environ.update(WIKIBOT_API_KEY="k", WIKIBOT_SEARCH_EMBEDDER="none", WIKIBOT_ACCESS="open")
from wikibot import localwiki
data = localwiki.prepare(sys.argv[1])                                  # git init
app = localwiki.create_app(data)
c, auth = app.test_client(), {"Authorization": "Bearer k"}
def ok(resp):
    assert resp.status_code < 400, (resp.status_code, resp.get_data(as_text=True)[:300])
    return resp
r = ok(c.put("/api/v1/pages/Layer/One", json={"content": "one [[Layer/Two]]"}, headers=auth))
ok(c.put("/api/v1/pages/Layer/Two", json={"content": "two"}, headers=auth))
rev = r.get_json()["revision"]
ok(c.patch("/api/v1/pages/Layer/One", headers=auth,
           json={"old_string": "one", "new_string": "uno", "revision": rev}))
ok(c.post("/api/v1/pages/Layer/One/attachments", headers=auth,
          json={"filename": "a.txt", "content": base64.b64encode(b"file").decode()}))
ok(c.post("/api/v1/pages/Layer/Two/rename", json={"new_path": "Layer/Deux"}, headers=auth))
ok(c.get("/api/v1/pages/Layer/One/history", headers=auth))              # log --follow
ok(c.get("/api/v1/changelog", headers=auth))
ok(c.get("/Layer/One/history"))                                       # Otterwiki's GitPython
ok(c.get("/Layer/One/blame"))
revs = [e["revision"] for e in c.get("/api/v1/changelog", headers=auth).get_json()["entries"]]
ok(c.get(f"/Layer/One/diff/{revs[-1]}/{revs[0]}"))                     # diff
ok(c.get("/-/changelog"))
form = c.get("/Layer/Web/edit").get_data(as_text=True)
token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
ok(c.post("/Layer/Web/save", data={"content": "web", "commit": "web", "csrf_token": token}))
ok(c.delete("/api/v1/pages/Layer/Deux", json={}, headers=auth))
repo = data.repository
subprocess.run(["git", "clone", "-q", "file://" + repo, sys.argv[2]], check=True)  # upload-pack
print("WIKI-OK", sorted(os.listdir(os.path.join(sys.argv[2], "layer"))))
"""


@pytest.fixture(scope="module")
def layer(tmp_path_factory):
    work = tmp_path_factory.mktemp("layer")
    built = build_git_layer(str(work / "lambda-git-layer.zip"), log=lambda _: None)
    opt = work / "opt"
    subprocess.run(["unzip", "-q", built.path, "-d", str(opt)], check=True)  # keeps the links
    return built, str(opt)


def scrubbed(opt: str, home: str) -> dict[str, str]:
    return {
        "PATH": os.path.join(opt, "bin"),
        "LD_LIBRARY_PATH": os.path.join(opt, "lib"),
        "GIT_TEMPLATE_DIR": os.path.join(opt, "share", "git-core", "templates"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": home,
        "LAYER": opt,
        "GIT_AUTHOR_NAME": "Layer",
        "GIT_AUTHOR_EMAIL": "layer@example.org",
        "GIT_COMMITTER_NAME": "Layer",
        "GIT_COMMITTER_EMAIL": "layer@example.org",
    }


def test_the_layer_fits_the_runtime(layer):
    built, opt = layer
    assert built.glibc <= GLIBC_LIMIT and built.git_version.startswith("git version 2.")
    assert set(built.libraries) <= {"libpcre2-8.so.0", "libz.so.1"}
    assert os.readlink(os.path.join(opt, "bin", "git-upload-pack")) == "git"
    assert built.size < 8 * 2**20  # counted in the function's 250 MB budget


def test_every_git_command_works_from_the_layer_alone(layer, tmp_path):
    _, opt = layer
    env = scrubbed(opt, str(tmp_path))
    repo = str(tmp_path / "r")

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    os.makedirs(repo)
    git("init", "-q")
    with open(os.path.join(repo, "a.md"), "w") as f:
        f.write("one\ntwo\n")
    git("add", "a.md")
    git("commit", "-q", "-m", "first")
    with open(os.path.join(repo, "a.md"), "a") as f:
        f.write("three\n")
    git("commit", "-q", "-a", "-m", "second")
    assert "second" in git("log", "--format=%s")
    assert "three" in git("show", "HEAD")
    assert "+three" in git("diff", "HEAD~1", "HEAD")
    assert "Layer" in git("blame", "a.md")
    git("mv", "a.md", "b.md")
    git("commit", "-q", "-m", "moved")
    git("rm", "-q", "b.md")
    git("commit", "-q", "-m", "removed")
    head = git("rev-parse", "HEAD").strip()
    assert git("cat-file", "-t", head).strip() == "commit"


def test_a_wiki_runs_on_the_layer(layer, tmp_path):
    _, opt = layer
    env = scrubbed(opt, str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-c", WIKI, str(tmp_path / "data"), str(tmp_path / "clone")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "WIKI-OK" in done.stdout, done.stderr[-3000:]
    assert "['one', 'one.md', 'web.md']" in done.stdout
