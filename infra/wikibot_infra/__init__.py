"""The wikibot stack, one component per concern; `program.build` wires them (docs/deploy.md)."""
