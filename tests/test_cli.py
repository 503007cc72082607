"""The `wikibot` command as a user runs it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from conftest import wait_until_healthy
from mcp_helpers import clean_environment, free_port, tool


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "wikibot", *args], capture_output=True, text=True, env=env
    )


def test_help():
    out = run("--help")
    assert out.returncode == 0 and "serve" in out.stdout and "keygen" in out.stdout
    serve = run("serve", "--help")
    assert all(flag in serve.stdout for flag in ("--host", "--port", "--data-dir", "--direct"))
    assert "--gateway" not in serve.stdout  # the gateway is the default, not a flag
    assert "--instances N" in serve.stdout
    assert run().returncode == 2


@pytest.mark.parametrize(
    ("flags", "complaint"),
    [
        (("--instances", "0"), "from 1 to 32, got 0"),
        (("--instances", "lots"), "not a whole number: 'lots'"),
        (("--direct", "--instances", "3"), "--instances is for the gateway"),
    ],
)
def test_serve_refuses_an_instance_count_it_cannot_use(flags, complaint, tmp_path):
    out = run("serve", *flags, "--port", "0", "--data-dir", str(tmp_path / "d"))
    assert out.returncode != 0 and complaint in out.stderr
    assert not (tmp_path / "d").exists()  # refused before anything was made


def test_keygen_entry_authenticates():
    import json

    from otterwiki_api.auth import hash_key

    out = run("keygen", "--scope", "read", "--name", "bot")
    key = re.search(r"key \(.*\): (\S+)", out.stdout).group(1)
    entry = json.loads(out.stdout[out.stdout.index("{") :])
    assert entry == {"name": "bot", "sha256": hash_key(key), "scope": "read"}


def serve(
    data_dir: str, env: dict, *flags: str, port: int | None = None
) -> tuple[subprocess.Popen, str, str]:
    """`wikibot serve` on `port` (a free one by default), once it answers; (process, API key,
    banner)."""
    port = free_port() if port is None else port
    proc = subprocess.Popen(
        [sys.executable, "-m", "wikibot", "serve", *flags, "--port", str(port)]
        + ["--data-dir", data_dir],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    banner = ""
    deadline = time.monotonic() + 60
    try:
        while "try" not in banner and time.monotonic() < deadline:
            banner += proc.stdout.readline()
        key = re.search(r"API key\s+(\S+)", banner).group(1)
        port = port or int(re.search(r"wiki\s+http://[^/]+:(\d+)/", banner).group(1))
        # through the gateway the first request builds the wiki app (a Lambda cold start)
        wait_until_healthy(f"http://127.0.0.1:{port}", proc, request_timeout=30)
    except BaseException:  # a server that never answered must not outlive the test
        proc.kill()
        proc.wait(timeout=20)
        raise
    return proc, key, banner


@pytest.mark.parametrize(
    "flags, shown",
    [((), ["local API Gateway", "routes to the MCP function"]), (("--direct",), ["plain"])],
    ids=["gateway", "direct"],
)
def test_serve_prints_where_everything_is_and_keeps_its_key(tmp_path, flags, shown):
    env = clean_environment()
    data = str(tmp_path / "data")
    proc, key, banner = serve(data, env, *flags)
    try:
        url = re.search(r"wiki\s+(http://\S+)/", banner).group(1)
        assert f"{url}/api/v1/" in banner and f"{url}/mcp" in banner and "(new, saved in" in banner
        assert all(words in banner for words in shown), banner
        assert requests.get(url + "/Home", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {key}"}
        assert [
            p["path"] for p in requests.get(url + "/api/v1/pages", headers=auth).json()["pages"]
        ] == ["Home"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert os.path.isdir(os.path.join(data, "repository", ".git"))
    proc, again, banner = serve(data, env, *flags)
    proc.terminate()
    proc.wait(timeout=20)
    assert again == key and "(new" not in banner
    proc, chosen, _ = serve(data, {**env, "WIKIBOT_API_KEY": "my-own-key"}, *flags)
    proc.terminate()
    proc.wait(timeout=20)
    assert chosen == "my-own-key"


@pytest.mark.parametrize("flags", [(), ("--direct",)], ids=["gateway", "direct"])
def test_serve_beyond_loopback_is_private_and_leaves_no_secrets_about(tmp_path, flags):
    """Otterwiki's open defaults only on loopback; another --host gets the private preset and
    says so. Secret-holding files are 0600, and nothing is left in the temporary folder."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**clean_environment(), "TMPDIR": str(tmp)}
    data = str(tmp_path / "data")
    proc, _, banner = serve(data, env, *flags, "--host", "0.0.0.0")
    try:
        assert "access    private" in banner, banner
        port = re.search(r"wiki\s+http://[^:]+:(\d+)/", banner).group(1)
        home = requests.get(f"http://127.0.0.1:{port}/Home", timeout=30, allow_redirects=False)
        assert home.status_code in (302, 403)  # not for anonymous visitors
        for name in ("settings.cfg", "settings.cfg.secret", "api-key", "otterwiki.db"):
            path = os.path.join(data, name)
            if os.path.exists(path):
                assert os.stat(path).st_mode & 0o077 == 0, name
        assert all(os.stat(p).st_mode & 0o077 == 0 for p in tmp.iterdir())
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert list(tmp.iterdir()) == []
    proc, _, banner = serve(data, env, *flags)  # on loopback: Otterwiki's open defaults
    proc.terminate()
    proc.wait(timeout=20)
    assert "access    open" in banner


