"""The route plan: which function answers which request behind the one API Gateway HTTP API.

`$default` goes to the wiki (Otterwiki, the REST API, static files); the MCP endpoint and every
path the MCP app declares (OAuth metadata, registration, token, approval page...) go to the MCP
function. In wiki mode (WIKIBOT_MCP_AUTH=wiki) the wiki is the authorization server: the paths it
declares for that (discovery, /authorize, /token, /register, the approval page, its JWKS) get
routes to the wiki function, and a path both functions declare stops the plan. The plan is built
from the apps' own reports (`otterwiki_mcp.paths`), never from a hand-written list, and both the
deploy (`infra/`) and the local gateway use it: Pulumi creates one route per entry, the local
gateway picks a target with `match`, which follows API Gateway's route selection.

Exact paths get one route per declared method, so a wiki page that happens to share a name with an
OAuth endpoint (`GET /token`) still reaches the wiki.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from otterwiki_mcp.paths import DeclaredPath

Target = Literal["wiki", "mcp"]
WIKI: Target = "wiki"
MCP: Target = "mcp"
DEFAULT_KEY = "$default"
GATEWAY_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
PLACEHOLDER_URL = "https://wiki.invalid"
WIKI_DEFAULTS = {"WIKIBOT_MCP_ENABLED": "false"}
"""What `lambda_init.create_wiki_app` assumes unless told: the wiki function serves no /mcp."""
PLACEHOLDERS = {
    "WIKIBOT_API_URL": PLACEHOLDER_URL,
    "WIKIBOT_API_KEY": "placeholder",
}
"""Settings the MCP app needs to be built but that never change which paths it serves."""

ENDPOINT_WHY = "the MCP endpoint, every method (the app answers 405 itself)"
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_]+))?\}")


@dataclass(frozen=True)
class Route:
    key: str
    """API Gateway route key: `$default` or `METHOD /path` (METHOD may be ANY)."""
    target: Target
    why: str

    @property
    def method(self) -> str | None:
        return None if self.key == DEFAULT_KEY else self.key.split(" ", 1)[0]

    @property
    def path(self) -> str | None:
        return None if self.key == DEFAULT_KEY else self.key.split(" ", 1)[1]


def gateway_path(starlette_path: str) -> str:
    """A Starlette path template in API Gateway syntax: `{x:int}` -> `{x}`, `{x:path}` -> `{x+}`."""

    def convert(m: re.Match[str]) -> str:
        return "{" + m.group(1) + ("+}" if m.group(2) == "path" else "}")

    return _PARAM.sub(convert, starlette_path)


def _methods(declared: Iterable[str]) -> list[str]:
    """ANY when every method API Gateway knows is declared, else the declared ones."""
    methods = {m.upper() for m in declared} & set(GATEWAY_METHODS)
    return ["ANY"] if methods == set(GATEWAY_METHODS) else sorted(methods)


def _route_keys(declared: DeclaredPath, who: str) -> Iterator[tuple[str, str]]:
    """(route key, why) for each route `declared` needs: one per method, and a greedy one
    under a mount."""
    path = gateway_path(declared.path).rstrip("/")
    if not path:
        raise ValueError(f"{who} serves '/', which would hide the whole wiki")
    shown = ",".join(declared.methods)
    for method in _methods(declared.methods):
        yield f"{method} {path}", f"declared by {who} ({shown})"
        if declared.prefix:
            yield f"{method} {path}/{{proxy+}}", f"mounted by {who} ({shown})"


def build_plan(
    paths: Iterable[DeclaredPath],
    mcp_path: str = "/mcp",
    wiki_paths: Iterable[DeclaredPath] = (),
) -> list[Route]:
    """The route table for an MCP app serving `paths` with its endpoint at `mcp_path`, and a
    wiki serving `wiki_paths` besides its `$default` (its authorization server in wiki mode)."""
    mcp_path = "/" + mcp_path.strip("/")
    routes: dict[str, Route] = {}

    def add(key: str, why: str) -> None:
        routes.setdefault(key, Route(key, MCP, why))

    add(f"ANY {mcp_path}", ENDPOINT_WHY)
    add(f"ANY {mcp_path}/{{proxy+}}", "anything under the MCP endpoint")
    for declared in paths:
        path = gateway_path(declared.path).rstrip("/")
        if path and (path == mcp_path or path.startswith(mcp_path + "/")):
            continue  # covered by the two ANY routes above
        for key, why in _route_keys(declared, "the MCP app"):
            add(key, why)
    for declared in wiki_paths:
        for key, why in _route_keys(declared, "the wiki's authorization server"):
            path = key.split(" ", 1)[1]
            if key in routes or path == mcp_path or path.startswith(mcp_path + "/"):
                raise ValueError(
                    f"{key} is served by both the MCP app and the wiki: turn the wiki's MCP "
                    "endpoint off (WIKIBOT_MCP_ENABLED=false) where a separate MCP app runs"
                )
            routes[key] = Route(key, WIKI, why)
    plan = sorted(routes.values(), key=lambda r: (r.path or "", r.method or ""))
    default = "everything else: the wiki's pages, static files, git and the REST API"
    return [*plan, Route(DEFAULT_KEY, WIKI, default)]


def mcp_endpoint(plan: Iterable[Route]) -> str:
    """The MCP endpoint's path in `plan` (what MCP clients connect to)."""
    return next(r.path for r in plan if r.why == ENDPOINT_WHY and r.path)


