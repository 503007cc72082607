"""Registering a plugin with Otterwiki's plugin manager exactly once, however its package is
loaded (explicit import, as on Lambda where entry points are stripped; the `otterwiki` entry
point; or both)."""

from __future__ import annotations

import importlib


def register(name: str, factory: str) -> object | None:
    """The plugin registered under `name`, made the first time by calling `factory`
    ("module:attribute", imported only then, since plugin modules import Otterwiki).

    None when Otterwiki is not installed: the MCP Lambda package serves the separate MCP app,
    which uses this project's errors, settings and locks but no wiki, and leaves Otterwiki out."""
    try:
        from otterwiki.plugins import plugin_manager
    except ModuleNotFoundError as e:
        if e.name != "otterwiki":
            raise
        return None
    plugin = plugin_manager.get_plugin(name)
    if plugin is None:
        module, attribute = factory.split(":")
        plugin = getattr(importlib.import_module(module), attribute)()
        plugin_manager.register(plugin, name=name)
    return plugin
