"""The page index's first build on an existing repository, and where its time goes.

Runs the build job's steps (`otterwiki_api.index_build`) one after another in this process, as
`wikibot index` does but without the wiki app, into a temporary file (the repository and its
own index are not touched), and reports the seconds of each part: the history walk, reading the
blobs from git, reading each page (frontmatter, links, words), its plain-text sections, the
full-text inserts, the other tables, and the steps' commits (where FTS5 writes its segments).
The parts are timed by wrapping the build's functions in this process only.

    .venv/bin/python benchmarks/bench_index_build.py REPOSITORY [--batch 250]

e.g. the repository of a data folder `bench_api.py --data-dir DIR` kept (DIR/repository).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench_api import machine_info  # noqa: E402
from parts import timed  # noqa: E402

SECONDS: Counter[str] = Counter()


def main() -> int:
    parser = argparse.ArgumentParser(description="Time the page index's first build by parts.")
    parser.add_argument("repository", help="a git repository of markdown pages")
    parser.add_argument("--batch", type=int, default=250, help="pages per step (250)")
    args = parser.parse_args()
    from otterwiki_api import index_build, index_rows
    from otterwiki_api.gitcli import Git

    timed(index_build, "_walk", "history walk", SECONDS)
    timed(Git, "cat_blobs", "blobs from git", SECONDS)
    timed(index_rows, "parse_page", "page: frontmatter, links, words", SECONDS)
    timed(index_rows, "page_sections", "page: plain-text sections", SECONDS)
    timed(index_rows, "_index_text", "full-text inserts (with sections)", SECONDS)
    timed(index_build, "upsert_page", "page rows (all the above but git)", SECONDS)
    git = Git(args.repository)
    head = git.run("rev-parse", "HEAD").decode().strip()
    rules = index_rows.LinkRules(retain_case=False, wikilink_style="")
    with tempfile.TemporaryDirectory(prefix="wikibot-bench-index-") as folder:
        path = os.path.join(folder, "pages.building.sqlite3")
        started = time.perf_counter()
        index_build.create(path, git, head, rules, "benchmark")
        conn = index_build.open_db(path, durable=False)
        steps, commits, done = 0, 0.0, False
        while not done:
            done, committed = index_build.step(conn, git, rules, args.batch)
            steps, commits = steps + 1, commits + committed
        wall = time.perf_counter() - started
        pages = conn.execute("SELECT count(*) FROM pages").fetchone()[0]
        work = index_build.work_seconds(conn) + commits
        conn.close()
    parts = dict(SECONDS)
    fts = parts.pop("full-text inserts (with sections)") - parts["page: plain-text sections"]
    rows = parts.pop("page rows (all the above but git)")
    other = rows - fts - parts["page: frontmatter, links, words"]
    other -= parts["page: plain-text sections"]
    print("wikibot page index build benchmark")
    for key, value in machine_info().items():
        print(f"{key:<18}{value}")
    print(f"{'repository':<18}{os.path.abspath(args.repository)} at {head[:12]}\n")
    print(f"{pages} pages in {steps} steps of {args.batch}: {work:.1f} s of work (target <= 60 s")
    print(f"at 100,000 pages), {1000 * work / max(pages, 1):.2f} ms a page; {wall:.1f} s in all")
    for label, seconds in [
        *parts.items(),
        ("full-text inserts", fts),
        ("other tables (pages, tags, links)", other),
        ("the steps' commits (FTS5 segments)", commits),
    ]:
        print(f"  {label:<40}{seconds:8.1f} s")
    print(f"load average at the end: {[round(x, 2) for x in os.getloadavg()]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
