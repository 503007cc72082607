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
    read, reason = 0, ""
    while status["status"] == "in_progress":
        read, reason = status.get("total") or read, status.get("reason", reason)
        out.write(progress_line(status, started))
        out.flush()
        status = runtime.sync.step(2.0)
    if read:  # the finished job's status has no totals: end the bar at its own
        out.write(progress_line({"done": read, "total": read, "reason": reason}, started))
    print(
        f"\nindex complete: {status['pages']} pages with text, {status['chunks']} chunks at "
        f"{status['index_head']}; this run read {read} changed page(s) "
        f"in {time.monotonic() - started:.1f} s",
        file=out,
    )
    return 0
