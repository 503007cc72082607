"""wikibot semantic search plugin for Otterwiki: markdown-aware chunks, Bedrock or local
embeddings, and a FAISS index on disk that follows git history.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, however
it is loaded (explicit import, the `otterwiki` entry point, or both).
"""

import logging

PLUGIN_NAME = "wikibot.otterwiki_search"
try:
    from otterwiki_api.registration import register
except ModuleNotFoundError as missing:  # installed on its own: the wiki still starts
    if missing.name != "otterwiki_api":
        raise
    logging.getLogger(__name__).error(
        "wikibot semantic search is off: it needs the wikibot REST API plugin; install it too "
        "(pip install -U plugins/otterwiki_api, or put that folder beside this one in /plugins)"
    )
    plugin = None
else:
    plugin = register(PLUGIN_NAME, f"{__name__}.plugin:SearchPlugin")

__all__ = ["plugin", "PLUGIN_NAME"]
