"""wikibot semantic search plugin for Otterwiki: markdown-aware chunks, Bedrock or local
embeddings, and a FAISS index on disk that follows git history.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, however
it is loaded (explicit import, the `otterwiki` entry point, or both).
"""

from otterwiki_api.registration import register

PLUGIN_NAME = "wikibot.otterwiki_search"
plugin = register(PLUGIN_NAME, f"{__name__}.plugin:SearchPlugin")

__all__ = ["plugin", "PLUGIN_NAME"]
