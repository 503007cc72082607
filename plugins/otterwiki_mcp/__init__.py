"""wikibot MCP plugin for Otterwiki: tools and resources for Claude and other agents, served at
/mcp by the wiki itself (in-process backend) or by a separate app (`standalone.create_app`, HTTP
backend), with local OAuth, WorkOS AuthKit or static bearer tokens.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, however
it is loaded (explicit import, the `otterwiki` entry point, or both).
"""

from otterwiki.plugins import plugin_manager

from .plugin import McpPlugin

PLUGIN_NAME = "wikibot.otterwiki_mcp"

plugin = plugin_manager.get_plugin(PLUGIN_NAME)
if plugin is None:
    plugin = McpPlugin()
    plugin_manager.register(plugin, name=PLUGIN_NAME)

__all__ = ["plugin", "PLUGIN_NAME"]
