"""The service layer as plain Python on its own repositories (no Flask), including
RETAIN_PAGE_NAME_CASE and the page index's catch-up and rebuild rules."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest
from conftest import external_commit, git
from otterwiki_api.errors import Conflict, NotFound
from otterwiki_api.page_index import LinkRules
from otterwiki_api.service import WikiService

AUTHOR = ("Svc", "svc@example.org")


def make_service(tmp_path, retain: bool = False, style: str = "") -> WikiService:
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    if not (repo / ".git").exists():
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
    rules = LinkRules(retain_case=retain, wikilink_style=style)
    return WikiService(str(repo), str(repo / ".git" / "wikibot"), lambda: rules)


def test_empty_repository(tmp_path):
    svc = make_service(tmp_path)
    assert svc.list_pages().total == 0
    assert svc.changelog()["entries"] == []
    with pytest.raises(NotFound):
        svc.get_page("Home")
    result, created = svc.put_page("Home", "first", AUTHOR)
    assert created and svc.get_page("home")["content"] == "first"


def test_retain_page_name_case(tmp_path):
    svc = make_service(tmp_path, retain=True)
    svc.put_page("CamelCase/Page", "[[other/Page]]", AUTHOR)
    assert os.path.exists(tmp_path / "repo" / "CamelCase" / "Page.md")
    assert svc.get_page("CamelCase/Page")["path"] == "CamelCase/Page"
    with pytest.raises(NotFound):
        svc.get_page("camelcase/page")
    svc.put_page("other/Page", "x", AUTHOR)
    assert svc.links("other/Page")["linked_from"] == ["CamelCase/Page"]
    assert svc.links("other/page")["linked_from"] == []


def test_linktitle_style(tmp_path):
    svc = make_service(tmp_path, style="LINKTITLE")
    svc.put_page("A", "[[B|shown text]]", AUTHOR)
    assert svc.links("A")["links_to"] == ["B"]
    svc.put_page("B", "target", AUTHOR)
    svc.rename_page("B", "C", AUTHOR)
    assert svc.get_page("A")["content"] == "[[C|shown text]]"


def test_catch_up_is_incremental_and_rebuild_says_why(tmp_path, caplog):
    svc = make_service(tmp_path)
    svc.put_page("One", "one", AUTHOR)
    db = svc.index.db_path
    inode = os.stat(db).st_ino
    external_commit(str(tmp_path / "repo"), "two.md", "two words")
    assert svc.get_page("Two")["content"] == "two words"
    assert os.stat(db).st_ino == inode, "a small change must not rebuild the index"
    # a different naming setting means a different index: rebuilt, with the reason logged
    svc.rules = lambda: LinkRules(retain_case=True, wikilink_style="")
    svc.index.rules = svc.rules
    with caplog.at_level(logging.INFO, logger="otterwiki_api.page_index"):
        svc.list_pages()
    assert "full rebuild (index settings or schema changed)" in caplog.text
    # rewritten history (e.g. a force-pushed pull) also rebuilds instead of failing
    repo = str(tmp_path / "repo")
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    external_commit(repo, "three.md", "three")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="otterwiki_api.page_index"):
        names = [p["path"] for p in svc.list_pages().pages]
    assert names == ["one", "three"] and "history was rewritten" in caplog.text


def test_two_service_instances_share_one_index(tmp_path):
    """Two processes' worth of service objects on one repository and index folder."""
    a = make_service(tmp_path)
    b = make_service(tmp_path)
    rev = a.put_page("Shared", "v1", AUTHOR)[0]["revision"]
    assert b.get_page("Shared")["revision"] == rev
    b.put_page("Shared", "v2", AUTHOR, revision=rev)
    with pytest.raises(Conflict):
        a.put_page("Shared", "v3", AUTHOR, revision=rev)
    assert a.search("v2")["total"] == 1


def test_failed_commit_rolls_back_the_working_tree(tmp_path, monkeypatch):
    svc = make_service(tmp_path)
    rev = svc.put_page("Keep", "original", AUTHOR)[0]["revision"]

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(svc.commits, "_move_branch", broken)
    with pytest.raises(RuntimeError):
        svc.put_page("Keep", "changed", AUTHOR, revision=rev)
    with pytest.raises(RuntimeError):
        svc.put_page("New", "new", AUTHOR)
    repo = str(tmp_path / "repo")
    assert (tmp_path / "repo" / "keep.md").read_text() == "original"
    assert not (tmp_path / "repo" / "new.md").exists()
    assert git(repo, "status", "--porcelain") == ""
    assert git(repo, "log", "--format=%s").splitlines() == ["[api] Create: Keep"]


def test_temporary_files_of_killed_writers_are_cleared(tmp_path):
    """A rebuild of the page index, a vector-store or OAuth-state save killed half way leaves
    its temporary file; the next writer (holding the same lock) removes it."""
    from otterwiki_api.atomicfile import atomic_write

    svc = make_service(tmp_path)
    svc.put_page("Home", "x", AUTHOR)
    index_dir = tmp_path / "repo" / ".git" / "wikibot"
    leftover = index_dir / "pages.sqlite3.4242.1.tmp"
    leftover.write_bytes(b"half a database")
    os.remove(index_dir / "pages.sqlite3")
    assert svc.list_pages().total == 1  # rebuilt
    assert not leftover.exists()
    state = tmp_path / "state.json"
    (tmp_path / "state.json.4242.7.tmp").write_text("{half")
    atomic_write(str(state), b"{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["repo", "state.json"]
    assert oct(state.stat().st_mode & 0o777) == "0o600"
