"""Round trips of the page routes, through Flask's test client and over real HTTP."""

from __future__ import annotations

import base64
import subprocess

from conftest import AUTHORS, git


def test_health_needs_no_key(api):
    status, body, _ = api.get("/health", key=None)
    assert status == 200 and body == {"status": "ok"}


def test_create_read_update_delete(api, unique, repo):
    path = f"{unique}-page"
    content = (
        "---\ntitle: My Title\ncategory: Notes\ntags: [alpha, Beta]\n---\n# Hello\nSome words.\n"
    )
    status, created, _ = api.put(f"/pages/{path}", {"content": content})
    assert status == 201
    assert created["created"] is True
    assert created["path"] == path.capitalize().replace("-page", "-Page")
    assert created["name"] == "My Title"
    assert len(created["revision"]) == 40

    status, page, _ = api.get(f"/pages/{path}")
    assert status == 200
    assert page["content"] == content
    assert page["frontmatter"] == {
        "title": "My Title",
        "category": "Notes",
        "tags": ["alpha", "Beta"],
    }
    assert page["revision"] == created["revision"]
    assert page["last_commit"]["revision"] == created["revision"]
    assert page["last_commit"]["author"] == AUTHORS["admin"][0]
    assert page["last_commit"]["message"] == f"[api] Create: {path}"
    # the file is where Otterwiki keeps it, committed with the key's author
    assert git(repo, "show", "-s", "--format=%an <%ae>", created["revision"]).strip() == (
        "Ada Admin <ada@example.org>"
    )
    assert git(repo, "show", f"{created['revision']}:{path.lower()}.md") == content

    # update needs the revision
    status, body, _ = api.put(f"/pages/{path}", {"content": "new"})
    assert status == 409 and body["current_revision"] == created["revision"]
    assert body["error"].startswith("Revision required")  # what otterwiki-api's clients match
    status, updated, _ = api.put(
        f"/pages/{path}",
        {"content": "new body", "revision": created["revision"][:7], "commit_message": "mine"},
    )
    assert status == 200 and updated["created"] is False
    assert updated["revision"] != created["revision"]
    assert api.get(f"/pages/{path}")[1]["last_commit"]["message"] == "mine"

    # the old revision is still readable
    status, old, _ = api.get(f"/pages/{path}", params={"revision": created["revision"]})
    assert status == 200 and old["content"] == content
    assert old["revision"] == created["revision"]

    status, body, _ = api.delete(f"/pages/{path}", {"commit_message": "bye"})
    assert status == 200 and body == {"deleted": True, "path": created["path"]}
    assert api.get(f"/pages/{path}")[0] == 404
    assert git(repo, "log", "-1", "--format=%s").strip() == "bye"


def test_stale_revision_conflict(api, unique):
    path = f"{unique}/stale"
    first = api.put(f"/pages/{path}", {"content": "one"})[1]["revision"]
    second = api.put(f"/pages/{path}", {"content": "two", "revision": first})[1]["revision"]
    status, body, _ = api.put(f"/pages/{path}", {"content": "three", "revision": first})
    assert status == 409
    assert body["current_revision"] == second
    assert "changed since" in body["error"]
    assert api.get(f"/pages/{path}")[1]["content"] == "two"


def test_unchanged_put_is_not_a_new_commit(api, unique):
    path = f"{unique}-same"
    rev = api.put(f"/pages/{path}", {"content": "same"})[1]["revision"]
    status, body, _ = api.put(f"/pages/{path}", {"content": "same", "revision": rev})
    assert status == 200 and body["revision"] == rev


def test_patch_edit(api, unique):
    path = f"{unique}-edit"
    rev = api.put(f"/pages/{path}", {"content": "a b c b"})[1]["revision"]
    status, body, _ = api.patch(
        f"/pages/{path}", {"revision": rev, "old_string": "b", "new_string": "x"}
    )
    assert status == 422 and "2 times" in body["error"]
    status, body, _ = api.patch(
        f"/pages/{path}", {"revision": rev, "old_string": "zzz", "new_string": "x"}
    )
    assert status == 422 and "not found" in body["error"]
    for bad in (
        {"revision": rev, "old_string": "", "new_string": "x"},
        {"revision": rev, "new_string": "x"},
        {"revision": rev, "old_string": "a", "new_string": "a"},
        {"revision": "abc", "old_string": "a", "new_string": "q"},
    ):
        assert api.patch(f"/pages/{path}", bad)[0] == 422, bad
    status, body, _ = api.patch(
        f"/pages/{path}", {"revision": rev, "old_string": "a b", "new_string": "A B"}
    )
    assert status == 200
    assert api.get(f"/pages/{path}")[1]["content"] == "A B c b"
    status, body2, _ = api.patch(
        f"/pages/{path}", {"revision": rev, "old_string": "c", "new_string": "C"}
    )
    assert status == 409 and body2["current_revision"] == body["revision"]
    assert body2["error"].startswith("Revision mismatch")  # what otterwiki-api's clients match
    edit = {"revision": "abcdef0", "old_string": "a", "new_string": "b"}
    status, missing, _ = api.patch(f"/pages/{unique}-missing", edit)
    assert status == 404 and missing["code"] == "not_found", missing  # the page, not the route