def route_code(folder: str | None = None) -> dict[str, str]:
    """The code the route plan is computed from: a hash of the MCP plugin's sources and the
    versions of the libraries that add routes (`otterwiki_mcp.paths.LIBRARIES`), in `folder`
    (an unpacked Lambda package) or, without it, as installed here. The build records the
    package's; the stack plans its routes here and refuses when the two differ, so routes and
    deployed code cannot disagree."""
    from otterwiki_mcp.paths import LIBRARIES, installed_versions, source_digest

    if folder is None:
        import otterwiki_mcp

        plugin = os.path.dirname(os.path.abspath(otterwiki_mcp.__file__))
        versions = installed_versions()
    else:
        plugin = os.path.join(folder, "otterwiki_mcp")
        versions = {name: _packaged_version(folder, name) for name in LIBRARIES}
    return {"otterwiki_mcp": source_digest(plugin), **versions}


def _packaged_version(folder: str, name: str) -> str:
    """The version in a `pip install --target` folder (its NAME-VERSION.dist-info)."""
    for entry in os.listdir(folder):
        match = re.fullmatch(r"(.+)-([^-]+)\.dist-info", entry)
        if match and match.group(1).lower().replace("_", "-") == name:
            return match.group(2)
    from otterwiki_mcp.paths import ABSENT

    return ABSENT


@contextmanager
def _wikibot_environment(environ: Mapping[str, str] | None) -> Iterator[None]:
    """With `environ`, the WIKIBOT_* variables are exactly those of `environ` for the duration."""
    if environ is None:
        yield
        return
    saved = {k: v for k, v in os.environ.items() if k.startswith("WIKIBOT_")}
    try:
        for key in saved:
            del os.environ[key]
        os.environ.update({k: v for k, v in environ.items() if k.startswith("WIKIBOT_")})
        yield
    finally:
        for key in [k for k in os.environ if k.startswith("WIKIBOT_")]:
            del os.environ[key]
        os.environ.update(saved)


@contextmanager
def _quiet() -> Iterator[None]:
    """No INFO logs while the app is built only to be looked at (AuthKit would announce the
    placeholder origin as the audience to configure)."""
    previous = logging.root.manager.disable
    logging.disable(max(previous, logging.INFO))
    try:
        yield
    finally:
        logging.disable(previous)


def configured_plan(
    environ: Mapping[str, str] | None = None, wiki_environ: Mapping[str, str] | None = None
) -> list[Route]:
    """The plan for the apps the configuration describes: this process's environment, or only
    the WIKIBOT_* variables of `environ` (the MCP function's own environment) and `wiki_environ`
    (the wiki function's; `environ` when not given), so the deployer's shell cannot change what
    is deployed. Builds the real apps; makes no request."""
    from otterwiki_mcp.settings import McpSettings
    from otterwiki_mcp.standalone import authorization_paths, declared_paths

    with _wikibot_environment(environ), _quiet():
        config = {k: v for k, v in PLACEHOLDERS.items() if not os.environ.get(k)}
        settings = McpSettings.from_config(config)
        paths = declared_paths(config)
    wiki = wiki_environ if wiki_environ is not None else environ
    with (
        _wikibot_environment({**WIKI_DEFAULTS, **(os.environ if wiki is None else wiki)}),
        _quiet(),
    ):
        config = {k: v for k, v in PLACEHOLDERS.items() if not os.environ.get(k)}
        wiki_paths = authorization_paths(config)
    return build_plan(paths, settings.path, wiki_paths)


def _segments_match(template: list[str], actual: list[str]) -> bool:
    """Segment-wise match: `{x}` takes one non-empty segment, a final `{x+}` one or more."""
    if template and template[-1].endswith("+}"):
        head, rest = template[:-1], actual[len(template) - 1 :]
        return "/".join(rest) != "" and _segments_match(head, actual[: len(head)])
    if len(template) != len(actual):
        return False
    pairs = zip(template, actual, strict=True)
    return all(t == a or (t.startswith("{") and a != "") for t, a in pairs)


def _rank(route: Route, method: str, path: str) -> tuple[int, int, int] | None:
    """How well `route` fits (lower is better), or None when it does not match: a full match
    beats path variables beats a greedy variable, more literal segments beat fewer, and a
    route for the method beats ANY."""
    if route.path is None or route.method not in ("ANY", method):
        return None
    template = route.path[1:].split("/")
    if not _segments_match(template, path[1:].split("/")):
        return None
    kind = 2 if template[-1].endswith("+}") else 1 if "{" in route.path else 0
    literals = sum(not t.startswith("{") for t in template)
    return kind, -literals, 0 if route.method == method else 1


def select(plan: Iterable[Route], method: str, path: str) -> Route | None:
    """The route API Gateway would pick for `method path` (path without the query), else the
    `$default` route; None when nothing matches (the gateway answers 404)."""
    method, path = method.upper(), "/" + path.split("?", 1)[0].lstrip("/")
    best: tuple[tuple[int, int, int], Route] | None = None
    default: Route | None = None
    for route in plan:
        if route.key == DEFAULT_KEY:
            default = route
            continue
        rank = _rank(route, method, path)
        if rank is not None and (best is None or rank < best[0]):
            best = (rank, route)
    return best[1] if best is not None else default


def match(plan: Iterable[Route], method: str, path: str) -> Target | None:
    """The function that answers `method path`, or None when no route matches."""
    route = select(plan, method, path)
    return route.target if route is not None else None


def format_table(plan: Iterable[Route]) -> str:
    """The plan as an aligned text table (what `wikibot routes` prints)."""
    rows = [("ROUTE", "TARGET", "WHY"), *((r.key, r.target, r.why) for r in plan)]
    width = [max(len(row[i]) for row in rows) for i in (0, 1)]
    return "\n".join(f"{k:<{width[0]}}  {t:<{width[1]}}  {w}" for k, t, w in rows)
