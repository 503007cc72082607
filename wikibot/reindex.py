"""`wikibot reindex`: run the semantic index's bounded steps to the end, with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def progress_line(status: dict[str, Any], started: float) -> str:
    total = status.get("total") or 0
    done = status.get("done") or 0
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-9)
    return (
        f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} pages"
        f"  {rate:.1f} pages/s  {status.get('reason', '')}"
    )


def run(runtime: Any, full: bool, out: TextIO = sys.stderr) -> int:
    """Drive `runtime.sync` until the index is complete; 0 on success, 1 if unavailable."""
    if runtime.sync is None:
        print(f"semantic search is unavailable: {runtime.unavailable_reason}", file=out)
        return 1
    started = time.monotonic()
    status = runtime.sync.step(0, full=full)
    while status["status"] == "in_progress":
        out.write(progress_line(status, started))
        out.flush()
        status = runtime.sync.step(2.0)
    if status.get("total"):
        out.write(progress_line({**status, "done": status["total"]}, started))
    print(
        f"\nindex complete: {status['pages']} pages, {status['chunks']} chunks at "
        f"{status['index_head']} ({time.monotonic() - started:.1f} s)",
        file=out,
    )
    return 0
