"""The frame of the OAuth server's pages for people (approval, authorised clients): the wiki's
name and logo, one small inline style, and headers that keep the pages out of frames, caches and
other sites' Referer logs."""

from __future__ import annotations

import html
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse

NO_FRAMES = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        # no form-action: Chrome applies it to the redirect to the client after Allow
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; "
        "frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}
STYLE = """
body { font-family: Roboto, system-ui, sans-serif; background: #f4f4f4; color: #1a1a1a;
  margin: 0; }
header { background: #fff; border-bottom: 1px solid #ddd; padding: .6rem 1rem; display: flex;
  align-items: center; gap: .6rem; font-size: 1.15rem; font-weight: 600; }
header img { max-height: 2rem; }
main { max-width: 34rem; margin: 2rem auto; padding: 1.5rem; background: #fff;
  border: 1px solid #ddd; border-radius: .4rem; }
h1 { font-size: 1.35rem; margin-top: 0; }
label { display: block; margin-top: 1rem; font-weight: 600; }
input { width: 100%; padding: .5rem; box-sizing: border-box; }
.buttons { margin-top: 1.5rem; display: flex; gap: 1rem; }
button { padding: .55rem 1.2rem; border-radius: .25rem; border: 1px solid #bbb; cursor: pointer; }
button.primary { background: #1890ff; color: #fff; border-color: #1890ff; }
.error { color: #b00020; font-weight: 600; }
.who { background: #f0f7ff; padding: .6rem .8rem; border-radius: .25rem; }
small, .muted { color: #555; }
table { width: 100%; border-collapse: collapse; } td, th { text-align: left; padding: .4rem;
  border-bottom: 1px solid #eee; vertical-align: top; }
"""


@dataclass(frozen=True)
class SiteLook:
    """What the wiki looks like to its people: its name, its logo and where they sign in."""

    name: str = "the wiki"
    logo: str | None = None
    login: str | None = None


def _safe_image(url: str | None) -> str | None:
    """The logo's URL if it is an https, http or same-site one (never javascript: or data:)."""
    if not url:
        return None
    scheme = urlsplit(url).scheme.lower()
    return url if scheme in ("", "http", "https") else None


def render(site: SiteLook, title: str, body: str, status: int = 200) -> HTMLResponse:
    """A page titled `title` under the wiki's header; `body` is already escaped HTML."""
    e = html.escape
    logo = _safe_image(site.logo)
    mark = f'<img src="{e(logo)}" alt="">' if logo else ""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · {e(site.name)}</title><style>{STYLE}</style></head><body>
<header>{mark}<span>{e(site.name)}</span></header>
<main><h1>{e(title)}</h1>
{body}
</main></body></html>"""
    return HTMLResponse(page, status_code=status, headers=NO_FRAMES)


def message(text: str, status: int, site: SiteLook | None = None) -> HTMLResponse:
    return render(site or SiteLook(), "MCP access", f"<p>{html.escape(text)}</p>", status)


def span(seconds: int) -> str:
    """'1 hour', '30 days': how long a token lasts, in words."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0 or unit == "minute":
            count = max(1, round(seconds / size))
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"
