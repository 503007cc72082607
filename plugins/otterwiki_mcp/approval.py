"""The page where a person approves an MCP client's access: it asks for a key the wiki accepts
(an API key with write scope, or the configured approval key) and who they are, because that
identity becomes the git author of the client's changes."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from starlette.responses import HTMLResponse

NO_FRAMES = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}
_IDENT_BAD = re.compile(r"[<>\n\r\x00]")


@dataclass(frozen=True)
class Identity:
    """Who approved; either part may be unknown (a bare approval key names nobody)."""

    name: str | None = None
    email: str | None = None


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


def page(
    *,
    request_id: str,
    client_name: str,
    redirect_host: str,
    site: str,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    e = html.escape
    notice = f'<p class="error">{e(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Allow access to {e(site)}?</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input {{ width: 100%; padding: .5rem; box-sizing: border-box; }}
.buttons {{ margin-top: 1.5rem; display: flex; gap: 1rem; }}
button {{ padding: .6rem 1.2rem; }}
.error {{ color: #b00020; font-weight: 600; }}
small {{ color: #555; }}
</style></head><body>
<h1>Allow access to {e(site)}?</h1>
<p><strong>{e(client_name)}</strong> (returning to <code>{e(redirect_host)}</code>) asks to read
and change this wiki's notes on your behalf.</p>
{notice}
<form method="post">
<input type="hidden" name="request" value="{e(request_id)}">
<label for="key">Key</label>
<input id="key" name="key" type="password" autocomplete="current-password" required>
<small>An API key of this wiki with write access (<code>wikibot serve</code> prints one).</small>
<label for="name">Your name</label>
<input id="name" name="name" autocomplete="name">
<label for="email">Your email</label>
<input id="email" name="email" type="email" autocomplete="email">
<small>Changes the client makes are committed with this name and email. Leave both empty to use
the key's own author.</small>
<div class="buttons">
<button type="submit" name="action" value="approve">Allow</button>
<button type="submit" name="action" value="deny">Deny</button>
</div>
</form></body></html>"""
    return HTMLResponse(body, status_code=status, headers=NO_FRAMES)


def message(text: str, status: int) -> HTMLResponse:
    body = f"<!doctype html><html><body><p>{html.escape(text)}</p></body></html>"
    return HTMLResponse(body, status_code=status, headers=NO_FRAMES)
