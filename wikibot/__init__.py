"""wikibot: command line and local runner for the Otterwiki plugin bundle."""

__version__ = "0.1.0"
