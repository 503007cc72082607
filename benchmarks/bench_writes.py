"""Writes on an existing wiki, in a fresh process: where a PUT's time goes.

`bench_api.py` measures PUT inside the process that generated the wiki and ran every other
measurement; this script starts from a data folder that exists already (e.g. one `bench_api.py
--data-dir DIR` kept), as a wiki's own process would, and PUTs an appended line to random pages
(one GET for the revision, then the timed PUT through Flask's test client, as bench_api does).
It reports p50/p95 of the PUTs and the median of each part of the write path (the parts are
timed by wrapping the commit path's methods in this process only).

    .venv/bin/python benchmarks/bench_writes.py --data-dir DIR [--writes 30] [--seed 7]

The data folder's wiki is changed: each PUT is a commit, as any write.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_api import Result, machine_info  # noqa: E402
from parts import timed  # noqa: E402

API_KEY = "bench-writes-key-0123456789abcdef"
PARTS: dict[str, float] = {}


def main() -> int:
    parser = argparse.ArgumentParser(description="PUTs on an existing wiki, in a fresh process.")
    parser.add_argument("--data-dir", required=True, help="a wikibot data folder with a wiki")
    parser.add_argument("--writes", type=int, default=30, help="PUTs to time (30)")
    parser.add_argument("--seed", type=int, default=7, help="random seed of the pages (7)")
    args = parser.parse_args()
    os.environ.update(
        WIKIBOT_API_KEY=API_KEY, WIKIBOT_SEARCH_EMBEDDER="none", WIKIBOT_SEARCH_WARM_UP="0"
    )
    from otterwiki_api import basetrees, commits, page_index

    from wikibot import localwiki

    app = localwiki.create_app(localwiki.prepare(args.data_dir))
    timed(basetrees.BaseTrees, "read", "read the base commit's trees", PARTS)
    timed(commits, "build_tree", "write blob and trees", PARTS)
    timed(commits.CommitPath, "_sync", "working tree file + git index patch", PARTS)
    timed(commits.CommitPath, "_install", "index rename", PARTS)
    timed(commits.CommitPath, "_move_branch", "git update-ref (its fsync)", PARTS)
    timed(page_index.PageIndex, "record", "page index update", PARTS)
    client, headers = app.test_client(), {"Authorization": f"Bearer {API_KEY}"}
    total = client.get("/api/v1/pages?limit=1", headers=headers).get_json()["total"]
    rng = random.Random(args.seed)
    samples: list[float] = []
    parts: dict[str, list[float]] = defaultdict(list)
    for i in range(args.writes):
        offset = rng.randrange(total)
        page = client.get(f"/api/v1/pages?limit=1&offset={offset}", headers=headers)
        path = page.get_json()["pages"][0]["path"]
        current = client.get(f"/api/v1/pages/{path}", headers=headers).get_json()
        body = {
            "content": current["content"].rstrip("\n") + f"\n\nBench write {time.time()} {i}.\n",
            "revision": current["revision"],
        }
        PARTS.clear()
        started = time.perf_counter()
        answer = client.put(f"/api/v1/pages/{path}", json=body, headers=headers)
        samples.append((time.perf_counter() - started) * 1000)
        if answer.status_code != 200:
            sys.exit(f"PUT {path}: {answer.status_code} {answer.get_data(as_text=True)[:300]}")
        for label, seconds in PARTS.items():
            parts[label].append(seconds * 1000)
    result = Result(f"PUT page ({args.writes} random pages of {total})", samples, 50.0)
    print("wikibot write benchmark (a fresh process on an existing wiki)")
    for key, value in machine_info().items():
        print(f"{key:<18}{value}")
    print(f"{'data':<18}{os.path.abspath(args.data_dir)}\n")
    print(f"{result.name}: p50 {result.p50:.1f} ms, p95 {result.p95:.1f} ms")
    print(f"  target p50 <= {result.target_ms:g} ms: {result.verdict}")
    print("median of each part (ms):")
    for label, values in parts.items():
        print(f"  {label:<40}{statistics.median(values):7.1f}")
    print(f"load average at the end: {[round(x, 2) for x in os.getloadavg()]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
