"""The API and Otterwiki's own web UI see the same wiki, and so does plain git."""

from __future__ import annotations

import base64

from conftest import csrf_token, external_commit, git


def test_api_page_shows_in_web_view(app, api, unique):
    api.put(f"/pages/{unique}/Web Visible", {"content": "# Heading\nvisible-through-web-ui"})
    web = app.test_client()
    resp = web.get(f"/{unique}/Web Visible")
    assert resp.status_code == 200
    assert "visible-through-web-ui" in resp.get_data(as_text=True)


def test_web_editor_save_appears_in_api(app, client_api, unique, repo):
    web = app.test_client()
    path = f"{unique}/Edited In Browser"
    form = web.get(f"/{path}/edit")
    assert form.status_code == 200
    token = csrf_token(form.get_data(as_text=True))
    word = unique.lower() + "webword"
    resp = web.post(
        f"/{path}/save",
        data={
            "content": f"saved from the editor {word} and [[{unique}/Target]]",
            "commit": "web save",
            "csrf_token": token,
        },
    )
    assert resp.status_code in (302, 303), resp.get_data(as_text=True)[:500]
    # seen at once by list, search and links, without a restart
    listed = client_api.get("/pages", params={"prefix": f"{unique}/"})[1]["pages"]
    assert [p["path"] for p in listed] == [path]
    hits = client_api.get("/search", params={"q": word})[1]["results"]
    assert [h["path"] for h in hits] == [path]
    links = client_api.get(f"/links/{unique}/Target")[1]
    assert links["linked_from"] == [path]
    assert client_api.get(f"/pages/{path}")[1]["last_commit"]["message"] == "web save"


def test_external_git_commit_seen_by_next_request(client_api, unique, repo):
    word = unique.lower() + "external"
    filename = f"{unique.lower()}/from git.md"
    sha = external_commit(repo, filename, f"---\ntags: [ext]\n---\n{word} [[{unique}/Other]]\n")
    page = client_api.get(f"/pages/{unique}/From Git")[1]
    assert page["revision"] == sha and page["last_commit"]["author"] == "Ext"
    assert client_api.get("/search", params={"q": word})[1]["total"] == 1
    assert client_api.get(f"/links/{unique}/Other")[1]["linked_from"] == [f"{unique}/From Git"]
    # and an external deletion
    git(repo, "rm", "-q", "--", filename)
    git(
        repo,
        "commit",
        "-q",
        "-m",
        "rm",
        env={
            "GIT_AUTHOR_NAME": "Ext",
            "GIT_AUTHOR_EMAIL": "e@x",
            "GIT_COMMITTER_NAME": "Ext",
            "GIT_COMMITTER_EMAIL": "e@x",
        },
    )
    assert client_api.get(f"/pages/{unique}/From Git")[0] == 404
    assert client_api.get("/search", params={"q": word})[1]["total"] == 0


def test_rename_writes_links_with_the_display_name_as_the_older_plugin(api, unique):
    """The older otterwiki-api plugin rewrites a link to the renamed page's display name
    (Otterwiki's page name: each part title-cased), whatever spelling the caller used."""
    api.put(f"/pages/{unique}/Target", {"content": "target"})
    api.put(
        f"/pages/{unique}/Linker",
        {"content": f"[[{unique}/Target]] [[Label|{unique}/target]] [[{unique}/Target#Sec]]"},
    )
    status, body, _ = api.post(
        f"/pages/{unique}/Target/rename", {"new_path": f"{unique.lower()}/new-target"}
    )
    assert status == 200 and body["new_path"] == f"{unique}/New-Target", body
    assert api.get(f"/pages/{unique}/Linker")[1]["content"] == (
        f"[[{unique}/New-Target]] [[Label|{unique}/New-Target]] [[{unique}/New-Target#Sec]]"
    )