def test_history_and_changelog(api, unique):
    path = f"{unique}-hist"
    r1 = api.put(f"/pages/{path}", {"content": "1", "commit_message": "first"})[1]["revision"]
    r2 = api.put(f"/pages/{path}", {"content": "2", "revision": r1, "commit_message": "second"})[1][
        "revision"
    ]
    status, body, _ = api.get(f"/pages/{path}/history")
    assert status == 200
    assert [h["revision"] for h in body["history"]] == [r2, r1]
    assert [h["message"] for h in body["history"]] == ["second", "first"]
    assert api.get(f"/pages/{path}/history", params={"limit": 1})[1]["history"][0]["revision"] == r2

    status, log, _ = api.get("/changelog", params={"limit": 2})
    assert status == 200 and log["total"] == 2
    assert log["entries"][0]["revision"] == r2
    assert log["entries"][0]["pages_affected"] == [f"{unique}-Hist"]
    assert api.get(f"/pages/{unique}-nothing/history")[0] == 404


def test_list_filters_and_paging(api, unique):
    for i, (cat, tags) in enumerate(
        [("Alpha", ["x", "y"]), ("alpha", ["y"]), ("Beta", ["X"]), (None, [])]
    ):
        fm = "---\n" + (f"category: {cat}\n" if cat else "") + f"tags: {tags}\n---\n"
        assert api.put(f"/pages/{unique}/p{i}", {"content": fm + f"page {i} words here"})[0] == 201
    prefix = f"{unique}/"

    def names(**params):
        status, body, _ = api.get("/pages", params={"prefix": prefix, **params})
        assert status == 200, body
        return [p["path"].rsplit("/", 1)[-1] for p in body["pages"]], body

    assert names()[0] == ["P0", "P1", "P2", "P3"]
    assert names(category="ALPHA")[0] == ["P0", "P1"]
    assert names(tag="x")[0] == ["P0", "P2"]
    assert names(tag="y", category="alpha")[0] == ["P0", "P1"]
    listed, body = names(limit=3)
    assert listed == ["P0", "P1", "P2"] and body["total"] == 4
    listed2, body2 = names(limit=3, cursor=body["next_cursor"])
    assert listed2 == ["P3"] and "next_cursor" not in body2
    assert names(limit=2, offset=2)[0] == ["P2", "P3"]
    page = body["pages"][0]
    assert set(page) >= {"name", "path", "category", "tags", "last_updated", "content_length"}
    assert page["content_length"] == 4 and page["tags"] == ["x", "y"]
    assert names(updated_since="2000-01-01")[0] == ["P0", "P1", "P2", "P3"]
    assert names(updated_since="2999-01-01T00:00:00+00:00")[0] == []
    status, body, _ = api.get("/pages", params={"updated_since": "yesterday"})
    assert status == 422 and "ISO 8601" in body["error"]


def test_search_ranked_with_snippets(api, unique):
    word = unique.lower() + "zebra"
    api.put(f"/pages/{unique}-once", {"content": f"A page that mentions {word} once among others."})
    api.put(
        f"/pages/{unique}-{word}",
        {"content": f"---\ntitle: All about {word}\n---\n{word} {word} everywhere: {word}."},
    )
    status, body, _ = api.get("/search", params={"q": word})
    assert status == 200
    assert body["query"] == word and body["total"] == 2
    assert [r["path"] for r in body["results"]] == [
        f"{unique}-{word.capitalize()}",
        f"{unique}-Once",
    ]
    assert body["results"][0]["score"] > body["results"][1]["score"]
    assert word in body["results"][1]["snippet"]
    status, body, _ = api.get("/search", params={"q": "  "})
    assert status == 422
    assert api.get("/search")[0] == 422
    assert api.get("/search", params={"q": '"*) OR NEAR('})[0] == 200


