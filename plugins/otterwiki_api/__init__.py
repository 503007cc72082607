"""wikibot REST API plugin for Otterwiki: JSON endpoints under /api/v1 over one service layer.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, whether
it is imported explicitly (as on Lambda, where entry points are stripped), found through the
`otterwiki` entry point, or both. The entry point names this module, which has no hooks itself.
"""

from otterwiki.plugins import plugin_manager

from .plugin import ApiPlugin

PLUGIN_NAME = "wikibot.otterwiki_api"

plugin = plugin_manager.get_plugin(PLUGIN_NAME)
if plugin is None:
    plugin = ApiPlugin()
    plugin_manager.register(plugin, name=PLUGIN_NAME)

__all__ = ["plugin", "PLUGIN_NAME"]
