"""The page where a person approves an MCP client's access, in two forms: signed in with their
wiki account ("Signed in as NAME <email>", Allow/Deny), or, where the wiki has no accounts, with
a key the wiki accepts (an API key with write scope, or the configured approval key) and who they
are. Either way that identity becomes the git author of the client's changes."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.responses import HTMLResponse

from .pages import SiteLook, render, span

_IDENT_BAD = re.compile(r"[<>\n\r\x00]")
CLIENTS_PATH = "/oauth/clients"


@dataclass(frozen=True)
class Identity:
    """Who approved; either part may be unknown (a bare approval key names nobody). A wiki
    account (`account`) brings its Otterwiki permissions, which bind every token of the grant."""

    name: str | None = None
    email: str | None = None
    account: bool = False
    write: bool = True
    upload: bool = True

    def grant(self) -> dict[str, Any]:
        """What the grant records (and each of its tokens carries)."""
        kept: dict[str, Any] = {"name": self.name, "email": self.email}
        if self.account:
            kept.update(account=True, write=self.write, upload=self.upload)
        return kept


def clean_identity(name: str, email: str, default: Identity) -> Identity | str:
    """The identity to record, or a message saying what to fix."""
    name, email = name.strip(), email.strip()
    email = email or (default.email or "")
    name = name or (default.name or "") or email
    if not email:
        return "Enter your email: it becomes the git author of this client's changes."
    if _IDENT_BAD.search(name) or _IDENT_BAD.search(email) or " " in email:
        return "Name and email must not contain '<', '>' or line breaks (and email no spaces)."
    return Identity(name, email)


@dataclass(frozen=True)
class Request:
    """What the page says about the access asked for."""

    request_id: str
    client_name: str
    redirect_host: str
    access_ttl: int
    refresh_ttl: int


def login_url(site: SiteLook, back: str) -> str | None:
    """The wiki's sign-in page, sending the person back to `back` (a path on this origin)."""
    return f"{site.login}?next={quote(back, safe='')}" if site.login else None


def _asks(req: Request, what: str) -> str:
    e = html.escape
    return (
        f"<p><strong>{e(req.client_name)}</strong> (returning to "
        f"<code>{e(req.redirect_host)}</code>) asks to {what}.</p>"
    )


def _lasts(req: Request) -> str:
    return (
        f'<p class="muted">Access lasts {span(req.access_ttl)} at a time and renews itself '
        f"while the client uses it (up to {span(req.refresh_ttl)} between uses). You can see and "
        f'revoke the clients you allowed at <a href="{CLIENTS_PATH}">your authorised MCP '
        "clients</a>.</p>"
    )


def _buttons() -> str:
    return (
        '<div class="buttons">'
        '<button class="primary" type="submit" name="action" value="approve">Allow</button>'
        '<button type="submit" name="action" value="deny" formnovalidate>Deny</button></div>'
    )


def account_page(
    req: Request, site: SiteLook, who: Identity, csrf: str, error: str | None = None
) -> HTMLResponse:
    """Allow/Deny for the signed-in `who`; the form carries a token bound to them and this
    request, so another site cannot submit it for them."""
    e = html.escape
    if who.write:
        what = f"read and change the notes of {e(site.name)} as you"
        author = "<li>Its changes are committed under your name and e-mail.</li>"
    else:
        what = f"read the notes of {e(site.name)}"
        author = "<li>Your account may not change this wiki, so the client may only read.</li>"
    uploads = "" if who.upload or not who.write else "<li>It may not change attachments.</li>"
    notice = f'<p class="error">{e(error)}</p>' if error else ""
    body = f"""<p class="who">Signed in as <strong>{e(who.name or "")}</strong>
&lt;{e(who.email or "")}&gt;</p>
{_asks(req, what)}
<ul>{author}{uploads}</ul>
{_lasts(req)}
{notice}
<form method="post">
<input type="hidden" name="request" value="{e(req.request_id)}">
<input type="hidden" name="csrf" value="{e(csrf)}">
<input type="hidden" name="with" value="account">
{_buttons()}
</form>"""
    return render(site, f"Allow access to {site.name}?", body, 400 if error else 200)


def page(
    req: Request,
    site: SiteLook,
    *,
    sign_in: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    """The key form; `sign_in` links to the wiki's login when the wiki has accounts."""
    e = html.escape
    notice = f'<p class="error">{e(error)}</p>' if error else ""
    account = (
        f'<p><a href="{e(sign_in)}">Sign in with your account of {e(site.name)}</a> instead.</p>'
        if sign_in
        else ""
    )
    body = f"""{_asks(req, "read and change this wiki's notes on your behalf")}
{_lasts(req)}
{account}
{notice}
<form method="post">
<input type="hidden" name="request" value="{e(req.request_id)}">
<label for="key">Key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<small>An API key of this wiki with write access (<code>wikibot serve</code> prints one).</small>
<label for="name">Your name</label>
<input id="name" name="name" autocomplete="name">
<label for="email">Your email</label>
<input id="email" name="email" type="email" autocomplete="email">
<small>Changes the client makes are committed with this name and email. Leave both empty to use
the key's own author.</small>
{_buttons()}
</form>"""
    return render(site, f"Allow access to {site.name}?", body, status)
