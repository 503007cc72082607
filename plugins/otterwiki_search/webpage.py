"""The semantic search page for people, `/-/semantic-search?q=...`: hybrid results in the wiki's
own layout (Otterwiki's `wiki.html`), under Otterwiki's `/-/` prefix for its own pages so no wiki
page can take the path. Links to it come from Otterwiki's template hooks (`SearchPageHooks`)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape
from otterwiki.plugins import hookimpl
from otterwiki_api.errors import WikiError

from .runtime import SearchRuntime

PATH = "/-/semantic-search"
LIMIT = 10
TEMPLATE = "wikibot_search/semantic_search.html"
HIGHLIGHT = re.compile(r"\*\*(.+?)\*\*")

page = Blueprint("wikibot_search_page", __name__, template_folder="templates")


def _runtime() -> SearchRuntime:
    return current_app.extensions["wikibot_search"]


def _may_read() -> bool:
    """Otterwiki's own READ check (READ_ACCESS and the user's rights). Imported late: the
    plugin's setup runs while otterwiki.server, which otterwiki.auth needs, is still loading."""
    from otterwiki.auth import has_permission

    return bool(has_permission("READ"))


def offered() -> bool:
    """Whether to link the page: the visitor may read and this wiki has semantic search."""
    runtime = current_app.extensions.get("wikibot_search")
    return runtime is not None and runtime.search is not None and _may_read()


def highlight(snippet: str) -> Markup:
    """The snippet as text, with full text's `**word**` markers as <mark>: escaped first, so
    nothing from a page becomes markup but the marks this adds."""
    return Markup(HIGHLIGHT.sub(r"<mark>\1</mark>", str(escape(snippet))))


def section_url(page_url: str, section: str) -> str:
    """The page's URL at the section's last heading, with the anchor Otterwiki gives it."""
    from otterwiki.util import slugify

    heading = section.rsplit(" > ", 1)[-1].strip()
    return f"{page_url}#{slugify(heading)}" if heading else page_url


def _shown(hit: dict[str, Any]) -> dict[str, Any]:
    """One hybrid result as the template shows it."""
    page_url = url_for("view", path=hit["path"])
    section = hit.get("section") or ""
    return {
        "name": hit["name"],
        "url": section_url(page_url, section),
        "section": section,
        "snippet": highlight(hit.get("snippet") or ""),
        "score": float(hit.get("score") or 0.0),
        "ranks": hit.get("ranks") or {},
    }


def _search(query: str) -> tuple[dict[str, Any] | None, str | None]:
    """The hybrid answer (None without a query), or a message for people when there is none
    (no model, the index locked by another process, ...): never a 500 for those."""
    try:
        search, _ = _runtime().require()
        return (search.hybrid(query, LIMIT) if query else None), None
    except WikiError as e:
        retry = " Please try again in a moment." if e.code in ("busy", "starting") else ""
        return None, e.message + retry


@page.get(PATH)
def semantic_search() -> Any:
    """The form and, for a query, its results; readers only, as Otterwiki's own search."""
    if not _may_read():
        from otterwiki.auth import current_user

        if not current_user.is_authenticated:
            return redirect(url_for("login", next=request.full_path))
        abort(403)
    query = request.args.get("q", "").strip()
    answer, problem = _search(query)
    html = render_template(
        TEMPLATE,
        title=f"Semantic search '{query}'" if query else "Semantic search",
        query=query,
        results=[_shown(hit) for hit in answer["results"]] if answer else None,
        index=answer.get("index") if answer else None,
        problem=problem,
    )
    return html, 503 if problem else 200


class SearchPageHooks:
    """Links to the page through Otterwiki's template hooks, mixed into the plugin class."""

    @hookimpl
    def template_html_sidebar_left_inject(self, page: str | None) -> str | None:
        """A sidebar entry on every wiki page view (page.html calls this hook)."""
        return render_template("wikibot_search/sidebar_link.html") if offered() else None

    @hookimpl
    def template_html_body_inject(self, page: str | None) -> str | None:
        """On Otterwiki's search page only: a link that carries the query over. No hook reaches
        that page's content, so a few lines of script move it into the search card."""
        if request.endpoint != "search" or not offered():
            return None
        query = (request.view_args or {}).get("query") or request.form.get("query") or ""
        return render_template("wikibot_search/search_page_link.html", query=query.strip())
