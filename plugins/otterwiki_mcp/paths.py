"""Declared paths: every HTTP path and method an MCP app serves, read from its Starlette routes.

The deploy's route plan and the in-wiki dispatcher are built from this, never from a hand-written
list, so adding an auth mode or an OAuth endpoint cannot leave a path unrouted.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette

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
    from starlette.middleware.cors import CORSMiddleware
    from starlette.routing import Mount, Route

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


# -- kept between starts: a wiki process answers without importing the MCP stack ---------------
LIBRARIES = ("fastmcp", "mcp", "starlette")  # what declares routes besides this plugin


def fingerprint(settings: Any) -> str:
    """What the declared paths depend on: the settings, this plugin's code and the versions of
    the libraries that add routes of their own."""
    digest = hashlib.sha256(repr(settings).encode())
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(n for n in os.listdir(here) if n.endswith(".py")):
        with open(os.path.join(here, name), "rb") as f:
            digest.update(name.encode() + b"\0" + hashlib.sha256(f.read()).digest())
    for library in LIBRARIES:
        try:
            digest.update(f"{library}={version(library)}".encode())
        except PackageNotFoundError:
            digest.update(f"{library}=?".encode())
    return digest.hexdigest()


def load_paths(file: str, key: str) -> list[DeclaredPath] | None:
    """The declared paths saved under `key` (None: none saved, or for other code/settings)."""
    try:
        with open(file, encoding="utf-8") as f:
            saved = json.load(f)
        if saved.get("key") != key:
            return None
        return [DeclaredPath(p, tuple(m), bool(x)) for p, m, x in saved["paths"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_paths(file: str, key: str, paths: list[DeclaredPath]) -> None:
    from otterwiki_api.atomicfile import atomic_write

    rows = [[p.path, list(p.methods), p.prefix] for p in paths]
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        atomic_write(file, json.dumps({"key": key, "paths": rows}).encode())
    except OSError:
        pass  # not saved: the next start builds the app to read them again
