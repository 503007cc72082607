"""Otterwiki hook implementations: serve MCP from the wiki itself when the plugin is installed."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

from flask import Flask
from otterwiki.plugins import hookimpl

from .settings import McpSettings

log = logging.getLogger(__name__)
REQUIRED = ("starlette", "fastmcp", "mcp", "a2wsgi")  # what the in-wiki /mcp runs on


class McpPlugin:
    @hookimpl(trylast=True)
    def setup(self, app: Flask, db: Any, storage: Any) -> None:
        settings = McpSettings.from_config(app.config)  # a bad setting stops the wiki, loudly
        if not settings.enabled and settings.auth != "wiki":
            return  # in wiki mode the wiki is the authorization server even without /mcp
        missing = [n for n in REQUIRED if importlib.util.find_spec(n) is None]
        if missing:  # checked without importing them: the app is built on first use
            log.warning("wikibot MCP is off: %s is missing: pip install 'wikibot[mcp]'", missing[0])
            return
        from .inwiki import install

        app.extensions["wikibot_mcp"] = install(app, settings)

    @hookimpl
    def info(self) -> tuple[str, str, str]:
        return ("wikibot MCP", "an MCP server for Claude and other agents at /mcp", "MCP")
