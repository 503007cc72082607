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


# -- the code the paths come from ---------------------------------------------------------------
LIBRARIES = ("fastmcp", "mcp", "starlette")  # what declares routes besides this plugin
ABSENT = "absent"
SKIPPED_DIRS = {"__pycache__", "build"}  # what `pip install` of the folder leaves beside it


def source_digest(folder: str) -> str:
    """A hash of the plugin's modules in `folder` (names and contents, in a fixed order)."""
    digest = hashlib.sha256()
    for base, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(base, name)
            digest.update(os.path.relpath(path, folder).encode() + b"\0")
            with open(path, "rb") as f:
                digest.update(hashlib.sha256(f.read()).digest())
    return digest.hexdigest()


def installed_versions() -> dict[str, str]:
    """The installed versions of `LIBRARIES` ("absent" for one that is not)."""
    found = {}
    for library in LIBRARIES:
        try:
            found[library] = version(library)
        except PackageNotFoundError:
            found[library] = ABSENT
    return found


# -- kept between starts: a wiki process answers without importing the MCP stack ---------------
def fingerprint(settings: Any) -> str:
    """What the declared paths depend on: the settings, this plugin's code and the versions of
    the libraries that add routes of their own."""
    here = os.path.dirname(os.path.abspath(__file__))
    code = [repr(settings), source_digest(here), json.dumps(installed_versions(), sort_keys=True)]
    return hashlib.sha256("\0".join(code).encode()).hexdigest()


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