def test_rename_rewrites_backlinks_in_one_commit(api, unique, repo):
    old, new = f"{unique}/Old Name", f"{unique}/Moved/New Name"
    rev = api.put(f"/pages/{old}", {"content": f"self link [[{old}]]"})[1]["revision"]
    del rev
    api.put(
        f"/pages/{unique}/Linker",
        {
            "content": f"see [[{old}]], [[Shown Text|{old}]], [[{old.lower()}#sec]] "
            f"and [[/{old}]] but `[[{old}]]` in code stays and [[{unique}/Elsewhere]]"
        },
    )
    api.put(f"/pages/{unique}/Unrelated", {"content": "no links here"})
    api.post(
        f"/pages/{old}/attachments",
        {"filename": "f.txt", "content": base64.b64encode(b"data").decode()},
    )
    before = git(repo, "rev-parse", "HEAD").strip()
    status, body, _ = api.post(f"/pages/{old}/rename", {"new_path": new})
    assert status == 200, body
    assert body["old_path"] == f"{unique}/Old Name" and body["new_path"] == new
    assert body["updated_pages"] == [f"{unique}/Linker"]
    assert git(repo, "rev-list", "--count", f"{before}..HEAD").strip() == "1"
    linker = api.get(f"/pages/{unique}/Linker")[1]["content"]
    assert linker == (
        f"see [[{new}]], [[Shown Text|{new}]], [[{new}#sec]] "
        f"and [[/{new}]] but `[[{old}]]` in code stays and [[{unique}/Elsewhere]]"
    )
    assert api.get(f"/pages/{new}")[1]["content"] == f"self link [[{new}]]"
    assert api.get(f"/pages/{old}")[0] == 404
    assert api.get(f"/links/{new}")[1]["linked_from"] == sorted([new, f"{unique}/Linker"])
    assert api.get(f"/pages/{new}/attachments")[1]["attachments"][0]["filename"] == "f.txt"
    # errors
    assert api.post(f"/pages/{new}/rename", {"new_path": new})[0] == 422
    assert api.post(f"/pages/{new}/rename", {})[0] == 422
    assert api.post(f"/pages/{new}/rename", {"new_path": f"{unique}/Linker"})[0] == 409
    assert api.post(f"/pages/{unique}/Nope/rename", {"new_path": f"{unique}/X"})[0] == 404


def test_attachments_round_trip(api, unique, repo):
    page = f"{unique}/With Files"
    assert (
        api.post(f"/pages/{page}/attachments", {"filename": "a.png", "content": "AA=="})[0] == 404
    )
    api.put(f"/pages/{page}", {"content": "page"})
    payload = bytes(range(256)) * 4
    status, body, _ = api.post(
        f"/pages/{page}/attachments",
        {"filename": "data.bin", "content": base64.b64encode(payload).decode()},
    )
    assert status == 201
    assert body == {
        "filename": "data.bin",
        "path": page,
        "size": 1024,
        "mime_type": "application/octet-stream",
        "created": True,
    }
    api.post(f"/pages/{page}/attachments", {"filename": "note.txt", "content": "aGk="})
    status, listing, _ = api.get(f"/pages/{page}/attachments")
    assert status == 200 and listing["total"] == 2 and listing["path"] == page
    assert [a["filename"] for a in listing["attachments"]] == ["data.bin", "note.txt"]
    assert listing["attachments"][1]["mime_type"] == "text/plain"
    status, got, _ = api.get(f"/pages/{page}/attachments/data.bin")
    assert status == 200 and base64.b64decode(got["content"]) == payload
    assert git(repo, "ls-files", "--", f"{unique.lower()}/with files/data.bin").strip()
    status, body, _ = api.delete(f"/pages/{page}/attachments/data.bin")
    assert status == 200 and body == {"deleted": True, "filename": "data.bin"}
    assert api.get(f"/pages/{page}/attachments/data.bin")[0] == 404
    assert api.delete(f"/pages/{page}/attachments/data.bin")[0] == 404
    # deleting the page removes its attachments too
    api.delete(f"/pages/{page}")
    assert not git(repo, "ls-files", "--", f"{unique.lower()}/with files").strip()


def test_attachment_visible_in_web_ui(app, api, unique):
    page = f"{unique}/Pic"
    api.put(f"/pages/{page}", {"content": "x"})
    api.post(
        f"/pages/{page}/attachments",
        {"filename": "hello.txt", "content": base64.b64encode(b"hello web").decode()},
    )
    resp = app.test_client().get(f"/{page}/a/hello.txt")
    assert resp.status_code == 200 and resp.data == b"hello web"


def test_deleting_a_page_keeps_its_subpages(api, unique):
    api.put(f"/pages/{unique}/Parent", {"content": "parent"})
    api.put(f"/pages/{unique}/Parent/Child", {"content": "child"})
    api.post(f"/pages/{unique}/Parent/attachments", {"filename": "a.txt", "content": "eA=="})
    assert api.delete(f"/pages/{unique}/Parent")[0] == 200
    assert api.get(f"/pages/{unique}/Parent/Child")[1]["content"] == "child"
    assert api.get(f"/pages/{unique}/Parent")[0] == 404
    api.put(f"/pages/{unique}/Parent", {"content": "again"})
    assert api.get(f"/pages/{unique}/Parent/attachments")[1]["total"] == 0
