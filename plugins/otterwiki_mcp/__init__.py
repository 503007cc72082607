"""wikibot mcp plugin for Otterwiki (placeholder until its issue lands).

Registers itself once with Otterwiki's plugin manager, like every wikibot plugin.
"""

from otterwiki.plugins import hookimpl, plugin_manager

PLUGIN_NAME = "wikibot.otterwiki_mcp"


class _Plugin:
    @hookimpl
    def info(self) -> tuple[str, str, str]:
        return ("wikibot mcp", "not yet available", "wikibot")


plugin = plugin_manager.get_plugin(PLUGIN_NAME)
if plugin is None:
    plugin = _Plugin()
    plugin_manager.register(plugin, name=PLUGIN_NAME)