def test_links_and_graph(api, unique):
    a, b, c = f"{unique}-a", f"{unique}-b", f"{unique}-c"
    api.put(f"/pages/{a}", {"content": f"to [[{b}]] and [[see|{c}#part]]\n\n`[[{unique}-code]]`"})
    api.put(f"/pages/{b}", {"content": f"back to [[/{a}]]"})
    status, links, _ = api.get(f"/links/{a}")
    assert status == 200
    assert links == {
        "path": f"{unique}-A",
        "links_to": [f"{unique}-B", f"{unique}-C"],
        "linked_from": [f"{unique}-B"],
    }
    page = api.get(f"/pages/{b}")[1]
    assert page["links_to"] == [f"{unique}-A"] and page["linked_from"] == [f"{unique}-A"]
    status, graph, _ = api.get("/links")
    assert status == 200
    assert {"source": f"{unique}-A", "target": f"{unique}-C"} in graph["edges"]
    assert f"{unique}-C" in graph["nodes"]


def test_unicode_spaces_and_nested_paths(api, unique):
    path = f"{unique}/Ünïcode Päge_with_underscore"
    status, body, _ = api.put(f"/pages/{path}", {"content": "grüße"})
    assert status == 201
    assert body["path"] == f"{unique}/Ünïcode Päge_With_Underscore"
    assert api.get(f"/pages/{path.lower()}")[1]["content"] == "grüße"
    found = api.get("/search", params={"q": "grusse"})[1]["results"]
    assert (
        any(r["path"] == body["path"] for r in found)
        or api.get("/search", params={"q": "grüße"})[1]["total"] >= 1
    )


def test_search_falls_back_to_any_word_when_no_page_has_all(api, unique):
    word = unique.lower() + "quokka"
    api.put(f"/pages/{unique}-any", {"content": f"the {word} smiles"})
    status, body, _ = api.get("/search", params={"q": f"where does a {word} live nowadays"})
    assert status == 200 and body["results"][0]["path"] == f"{unique}-Any"


def test_replacing_an_attachment_answers_200_and_commits_only_the_new_bytes(api, unique, repo):
    """The README promises 201 for a new attachment and 200 when one is replaced: a client
    tells the two apart by the status. The replacement is a commit of its own, by the key's
    author, changing exactly that file to exactly the new bytes."""
    page = f"{unique}/Files"
    file = f"{unique.lower()}/files/report.bin"
    api.put(f"/pages/{page}", {"content": "page"})
    old, new = b"first version\x00\xff", bytes(range(256)) * 3
    upload = {"filename": "report.bin", "content": base64.b64encode(old).decode()}
    status, first, _ = api.post(f"/pages/{page}/attachments", upload)
    assert status == 201 and first["created"] is True, first
    added = git(repo, "rev-parse", "HEAD").strip()
    added_message = f"[api] Add attachment: {page}/report.bin"
    assert git(repo, "log", "-1", "--format=%s").strip() == added_message

    upload = {"filename": "report.bin", "content": base64.b64encode(new).decode()}
    status, replaced, _ = api.post(f"/pages/{page}/attachments", upload)
    assert status == 200, replaced
    assert replaced == {
        "filename": "report.bin",
        "path": page,
        "size": len(new),
        "mime_type": "application/octet-stream",
        "created": False,
    }
    status, got, _ = api.get(f"/pages/{page}/attachments/report.bin")
    assert status == 200 and base64.b64decode(got["content"]) == new and got["size"] == len(new)
    listing = api.get(f"/pages/{page}/attachments")[1]
    assert [(a["filename"], a["size"]) for a in listing["attachments"]] == [
        ("report.bin", len(new))
    ]

    # one new commit on top of the upload, holding exactly the replaced file
    assert git(repo, "rev-parse", "HEAD~1").strip() == added
    assert git(repo, "show", "--format=%s%n%an <%ae>", "--name-status", "HEAD").split("\n")[:4] == [
        f"[api] Update attachment: {page}/report.bin",
        "{} <{}>".format(*AUTHORS["admin"]),
        "",
        f"M\t{file}",
    ]
    assert _blob(repo, f"HEAD:{file}") == new
    assert _blob(repo, f"{added}:{file}") == old
    assert git(repo, "status", "--porcelain") == ""

    # a custom message is kept for a replacement too
    upload = {"filename": "report.bin", "content": "eA==", "commit_message": "smaller"}
    status, again, _ = api.post(f"/pages/{page}/attachments", upload)
    assert (status, again["created"], again["size"]) == (200, False, 1)
    assert git(repo, "log", "-1", "--format=%s").strip() == "smaller"
    assert _blob(repo, f"HEAD:{file}") == b"x"


def _blob(repo: str, spec: str) -> bytes:
    """A committed file's exact bytes (the `git` helper decodes text)."""
    return subprocess.run(
        ["git", "cat-file", "blob", spec], cwd=repo, check=True, capture_output=True
    ).stdout