@pytest.mark.parametrize("flags", [(), ("--direct",)], ids=["gateway", "direct"])
def test_serve_on_a_busy_port_says_so(tmp_path, flags):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = run("serve", *flags, "--port", str(port), "--data-dir", str(tmp_path / "d"),
                  env=clean_environment())  # fmt: skip
    assert out.returncode != 0 and "already in use" in out.stderr and "--port 0" in out.stderr
    assert "Traceback" not in out.stderr


def test_serve_with_an_unwritable_data_folder_says_so(tmp_path):
    if os.geteuid() == 0:
        target = "/proc/wikibot-data"  # not even root writes there
    else:
        (tmp_path / "ro").mkdir(mode=0o500)
        target = str(tmp_path / "ro" / "data")
    out = run("serve", "--port", "0", "--data-dir", target, env=clean_environment())
    assert out.returncode != 0 and "cannot write the data folder" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_serve_without_git_says_so(tmp_path):
    out = run(
        "serve",
        "--data-dir",
        str(tmp_path / "d"),
        env={**clean_environment(), "PATH": "/nonexistent"},
    )
    assert out.returncode != 0 and "git is not installed" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("flags", [(), ("--direct",)], ids=["gateway", "direct"])
def test_serve_on_port_0_takes_a_free_port_and_prints_it(
    tmp_path: Path, flags: tuple[str, ...]
) -> None:
    """`--port 0` (README): the banner names the port the server really took, and everything
    works there, MCP included (behind the gateway the MCP function reaches the REST API
    through that port)."""
    token = "port-zero-token"
    env = {**clean_environment(), "WIKIBOT_SEARCH_EMBEDDER": "none", "WIKIBOT_MCP_TOKEN": token}
    proc, key, banner = serve(str(tmp_path / "data"), env, *flags, port=0)
    try:
        url = re.search(r"wiki\s+(http://127\.0\.0\.1:(\d+))/", banner)
        assert url and int(url.group(2)) > 0, banner
        base = url.group(1)
        assert f"REST API  {base}/api/v1/" in banner and f"MCP       {base}/mcp" in banner
        pages = requests.get(base + "/api/v1/pages", headers={"Authorization": f"Bearer {key}"})
        assert pages.status_code == 200 and [p["path"] for p in pages.json()["pages"]] == ["Home"]
        note = tool(base + "/mcp", token, "read_note", path="Home")
        assert "error" not in note and note["path"] == "Home", note
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.slow
def test_reindex_full_re_embeds_every_page(tmp_path: Path) -> None:
    """`wikibot reindex --full` re-embeds every page, with a progress bar, even where the index
    claims to be up to date: here a store at HEAD, built with the command's own settings, that
    lacks one page and holds stale chunks for the others (a plain reindex, which diffs HEADs,
    never notices either)."""
    import numpy as np
    from otterwiki_search.plugin import build_runtime
    from otterwiki_search.store import StoreState, VectorStore
    from search_helpers import fake_vector

    from wikibot import localwiki

    data = localwiki.prepare(str(tmp_path / "data"))
    pages = {
        "cats.md": "# Cats\n\nCats purr, hunt mice and sleep most of the day.",
        "bread.md": "# Bread\n\nKnead the dough, let it rise, then bake the loaf.",
        "rockets.md": "# Rockets\n\nA rocket engine pushes a spacecraft into orbit.",
        "blank.md": "",  # read, but nothing to embed
    }
    for name, text in pages.items():
        (tmp_path / "data" / "repository" / name).write_text(text, encoding="utf-8")
    author = {"GIT_AUTHOR_NAME": "x", "GIT_AUTHOR_EMAIL": "x@x"}
    env = {**os.environ, **author, "GIT_COMMITTER_NAME": "x", "GIT_COMMITTER_EMAIL": "x@x"}
    for args in (["add", "--", *pages], ["commit", "-q", "-m", "three pages"]):
        subprocess.run(["git", *args], cwd=data.repository, check=True, env=env)

    def git_out(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=data.repository, capture_output=True, text=True, check=True
        ).stdout

    # the embedder loads its model only to embed: the identity alone costs nothing
    runtime = build_runtime({}, data.repository)
    assert runtime.sync is not None and runtime.settings is not None
    identity = runtime.sync.identity()
    stale = StoreState(identity, head=git_out("rev-parse", "HEAD").strip())
    old = [{"page": p, "path": p, "name": p, "section": "", "text": "stale"} for p in pages]
    old = [c for c in old if c["page"] not in ("bread.md", "blank.md")]
    stale.add(old, np.asarray([fake_vector(c["page"], identity["dimension"]) for c in old]))
    store = VectorStore(runtime.settings.index_dir)
    with store.update():
        store.save(stale)

    env = {**clean_environment(), "WIKIBOT_REINDEX_BATCH_PAGES": "1"}
    out = run("reindex", "--full", "--data-dir", data.root, env=env)
    assert out.returncode == 0, out.stderr
    head = git_out("rev-parse", "HEAD").strip()
    wanted = {
        f for f in git_out("ls-tree", "-r", "--name-only", "HEAD").split() if f.endswith(".md")
    }
    assert wanted >= set(pages)
    progress = rf"\] 1/{len(wanted)} pages .*full reindex requested"
    assert re.search(progress, out.stderr), out.stderr
    bars = re.findall(r"\] (\d+)/(\d+) pages", out.stderr)
    assert bars[-1] == (str(len(wanted)), str(len(wanted)))  # the bar ends at its total
    with_text = wanted - {"blank.md"}
    assert f"index complete: {len(with_text)} pages with text" in out.stderr
    assert f"this run read {len(wanted)} changed page(s)" in out.stderr and head in out.stderr
    state = store.read()
    assert state.identity == identity and state.head == head and state.job is None
    assert state.pages() == with_text
    for page, text in pages.items():
        if not text:
            continue
        chunks = [c["text"] for c in state.chunks if c["page"] == page]
        assert chunks == [text.split("\n\n", 1)[1]], (page, chunks)
    assert np.allclose(np.linalg.norm(state.vectors, axis=1), 1.0, atol=1e-4)
    for page in ("cats.md", "rockets.md"):
        row = next(i for i, c in enumerate(state.chunks) if c["page"] == page)
        assert abs(float(state.vectors[row] @ fake_vector(page, identity["dimension"]))) < 0.5


def test_reindex_uses_the_data_folders_key(tmp_path: Path) -> None:
    """`wikibot reindex --data-dir` on a folder `wikibot serve` made: the plugins find the key
    saved there (they warned "no API key configured" although the folder had one)."""
    from wikibot import localwiki

    data = localwiki.prepare(str(tmp_path / "data"))
    key, generated = localwiki.api_key(data)  # as `wikibot serve` saves it
    assert generated
    env = {**clean_environment(), "WIKIBOT_SEARCH_EMBEDDER": "none"}
    done = subprocess.run(
        [sys.executable, "-m", "wikibot", "reindex", "--data-dir", data.root],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "semantic search is unavailable" in done.stderr, done.stderr
    assert "no API key configured" not in done.stderr + done.stdout
    assert "nobody can approve MCP clients" not in done.stderr + done.stdout
