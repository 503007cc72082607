"""`wikibot index` (build the page index ahead of time, with a progress bar) and `wikibot
status` (the page index's and the vector store's state, read without building anything)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any, TextIO

from wikibot.reindex import progress_line


def run_index(index: Any, out: TextIO = sys.stderr) -> int:
    """Drive the page index's build (`PageIndex.build_to_end`) to the end, drawing the bar."""
    started = time.monotonic()
    last: dict[str, Any] = {}

    def report(progress: Any) -> None:
        last.update(done=progress.indexed, total=progress.total, reason=progress.phase)
        out.write(progress_line(last, started))
        out.flush()

    seconds = index.build_to_end(report)
    state = index.state()
    if last:  # the bar ends at the index's own count
        pages = state["pages"]
        out.write(progress_line({"done": pages, "total": pages, "reason": "done"}, started))
        out.write("\n")
    work = f" after {seconds:.1f} s of build work" if seconds else ""
    print(f"page index complete: {state['pages']} pages at {state['index_head']}{work}", file=out)
    return 0


def config_of(settings_file: str) -> dict[str, Any]:
    """An Otterwiki settings file's values (it is Python, as Otterwiki reads it)."""
    from flask import Config

    config = Config(os.path.dirname(settings_file))
    config.from_pyfile(settings_file)
    return dict(config)


def run_status(settings_file: str, out: TextIO = sys.stdout) -> int:
    """Print both indexes' state for the wiki an Otterwiki settings file describes."""
    from otterwiki_api.config_values import setting
    from otterwiki_api.gitcli import Git
    from otterwiki_api.page_index import LinkRules, PageIndex

    if not os.path.isfile(settings_file):
        print(f"no wiki here: {settings_file} does not exist", file=out)
        return 1
    config = config_of(settings_file)
    repository = os.path.abspath(str(config.get("REPOSITORY") or ""))
    index_dir = setting(config, "WIKIBOT_INDEX_DIR", os.path.join(repository, ".git", "wikibot"))
    unused = LinkRules(retain_case=False, wikilink_style="")  # state() reads what files record
    state = PageIndex(Git(repository), index_dir, lambda: unused).state()
    print(f"repository   {repository} at {state['repository_head'] or '(no commits)'}", file=out)
    print(f"page index   {state['status']}: {state['pages']} pages", file=out, end="")
    print(f" at {state['index_head']}" if state["index_head"] else "", file=out)
    if state["built_for"]:
        print(f"             built for {_settings(state['built_for'])}", file=out)
    building = state.get("building")
    if building:
        print(
            f"             building: {building['indexed']}/{building['total']} pages "
            f"({building['phase']}; {building['reason']}), at {building['head']}, "
            f"{building['work_seconds']} s of work so far",
            file=out,
        )
    _vector_status(config, repository, out)
    return 0


def _settings(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in values.items())


def _vector_status(config: dict[str, Any], repository: str, out: TextIO) -> None:
    """The vector store's `/reindex/status` fields (the model is not loaded for this)."""
    from otterwiki_search.plugin import build_runtime

    runtime = build_runtime(config, repository)
    if runtime.sync is None:
        print(f"vector store unavailable: {runtime.unavailable_reason}", file=out)
        return
    status = runtime.sync.status()
    print(
        f"vector store {status['status']}: {status['pages']} pages, {status['chunks']} chunks"
        f" at {status['index_head']}",
        file=out,
    )
    if status.get("status") == "in_progress":
        print(f"             building: {status['done']}/{status['total']} pages", file=out)
    identity = status.get("embedder") or {}
    print(f"             embedder {_settings(identity)}; engine {status.get('engine')}", file=out)
