"""wikibot MCP plugin for Otterwiki: tools and resources for Claude and other agents, served at
/mcp by the wiki itself (in-process backend) or by a separate app (`standalone.create_app`, HTTP
backend), with local OAuth, WorkOS AuthKit or static bearer tokens.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, however
it is loaded (explicit import, the `otterwiki` entry point, or both).
"""

from otterwiki_api.registration import register

PLUGIN_NAME = "wikibot.otterwiki_mcp"
plugin = register(PLUGIN_NAME, f"{__name__}.plugin:McpPlugin")

__all__ = ["plugin", "PLUGIN_NAME"]
