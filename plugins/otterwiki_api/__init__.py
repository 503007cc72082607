"""wikibot REST API plugin for Otterwiki: JSON endpoints under /api/v1 over one service layer.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, whether
it is imported explicitly (as on Lambda, where entry points are stripped), found through the
`otterwiki` entry point, or both. The entry point names this module, which has no hooks itself.
"""

from otterwiki_api.registration import register

PLUGIN_NAME = "wikibot.otterwiki_api"
plugin = register(PLUGIN_NAME, f"{__name__}.plugin:ApiPlugin")

__all__ = ["plugin", "PLUGIN_NAME"]
