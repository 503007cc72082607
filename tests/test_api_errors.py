"""Auth, and every kind of bad input: a clear 4xx JSON error, nothing written, never a 500."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from urllib.parse import unquote

import pytest
import requests
from conftest import git


def test_missing_wrong_and_insufficient_keys(api, unique):
    status, body, _ = api.get("/pages", key=None)
    assert status == 401 and "bearer" in body["error"].lower()
    assert api.get("/pages", key="not-a-key")[0] == 401
    assert api.get("/pages", key="read")[0] == 200
    status, body, _ = api.put(f"/pages/{unique}", {"content": "x"}, key="read")
    assert status == 403 and "scope" in body["error"]
    status, body, _ = api.put(f"/pages/{unique}", {"content": "x"}, key="write")
    assert status == 201
    status, page, _ = api.get(f"/pages/{unique}", key="read")
    assert page["last_commit"]["author"] == "Wendy Writer"
    assert api.call("GET", "/pages", headers={"Authorization": "Basic abc"}, key=None)[0] == 401


def test_single_legacy_key_is_admin():
    from otterwiki_api.auth import KeyRing, load_keys
    from otterwiki_api.settings import ApiSettings

    settings = ApiSettings.from_config({"OTTERWIKI_API_KEY": "legacy"}, "/tmp")
    ring = KeyRing(load_keys(settings))
    assert ring.authenticate("Bearer legacy", "admin").scope == "admin"
    assert all(len(k.digest) == 64 and k.digest != "legacy" for k in ring.keys)


def test_keys_file(tmp_path):
    from otterwiki_api.auth import KeyRing, hash_key, load_keys
    from otterwiki_api.errors import Forbidden
    from otterwiki_api.settings import ApiSettings

    keys = tmp_path / "keys.json"
    entry = {"name": "bot", "sha256": hash_key("s3cret"), "scope": "read", "author_name": "Bot"}
    keys.write_text(json.dumps({"keys": [entry]}))
    ring = KeyRing(load_keys(ApiSettings.from_config({"WIKIBOT_API_KEYS_FILE": str(keys)}, "/tmp")))
    assert ring.authenticate("Bearer s3cret", "read").author[0] == "Bot"
    with pytest.raises(Forbidden):
        ring.authenticate("Bearer s3cret", "write")
    keys.write_text('[{"key": "x", "scope": "superuser"}]')
    with pytest.raises(ValueError, match="scope"):
        load_keys(ApiSettings.from_config({"WIKIBOT_API_KEYS_FILE": str(keys)}, "/tmp"))


BAD_PATHS = [
    "../etc/passwd",
    "a/../../b",
    "a/./b",
    "..",
    "%2Fetc%2Fpasswd",
    "a%00b",
    "a%01b",
    "a%0Ab",
    "a.b",
    "what%3F",
    "x%5Cy",
    "-leading",
    "C:%5Cwindows",
    "a" * 300,
    ".git/config",
]


def _naive_targets(repo: str, bad: str) -> list[str]:
    """Where a write of `bad` would land if the path were joined to the repository unchecked:
    the files an escape would create (`../etc/passwd` -> beside the repository)."""
    raw = unquote(bad)
    return [
        os.path.normpath(os.path.join(repo, raw + ".md")),
        os.path.normpath(os.path.join(repo, raw, "a.txt")),
    ]


@pytest.mark.parametrize("bad", BAD_PATHS)
def test_bad_page_paths_are_422_and_write_nothing(client_api, repo, bad):
    """Each route refuses the path itself with a 422 `invalid` (a 404 would only say that no
    such page exists, which is no refusal), and nothing is written anywhere."""
    head = git(repo, "rev-parse", "HEAD")
    for method, suffix, body in [
        ("PUT", "", {"content": "x"}),
        ("GET", "", None),
        ("PATCH", "", {"revision": "abcdef0", "old_string": "a", "new_string": "b"}),
        ("DELETE", "", None),
        ("POST", "/rename", {"new_path": "ok-target"}),
        ("GET", "/history", None),
        ("POST", "/attachments", {"filename": "a.txt", "content": "eA=="}),
    ]:
        status, resp, _ = client_api.call(method, f"/pages/{bad}{suffix}", json_body=body)
        assert status == 422, (method, bad, status, resp)
        assert resp["code"] == "invalid" and resp["error"], (method, bad, resp)
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
    for target in _naive_targets(repo, bad):
        assert not os.path.lexists(target), target


def test_rename_to_bad_path(client_api, unique, repo):
    client_api.put(f"/pages/{unique}", {"content": "x"})
    head = git(repo, "rev-parse", "HEAD")
    for target in ["../outside", "/abs", "", "a\x00b", 5, None, "x.y"]:
        status, body, _ = client_api.post(f"/pages/{unique}/rename", {"new_path": target})
        assert status == 422, (target, body)
    assert git(repo, "rev-parse", "HEAD") == head


@pytest.mark.parametrize(
    "name", ["../escape.txt", "..", "a/b.txt", "a\\b.txt", "x\x00y", ".", "page.md", ""]
)
def test_attachment_names_cannot_leave_the_page_folder(client_api, unique, repo, name):
    client_api.put(f"/pages/{unique}", {"content": "x"})
    head = git(repo, "rev-parse", "HEAD")
    status, body, _ = client_api.post(
        f"/pages/{unique}/attachments", {"filename": name, "content": "eA=="}
    )
    assert status == 422, body
    assert git(repo, "rev-parse", "HEAD") == head
    status, body, _ = client_api.get(f"/pages/{unique}/attachments/..%2F{unique.lower()}.md")
    assert (status, body["code"]) == (422, "invalid"), body  # refused, not merely not found


def test_malformed_and_mistyped_bodies(client_api, unique):
    path = f"/pages/{unique}"
    cases = [
        ("PUT", b"{not json", 422),
        ("PUT", b"[1, 2]", 422),
        ("PUT", b'"text"', 422),
        ("PUT", b"{}", 422),
        ("PUT", b'{"content": 5}', 422),
        ("PUT", b'{"content": null}', 422),
        ("PUT", b'{"content": "x", "revision": 123}', 422),
        ("PUT", b'{"content": "x", "revision": "abc"}', 422),
        ("PUT", b'{"content": "x", "revision": "zzzzzzzz"}', 422),
        ("PUT", b'{"content": "x", "commit_message": ["a"]}', 422),
        ("PATCH", b'{"revision": "abcdef0", "old_string": 1, "new_string": "b"}', 422),
        ("POST", b'{"filename": "a.txt", "content": "not base64!"}', 422),
    ]
    client_api.put(path, {"content": "exists"})
    for method, raw, expected in cases:
        suffix = "/attachments" if method == "POST" else ""
        status, body, _ = client_api.call(
            method, path + suffix, data=raw, headers={"Content-Type": "application/json"}
        )
        assert status == expected, (method, raw, status, body)
        assert body["error"]


def test_unknown_revisions(client_api, unique):
    client_api.put(f"/pages/{unique}", {"content": "x"})
    assert client_api.get(f"/pages/{unique}", params={"revision": "0" * 40})[0] == 404
    assert client_api.get(f"/pages/{unique}", params={"revision": "--all"})[0] == 422
    assert client_api.get(f"/pages/{unique}", params={"revision": "HEAD~1"})[0] == 422
    assert client_api.get("/pages", params={"limit": "0"})[0] == 422
    assert client_api.get("/pages", params={"limit": "abc"})[0] == 422
    assert client_api.get("/pages", params={"cursor": "%%%"})[0] == 422
    assert client_api.get("/changelog", params={"limit": "-1"})[0] == 422


def test_a_write_names_its_revision_with_at_least_seven_digits(client_api, unique, repo):
    """A shorter prefix could match another commit by accident: the optimistic lock refuses it
    even when it is the page's own revision's start."""
    rev = client_api.put(f"/pages/{unique}", {"content": "x"})[1]["revision"]
    head = git(repo, "rev-parse", "HEAD").strip()
    for short in (rev[:4], rev[:6]):
        status, body, _ = client_api.put(f"/pages/{unique}", {"content": "y", "revision": short})
        assert status == 422 and "7 hexadecimal digits" in body["error"], body
        body = {"old_string": "x", "new_string": "y", "revision": short}
        assert client_api.patch(f"/pages/{unique}", body)[0] == 422
    assert git(repo, "rev-parse", "HEAD").strip() == head
    assert client_api.put(f"/pages/{unique}", {"content": "y", "revision": rev[:7]})[0] == 200


def test_oversized_body_is_413(app, client_api, unique):
    limit = app.extensions["wikibot_api"].settings.max_body_bytes
    status, body, _ = client_api.put(f"/pages/{unique}", {"content": "x" * (limit + 10)})
    assert status == 413 and "WIKIBOT_API_MAX_BODY_BYTES" in body["error"]
    assert body["limit"] == limit
    assert client_api.get(f"/pages/{unique}")[0] == 404


def test_a_10_mb_attachment_is_taken_as_the_older_plugin_takes_it(client_api, unique):
    import base64

    data = os.urandom(10_000_000)
    client_api.put(f"/pages/{unique}", {"content": "x"})
    body = {"filename": "big.bin", "content": base64.b64encode(data).decode()}
    status, answer, _ = client_api.post(f"/pages/{unique}/attachments", body)
    assert status == 201 and answer["size"] == len(data), answer
    got = client_api.get(f"/pages/{unique}/attachments/big.bin")[1]
    assert base64.b64decode(got["content"]) == data


def test_unknown_routes_and_methods_are_json(client_api):
    status, body, _ = client_api.get("/no/such/route")
    assert status == 404 and "no API route" in body["error"]
    status, body, headers = client_api.call("POST", "/health", json_body={})
    assert status == 405 and body["error"] and "GET" in headers["Allow"]


def test_admin_keys_may_write_on_behalf_of_an_author(client_api, unique, repo):
    body = {"content": "x", "author": {"name": "Claude User", "email": "user@example.org"}}
    status, created, _ = client_api.put(f"/pages/{unique}", body)
    assert status == 201
    assert git(repo, "show", "-s", "--format=%an <%ae>", created["revision"]).strip() == (
        "Claude User <user@example.org>"
    )
    assert client_api.put(f"/pages/{unique}-w", body, key="write")[0] == 403
    bad_names = ({"name": ""}, {"name": "a<b"}, {"name": " .,;'\"\t"}, {"name": "x", "email": 5})
    for bad in (*bad_names, "someone"):
        status, resp, _ = client_api.put(f"/pages/{unique}-bad", {"content": "x", "author": bad})
        assert status == 422, (bad, resp)


def test_hostile_commits_and_frontmatter_from_outside_the_api(client_api, unique, repo):
    """Another git client may write anything: separators in messages and author names, YAML
    alias bombs, NaN. The API keeps answering, in valid JSON."""
    from conftest import external_commit

    bomb = (
        "---\na: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        )
        + "---\nbody\n"
    )
    external_commit(repo, f"{unique.lower()}-bomb.md", bomb, "sep \x1e and \x1f in a message")
    external_commit(repo, f"{unique.lower()}-cycle.md", "---\nx: &x [*x]\nn: .nan\n---\nb\n")
    external_commit(repo, f"{unique.lower()}-nan.md", "---\nn: .nan\ni: -.inf\n---\nb\n")
    status, page, _ = client_api.get(f"/pages/{unique}-bomb")
    assert status == 200 and page["frontmatter"] is None
    assert client_api.get(f"/pages/{unique}-cycle")[1]["frontmatter"] is None
    assert client_api.get(f"/pages/{unique}-nan")[1]["frontmatter"] == {"n": "nan", "i": "-inf"}
    log = client_api.get("/changelog", params={"limit": 3})[1]["entries"]
    assert log[2]["message"] == "sep \x1e and \x1f in a message"
    assert client_api.get("/pages", params={"prefix": unique})[1]["total"] == 3


def test_a_read_key_is_refused_on_every_write_route(client_api, unique, repo):
    client_api.put(f"/pages/{unique}", {"content": "x"})
    client_api.post(f"/pages/{unique}/attachments", {"filename": "a.txt", "content": "eA=="})
    head = _head(repo)
    rev = client_api.get(f"/pages/{unique}")[1]["revision"]
    writes = [
        ("PUT", f"/pages/{unique}", {"content": "y", "revision": rev}),
        ("PUT", f"/pages/{unique}-new", {"content": "y"}),
        ("PATCH", f"/pages/{unique}", {"old_string": "x", "new_string": "z", "revision": rev}),
        ("DELETE", f"/pages/{unique}", {}),
        ("POST", f"/pages/{unique}/rename", {"new_path": f"{unique}-moved"}),
        ("POST", f"/pages/{unique}/attachments", {"filename": "b.txt", "content": "eA=="}),
        ("DELETE", f"/pages/{unique}/attachments/a.txt", {}),
    ]
    for method, path, body in writes:
        status, answer, _ = client_api.call(method, path, json_body=body, key="read")
        assert status == 403 and "scope" in answer["error"], (method, path, answer)
    assert _head(repo) == head


def test_a_busy_repository_is_a_503(app, client_api, unique, repo, monkeypatch):
    """Another process holds the repository lock past WIKIBOT_LOCK_TIMEOUT: 503, retry later."""
    import subprocess
    import sys

    lock = os.path.join(repo, ".git", "wikibot-write.lock")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from otterwiki_api.repolock import FileLock\n"
            f"l = FileLock({lock!r}); l.acquire(); print('held', flush=True); time.sleep(5)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setattr(app.extensions["wikibot_api"].service.lock, "timeout", 0.3)
        status, body, _ = client_api.put(f"/pages/{unique}", {"content": "x"})
        assert status == 503 and body["code"] == "busy", body
    finally:
        holder.kill()
        holder.wait()


_GIT_ENV = {
    "GIT_AUTHOR_NAME": "x",
    "GIT_AUTHOR_EMAIL": "x@x",
    "GIT_COMMITTER_NAME": "x",
    "GIT_COMMITTER_EMAIL": "x@x",
}


@pytest.fixture
def commit_symlink(repo: str) -> Iterator[Callable[[str, str], str]]:
    """Commit a symlink, as a push or a pull could bring one in; answers the new HEAD. The
    symlinks are committed away afterwards: the wiki is shared by the session's tests."""
    names: list[str] = []

    def commit(name: str, target: str) -> str:
        os.symlink(target, os.path.join(repo, name))
        names.append(name)
        git(repo, "add", "--", name)
        git(repo, "commit", "-q", "-m", "a symlink", env=_GIT_ENV)
        return _head(repo)

    yield commit
    if names:
        git(repo, "rm", "-q", "--", *names)
        git(repo, "commit", "-q", "-m", "the symlinks go", env=_GIT_ENV)


