"""`GET /api/v1/whoami`: who a request is, for the MCP app's approval page.

The MCP app approves a client either with an API key (it asks which key that is and what it may
do) or with the person's wiki account (it forwards the browser's own cookies, and asks whose
session they carry and what that account may do). In the separate MCP app (gateway mode) it
cannot read the wiki's keys or sessions itself, so it asks here; in the wiki's own process it
calls `describe` directly. The answer holds nothing the caller did not present: the key's name
and scope, and the account of the caller's own session.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app

from .auth import ApiKey
from .jsonapi import caller, json_response, protect
from .openapi import STR, obj, operation

BOOL = {"type": "boolean"}
bp = Blueprint("wikibot_whoami", __name__, url_prefix="/api/v1")
protect(bp, set())


def signed_in_account() -> dict[str, Any] | None:
    """The wiki account of this request's session (Flask-Login), with its Otterwiki permissions;
    None when nobody is signed in."""
    from flask_login import current_user
    from otterwiki.auth import has_permission

    user = current_user
    if not getattr(user, "is_authenticated", False):
        return None
    allowed = {p.lower(): bool(has_permission(p, user)) for p in ("READ", "WRITE", "UPLOAD")}
    return {
        "name": str(user.name or user.email),
        "email": str(user.email),
        **allowed,
        "admin": bool(has_permission("ADMIN", user)),
    }


def has_accounts() -> bool:
    """Whether people sign in to this wiki: Otterwiki's own accounts, and at least one exists
    (a wiki nobody registered in approves MCP clients with API keys)."""
    from otterwiki.auth import SimpleAuth, auth_manager

    if not isinstance(auth_manager, SimpleAuth):
        return False
    return auth_manager.User.query.first() is not None


def describe(key: ApiKey) -> dict[str, Any]:
    """The answer of /whoami for a request authenticated with `key`."""
    config = current_app.config
    return {
        "key": {
            "name": key.name,
            "scope": key.scope,
            "author": {"name": key.author_name, "email": key.author_email},
        },
        "account": signed_in_account(),
        "accounts": has_accounts(),
        "site": {
            "name": str(config.get("SITE_NAME") or "the wiki"),
            "logo": config.get("SITE_LOGO") or None,
            "login": "/-/login",
        },
    }


@bp.route("/whoami", methods=["GET"])
def whoami() -> Response:
    return json_response(describe(caller()))


ACCOUNT = obj(
    ["name", "email", "read", "write", "upload", "admin"],
    name=STR,
    email=STR,
    read=BOOL,
    write=BOOL,
    upload=BOOL,
    admin=BOOL,
)
WHOAMI = obj(
    ["key", "account", "accounts", "site"],
    key=obj(["name", "scope", "author"], name=STR, scope=STR, author={"type": "object"}),
    account={"oneOf": [ACCOUNT, {"type": "null"}]},
    accounts=BOOL,
    site=obj(["name", "login"], name=STR, logo={"type": ["string", "null"]}, login=STR),
)


def install(app: Flask) -> None:
    """Register the route (CSRF-exempt: it changes nothing) and its OpenAPI entry."""
    summary = (
        "The key this request presents, and the wiki account whose session its cookies carry "
        "(with that account's permissions): what the MCP approval page asks"
    )
    paths = {"/whoami": {"get": operation(summary, ("200", WHOAMI, "who"), [])}}
    app.extensions.setdefault("wikibot_openapi_paths", {}).update(paths)
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
