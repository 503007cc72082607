"""The page where a person signed in to the wiki sees the MCP clients they allowed and revokes
them (each revoke is a form carrying the page's token, see `csrf`)."""

from __future__ import annotations

import html
import time
from dataclasses import dataclass

from starlette.responses import HTMLResponse

from .approval import CLIENTS_PATH, Identity
from .pages import SiteLook, render


@dataclass(frozen=True)
class Grant:
    """One approval of one client: its tokens live until revoked or unused too long."""

    grant: str  # the digest naming the grant (of its authorization code)
    client_name: str
    redirect_hosts: list[str]
    expires_at: int


def _row(grant: Grant, token: str) -> str:
    e = html.escape
    until = time.strftime("%Y-%m-%d", time.gmtime(grant.expires_at))
    return f"""<tr><td><strong>{e(grant.client_name)}</strong><br>
<small>returns to {e(", ".join(grant.redirect_hosts) or "?")}</small></td>
<td><small>unless used, ends {e(until)}</small></td>
<td><form method="post" action="{CLIENTS_PATH}">
<input type="hidden" name="csrf" value="{e(token)}">
<input type="hidden" name="grant" value="{e(grant.grant)}">
<button type="submit">Revoke</button></form></td></tr>"""


def page(site: SiteLook, who: Identity, grants: list[Grant], token: str) -> HTMLResponse:
    e = html.escape
    rows = "".join(_row(g, token) for g in grants)
    listing = (
        f"<table>{rows}</table>"
        if grants
        else "<p>You have not allowed any MCP client, or every one was revoked.</p>"
    )
    body = f"""<p class="who">Signed in as <strong>{e(who.name or "")}</strong>
&lt;{e(who.email or "")}&gt;</p>
<p>These clients may use {e(site.name)} as you. Revoking one ends its access at once; it can
ask you again.</p>
{listing}"""
    return render(site, "Your authorised MCP clients", body)