def _outside_error(relative: str) -> dict[str, str]:
    return {"code": "invalid", "error": f"{relative!r} resolves to a location outside the wiki"}


def test_a_folder_symlink_committed_into_the_wiki_never_lets_a_write_out(
    client_api, unique, repo, tmp_path, commit_symlink
):
    """A folder symlink pushed into the repository (git http, a pull) pointing outside it: every
    write through it is refused as leaving the wiki, and the files outside stay as they were."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.md"
    victim.write_text("outside the wiki\n")
    folder = unique.lower()
    head = commit_symlink(folder, str(outside))
    attachment = {"filename": "a.txt", "content": "eA=="}
    with_revision = {"content": "out", "revision": head}
    writes = [
        ("PUT", f"/pages/{unique}/escape", {"content": "out"}, f"{folder}/escape.md"),
        ("PUT", f"/pages/{unique}/victim", {"content": "out"}, f"{folder}/victim.md"),
        ("PUT", f"/pages/{unique}/victim", with_revision, f"{folder}/victim.md"),
        ("POST", f"/pages/{unique}/attachments", attachment, f"{folder}/a.txt"),
    ]
    for method, path, body, relative in writes:
        status, answer, _ = client_api.call(method, path, json_body=body)
        assert (status, answer) == (422, _outside_error(relative)), (method, path)
    assert sorted(p.name for p in outside.iterdir()) == ["victim.md"]
    assert victim.read_text() == "outside the wiki\n"
    assert _head(repo) == head
    assert git(repo, "status", "--porcelain") == ""


def test_a_page_symlink_committed_into_the_wiki_is_neither_read_nor_written_through(
    client_api, unique, repo, tmp_path, commit_symlink
):
    """A page file committed as a symlink to a file outside the wiki: reading it must not hand
    out the outside file, writing it must not change it, and the symlink stays as committed."""
    victim = tmp_path / "secret.txt"
    victim.write_text("outside the wiki\n")
    name = f"{unique.lower()}.md"
    head = commit_symlink(name, str(victim))
    status, answer, _ = client_api.get(f"/pages/{unique}")
    assert (status, answer) == (422, _outside_error(name))
    for body in ({"content": "out", "revision": head}, {"content": "out"}):
        status, answer, _ = client_api.put(f"/pages/{unique}", body)
        assert (status, answer) == (422, _outside_error(name)), body
    assert victim.read_text() == "outside the wiki\n"
    assert os.readlink(os.path.join(repo, name)) == str(victim)
    assert _head(repo) == head
    assert git(repo, "status", "--porcelain") == ""


# -- bad input found by fuzzing and by hand: a clear 4xx, nothing written -------------------------
def _head(repo: str) -> str:
    return git(repo, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize(
    "method, suffix",
    [("PUT", ""), ("PATCH", ""), ("POST", "/rename"), ("POST", "/attachments"), ("DELETE", "")],
)
def test_json_nested_a_thousand_deep_is_a_422(client_api, unique, repo, method, suffix):
    client_api.put(f"/pages/{unique}", {"content": "x"})
    head = _head(repo)
    deep = '{"content": ' + "[" * 1000 + "]" * 1000 + "}"
    code, body, _ = client_api.call(
        method, f"/pages/{unique}{suffix}", data=deep, headers={"Content-Type": "application/json"}
    )
    assert code == 422 and "nested too deeply" in body["error"], body
    assert _head(repo) == head


def test_invalid_utf8_in_a_page_path_is_refused(client_api, unique, repo):
    head = _head(repo)
    code, body, _ = client_api.put(f"/pages/{unique}%FF", {"content": "x"})
    assert code == 422 and "UTF-8" in body["error"], body
    assert _head(repo) == head
    assert client_api.get(f"/pages/{unique}%FF")[0] == 422


@pytest.mark.parametrize("tail", ["history", "rename", "attachments", "attachments/notes"])
def test_pages_that_sub_resources_would_shadow_are_refused(client_api, unique, repo, tail):
    head = _head(repo)
    code, body, _ = client_api.put(f"/pages/{unique}/{tail}", {"content": "x"})
    assert code == 422 and "collides" in body["error"], body
    assert _head(repo) == head
    client_api.put(f"/pages/{unique}/Source", {"content": "x"})
    code, body, _ = client_api.post(f"/pages/{unique}/Source/rename", {"new_path": f"X/{tail}"})
    assert code == 422 and "collides" in body["error"], body


def test_service_refuses_shadowed_pages_for_every_caller(app, unique):
    from otterwiki_api.errors import Invalid

    with pytest.raises(Invalid):
        app.extensions["wikibot_api"].service.put_page(f"{unique}/History", "x", ("a", "b"))


@pytest.mark.parametrize("method", ["TRACE", "PROPFIND"])
def test_unsupported_methods_are_405_with_allow(live_url, method):
    resp = requests.request(method, f"{live_url}/api/v1/pages", timeout=10)
    assert resp.status_code == 405 and resp.json()["code"] == "method_not_allowed"
    assert resp.headers["Allow"] == "GET, HEAD, OPTIONS"
    resp = requests.request(method, f"{live_url}/api/v1/pages/Home", timeout=10)
    assert resp.status_code == 405
    allowed = set(resp.headers["Allow"].split(", "))
    assert allowed == {"GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def test_edit_page_of_a_page_deleted_meanwhile_is_not_a_500(app, client_api, unique, monkeypatch):
    """Otterwiki's editor lists the wiki's files, then reads each one's time: a page deleted by
    another process in between used to be a 500 (FileNotFoundError)."""
    from otterwiki.server import storage

    client_api.put(f"/pages/{unique}/Here", {"content": "x"})
    listing = storage.list

    def with_a_vanished_file(*args, **kwargs):
        files, dirs = listing(*args, **kwargs)
        return [*files, f"{unique.lower()}/vanished.md"], dirs

    monkeypatch.setattr(storage, "list", with_a_vanished_file)
    resp = app.test_client().get(f"/{unique}/Here/edit")
    assert resp.status_code == 200


def test_an_api_without_keys_says_so():
    from otterwiki_api.auth import KeyRing
    from otterwiki_api.errors import Unauthorized

    with pytest.raises(Unauthorized, match="no keys configured; set WIKIBOT_API_KEY"):
        KeyRing([]).authenticate("Bearer anything", "read")


def test_a_symlink_out_of_the_wiki_does_not_break_the_editor_or_the_index(
    app, unique, tmp_path, commit_symlink
) -> None:
    """Otterwiki's `storage.mtime` raises StorageUnsafePath for such a file while it lists every
    file (the editor's page list, /-/index): the file counts as unknown, the pages still open."""
    outside = tmp_path / "elsewhere.md"
    outside.write_text("outside")
    commit_symlink(f"{unique.lower()}-escape.md", str(outside))
    web = app.test_client()
    for url in (f"/{unique}/Some Page/edit", "/-/index"):
        response = web.get(url)
        assert response.status_code == 200, (url, response.status_code)
