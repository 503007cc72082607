"""Declared paths: every HTTP path and method an MCP app serves, read from its Starlette routes.

The deploy's route plan and the in-wiki dispatcher are built from this, never from a hand-written
list, so adding an auth mode or an OAuth endpoint cannot leave a path unrouted.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount, Route

ALL_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


@dataclass(frozen=True)
class DeclaredPath:
    path: str
    methods: tuple[str, ...]
    prefix: bool = False
    """True for a mount: every path under `path` is served."""


def declared_paths(app: Starlette) -> list[DeclaredPath]:
    """(path, methods) for each route of `app`. With CORS middleware in the app, OPTIONS is
    answered (preflight) on every path too."""
    preflight = any(m.cls is CORSMiddleware for m in app.user_middleware)
    found: dict[str, DeclaredPath] = {}
    for route in app.routes:
        if isinstance(route, Route):
            methods = set(route.methods or ALL_METHODS)
            prefix = False
        elif isinstance(route, Mount):
            methods, prefix = set(ALL_METHODS), True
        else:
            continue
        if preflight:
            methods.add("OPTIONS")
        known = found.get(route.path)
        if known is not None:
            methods |= set(known.methods)
        found[route.path] = DeclaredPath(route.path, tuple(sorted(methods)), prefix)
    return sorted(found.values(), key=lambda p: p.path)
