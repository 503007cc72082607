"""wikibot semantic search plugin for Otterwiki: markdown-aware chunks, Bedrock or local
embeddings, and a FAISS index on disk that follows git history.

Importing the package registers the plugin with Otterwiki's plugin manager exactly once, however
it is loaded (explicit import, the `otterwiki` entry point, or both).
"""

from otterwiki.plugins import plugin_manager

from .plugin import SearchPlugin

PLUGIN_NAME = "wikibot.otterwiki_search"

plugin = plugin_manager.get_plugin(PLUGIN_NAME)
if plugin is None:
    plugin = SearchPlugin()
    plugin_manager.register(plugin, name=PLUGIN_NAME)

__all__ = ["plugin", "PLUGIN_NAME"]
