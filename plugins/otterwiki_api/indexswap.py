"""Putting a staged index file in place without freeing the old one on the write's time.

Renaming the new index over the old frees the old file's blocks inside the rename: about 10 ms
for git's 11 MB index at 100,000 pages, a sixth of a PUT. So the old index first gets a second
name in wikibot's state folder, the rename only drops a name, and a thread of this process
removes the old file while the write goes on (moving the branch, answering). A file left by a
process that died before its thread ran is removed by a later write once it is a minute old (by
its ctime, which the link set: the index's mtime is kept from before, see commits.py).
"""

from __future__ import annotations

import itertools
import os
import threading
import time

PREFIX = "retired-index."  # not "index.": the commit path clears those as staged leftovers
LEFTOVER_AFTER = 60.0  # seconds

_names = itertools.count()


def replace_index(staged: str, index: str, folder: str) -> None:
    """Rename `staged` over `index`, the old file's removal left to a background thread."""
    _clear_leftovers(folder)
    retired = os.path.join(folder, f"{PREFIX}{os.getpid()}.{next(_names)}")
    try:
        os.link(index, retired)
    except OSError:  # no index yet, or no hard links here: the rename frees it, as before
        retired = ""
    os.replace(staged, index)
    if retired:
        threading.Thread(target=_remove, args=(retired,), name="wikibot-index-retire").start()


def _clear_leftovers(folder: str) -> None:
    try:
        found = [e for e in os.scandir(folder) if e.name.startswith(PREFIX)]
    except FileNotFoundError:
        return
    for entry in found:
        try:
            if entry.stat().st_ctime < time.time() - LEFTOVER_AFTER:
                _remove(entry.path)
        except FileNotFoundError:
            pass


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except FileNotFoundError:
        pass
