"""Otterwiki's page-outline cache when two processes fill the same entry at once.

Seen with the official image's two uWSGI workers while the REST API wrote: both workers render
the page list for an editor, both look an outline's key up, find nothing and insert it; the
later insert fails on the cache table's unique key and the editor answers 500. Here the other
process's insert is made, through its own SQLite connection, exactly between this process's
look-up and its insert (SQLAlchemy's before_flush), so the race happens every time."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime
from typing import Any

from sqlalchemy import event


def test_an_outline_another_process_cached_first_is_updated_not_an_error(app: Any) -> None:
    import otterwiki.helper as helper  # imports the server: only once the app fixture made it
    from otterwiki.models import Cache
    from otterwiki.server import db
    from otterwiki.util import sha256sum

    filename = "outline-race.md"
    key = sha256sum(f"ftoc://{filename}")
    database = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    outline = [[0, "Race", 1, "Race", "race"]]

    def other_process(*_: Any) -> None:
        with closing(sqlite3.connect(database)) as other, other:
            other.execute(
                "INSERT INTO cache (key, value, datetime) VALUES (?, ?, ?)",
                (key, json.dumps({"filename": filename, "ftoc": []}), "2026-01-01 00:00:00"),
            )

    with app.test_request_context():
        assert Cache.query.filter(Cache.key == key).first() is None
        event.listen(db.session(), "before_flush", other_process, once=True)
        helper.update_ftoc_cache(filename, outline, datetime(2026, 11, 30))
        db.session.expire_all()
        row = Cache.query.filter(Cache.key == key).one()
        assert json.loads(row.value) == {"filename": filename, "ftoc": outline}
