"""The MCP ASGI app: one MCP server per public origin, each started on first authenticated use.

OAuth metadata must name the URL the client used (the MCP SDK client refuses protected-resource
metadata for another URL), and a wiki is often reached under several names (localhost and
127.0.0.1, a tunnel, a proxy). With WIKIBOT_MCP_BASE_URL set there is exactly one origin.
Otherwise each origin seen (X-Forwarded-Proto/-Host, else the request's own) is served on its
own: forged headers only change what the forger is told.

A host name costs nothing before its caller authenticates (see `front`): a request to the MCP
path without a token gets its 401 at once; the OAuth endpoints and token checks of an origin are
a front of under a millisecond, kept for the `max_fronts` most recently used origins; an origin's
MCP server is built (about 0.1 s) only for a caller its auth provider accepted. At most
`max_origins` servers run; past that the least recently used idle one is stopped (it is rebuilt
if its origin comes back, and tokens live in the shared store), so made-up host names cost a
rebuild, never a refusal.

Each server's lifespan (the MCP session manager) runs in a task of the serving event loop, started
on its first request, so the app also works where no ASGI lifespan is sent (a2wsgi, Lambda).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastmcp.server.auth import AuthProvider
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse

from .front import MCP_METHODS, build_front, challenge, has_bearer
from .paths import DeclaredPath, declared_paths
from .settings import McpSettings

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")
PLACEHOLDER_ORIGIN = "http://localhost"


def request_origin(scope: Scope) -> str | None:
    """scheme://host[:port] the client used, or None when the headers make no sense."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    scheme = headers.get("x-forwarded-proto") or scope.get("scheme") or "http"
    host = headers.get("x-forwarded-host") or headers.get("host")
    if not host and scope.get("server"):
        host = "{}:{}".format(*scope["server"])
    scheme = scheme.split(",")[0].strip().lower()
    host = (host or "").split(",")[0].strip().lower()
    if scheme not in ("http", "https") or not _HOST.match(host):
        return None
    default_port = ":443" if scheme == "https" else ":80"
    if host.endswith(default_port):
        host = host[: -len(default_port)]
    return f"{scheme}://{host}"


@dataclass
class _Running:
    app: Starlette
    stop: asyncio.Event
    task: asyncio.Task[None]
    in_flight: int = 0
    last_used: float = 0.0

    async def close(self) -> None:
        self.stop.set()
        await asyncio.gather(self.task, return_exceptions=True)


async def _start(app: Starlette) -> _Running:
    """Enter `app`'s lifespan in a task of its own that holds it until told to stop."""
    started, stop = asyncio.Event(), asyncio.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        try:
            async with app.router.lifespan_context(app):
                started.set()
                await stop.wait()
        except BaseException as e:
            failure.append(e)
            started.set()
            raise

    task = asyncio.get_running_loop().create_task(hold())
    await started.wait()
    if failure:
        raise failure[0]
    return _Running(app, stop, task)


class OriginRouter:
    def __init__(
        self,
        auth_for: Callable[[str], AuthProvider],
        build: Callable[[str, AuthProvider], Starlette],
        settings: McpSettings,
    ) -> None:
        self.auth_for = auth_for  # the origin's auth provider: cheap
        self.build = build  # the origin's MCP server around it: about 0.1 s
        self.settings = settings
        self.base_url = settings.base_url
        self.max_origins = settings.max_origins
        self.max_fronts = 4 * settings.max_origins
        self._fronts: OrderedDict[str, Starlette] = OrderedDict()  # least recently used first
        self._auth: dict[str, AuthProvider] = {}  # each front's provider, for its server
        self._running: dict[str, _Running] = {}
        self._built: dict[str, Starlette] = {}  # built to read its paths, not started yet
        self._lock: asyncio.Lock | None = None

    def declared_paths(self) -> list[DeclaredPath]:
        """Every path and method the app serves under this configuration (the same for every
        origin), read from a server's real routes. With a fixed base URL that server is the one
        later started."""
        origin = self.base_url or PLACEHOLDER_ORIGIN
        app = self.build(origin, self.auth_for(origin))
        if self.base_url:
            self._built[self.base_url] = app
        return declared_paths(app)

    async def _running_for(self, origin: str) -> _Running | None:
        running = self._running.get(origin)
        if running is not None:
            return running
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            running = self._running.get(origin)
            if running is None:
                if len(self._running) >= self.max_origins and not await self._evict_one():
                    return None
                app = self._built.pop(origin, None) or self.build(origin, self._provider(origin))
                running = await _start(app)
                self._running[origin] = running
        return running

    def _provider(self, origin: str) -> AuthProvider:
        return self._auth.get(origin) or self.auth_for(origin)

    def _front(self, origin: str) -> Starlette:
        """The origin's front, built if new; the least recently used goes past `max_fronts`."""
        front = self._fronts.get(origin)
        if front is not None:
            self._fronts.move_to_end(origin)
            return front
        auth = self.auth_for(origin)

        async def forward(scope: Scope, receive: Receive, send: Send) -> None:
            await self._serve(origin, scope, receive, send)

        front = build_front(origin, auth, self.settings, forward)
        self._fronts[origin], self._auth[origin] = front, auth
        while len(self._fronts) > self.max_fronts:
            gone, _ = self._fronts.popitem(last=False)
            self._auth.pop(gone, None)
        return front

    async def _serve(self, origin: str, scope: Scope, receive: Receive, send: Send) -> None:
        """An authenticated request, by the origin's MCP server."""
        running = await self._running_for(origin)
        if running is None:
            text = "busy serving other host names; retry, or set WIKIBOT_MCP_BASE_URL"
            await PlainTextResponse(text, 503)(scope, receive, send)
            return
        running.in_flight += 1
        try:
            await running.app(scope, receive, send)
        finally:
            running.in_flight -= 1
            running.last_used = time.monotonic()

    async def _evict_one(self) -> bool:
        idle = [(r.last_used, o) for o, r in self._running.items() if r.in_flight == 0]
        if not idle:
            return False
        _, origin = min(idle)
        await self._running.pop(origin).close()
        return True

    async def aclose(self) -> None:
        running, self._running = list(self._running.values()), {}
        for server in running:
            await server.close()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        origin = self.base_url or request_origin(scope)
        if origin is None:
            await PlainTextResponse("bad Host header", 400)(scope, receive, send)
            return
        mcp_call = scope["path"] == self.settings.path and scope["method"] in MCP_METHODS
        if mcp_call and not has_bearer(scope):  # nothing built for a caller with no token
            await challenge(origin, self.settings)(scope, receive, send)
            return
        try:
            front = self._front(origin)
        except ValueError as e:  # e.g. the OAuth server refuses a plain-http public issuer
            text = f"cannot serve MCP at {origin}: {e}; use https (or localhost)"
            await PlainTextResponse(text, 400)(scope, receive, send)
            return
        await front(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.base_url:
                        await self._running_for(self.base_url)
                except Exception as e:  # noqa: BLE001 - reported to the server, which stops
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return
