"""wikibot MCP plugin for Otterwiki: tools and resources for Claude and other agents, served at
/mcp by the wiki itself (in-process backend) or by a separate app (`standalone.create_app`, HTTP
backend), with local OAuth, WorkOS AuthKit or static bearer tokens.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, however
it is loaded (explicit import, the `otterwiki` entry point, or both).
"""

import logging

PLUGIN_NAME = "wikibot.otterwiki_mcp"
try:
    from otterwiki_api.registration import register
except ModuleNotFoundError as missing:  # installed on its own: the wiki still starts
    if missing.name != "otterwiki_api":
        raise
    logging.getLogger(__name__).error(
        "wikibot MCP is off: it needs the wikibot REST API plugin; install it too "
        "(pip install -U plugins/otterwiki_api, or put that folder beside this one in /plugins)"
    )
    plugin = None
else:
    plugin = register(PLUGIN_NAME, f"{__name__}.plugin:McpPlugin")

__all__ = ["plugin", "PLUGIN_NAME"]
