"""Private by default, owned by its deployer: the access presets, and `wikibot serve` as deployed
(the gateway mode) refusing anonymous web writes and letting only the owner's e-mail be admin."""

from __future__ import annotations

import os

import pytest
import requests
from conftest import csrf_token, git
from mcp_helpers import WikiServe

OWNER = "owner@example.org"


def test_presets_fill_what_is_not_set_explicitly():
    from lambda_init import NO_OWNER, apply_access_preset

    env: dict[str, str] = {}
    assert apply_access_preset(env) == "private"
    assert env["READ_ACCESS"] == env["WRITE_ACCESS"] == env["ATTACHMENT_ACCESS"] == "APPROVED"
    assert env["AUTO_APPROVAL"] == "false" and env["ADMIN_USER_EMAIL"] == NO_OWNER
    env = {"WIKIBOT_ACCESS": "public", "WRITE_ACCESS": "REGISTERED", "WIKIBOT_OWNER_EMAIL": OWNER}
    assert apply_access_preset(env) == "public"
    assert env["READ_ACCESS"] == "ANONYMOUS" and env["WRITE_ACCESS"] == "REGISTERED"
    assert env["ADMIN_USER_EMAIL"] == OWNER
    env = {"WIKIBOT_ACCESS": "open"}
    apply_access_preset(env)
    assert env == {"WIKIBOT_ACCESS": "open"}  # Otterwiki's own defaults, the first account admin
    with pytest.raises(RuntimeError, match="WIKIBOT_ACCESS"):
        apply_access_preset({"WIKIBOT_ACCESS": "everyone"})


def register(url: str, email: str, name: str) -> requests.Session:
    session = requests.Session()
    token = csrf_token(session.get(f"{url}/-/register", timeout=30).text)
    form = {
        "email": email,
        "name": name,
        "password1": "a-long-password",
        "password2": "a-long-password",
        "csrf_token": token,
    }
    session.post(f"{url}/-/register", data=form, timeout=30)
    token = csrf_token(session.get(f"{url}/-/login", timeout=30).text)
    login = {"email": email, "password": "a-long-password", "csrf_token": token}
    session.post(f"{url}/-/login", data=login, timeout=30)
    return session


@pytest.fixture(scope="module")
def private_wiki(tmp_path_factory):
    data = str(tmp_path_factory.mktemp("private") / "data")
    env = {"WIKIBOT_API_KEY": "k", "WIKIBOT_ACCESS": "private", "WIKIBOT_OWNER_EMAIL": OWNER}
    server = WikiServe(data, env).start()  # the gateway mode: the deployed shape
    yield server.url, os.path.join(data, "repository")
    server.stop()


def test_anonymous_visitors_can_neither_read_nor_write(private_wiki):
    url, repo = private_wiki
    head = git(repo, "rev-parse", "HEAD")
    home = requests.get(f"{url}/Home", timeout=30, allow_redirects=False)
    assert home.status_code in (302, 403), home.status_code
    assert "An Otter Wiki" not in home.text  # not the Home page's content
    session = requests.Session()
    edit = session.get(f"{url}/Intruder/edit", timeout=30, allow_redirects=False)
    assert edit.status_code in (302, 403)
    save = session.post(
        f"{url}/Intruder/save",
        data={"content": "defaced", "commit": "x"},
        timeout=30,
        allow_redirects=False,
    )
    assert save.status_code in (302, 400, 403)
    assert git(repo, "rev-parse", "HEAD") == head


def test_only_the_owner_becomes_admin(private_wiki):
    url, _ = private_wiki
    first = register(url, "first@example.org", "First Visitor")  # registers before the owner
    # not admin, not even approved: the admin page sends it to the login
    admin = first.get(f"{url}/-/admin/user_management", timeout=30, allow_redirects=False)
    assert admin.status_code in (302, 403)
    owner = register(url, OWNER, "Owner")
    page = owner.get(f"{url}/-/admin/user_management", timeout=30)
    assert page.status_code == 200 and "first@example.org" in page.text
