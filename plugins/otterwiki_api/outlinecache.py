"""Otterwiki's cache of page outlines (the `cache` table of its database) written safely by
several processes.

Otterwiki stores an outline by looking the key up and inserting it when absent. Two worker
processes that render the page list at once (every editor and page index does, after a write
has made outlines stale) both find nothing, and the later insert fails on the table's unique
key: the request answers 500 (seen with uWSGI's two workers while the REST API wrote). Here the
write that lost that race is done again, and finds the row to update.
"""

from __future__ import annotations

from typing import Any

import otterwiki.helper as helper
from sqlalchemy.exc import IntegrityError


def install(db: Any) -> None:
    """Wrap Otterwiki's `update_ftoc_cache` (idempotent)."""
    original = helper.update_ftoc_cache
    if getattr(original, "__wikibot__", False):
        return

    def update_ftoc_cache(filename: str, ftoc: Any, mtime: Any = None) -> None:
        try:
            original(filename, ftoc, mtime)
        except IntegrityError as e:  # another process inserted the key since the look-up
            if "cache" not in str(e.statement).lower():
                raise  # some other pending write's: not this race, not to be retried here
            db.session.rollback()
            original(filename, ftoc, mtime)

    update_ftoc_cache.__wikibot__ = True  # type: ignore[attr-defined]
    helper.update_ftoc_cache = update_ftoc_cache
