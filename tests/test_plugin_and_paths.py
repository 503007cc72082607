"""Registration with Otterwiki's plugin manager, and path rules identical to Otterwiki's own."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def test_each_plugin_registered_once_however_loaded(app):
    import otterwiki_api
    import otterwiki_mcp
    import otterwiki_search
    from otterwiki.plugins import plugin_manager

    for module in (otterwiki_api, otterwiki_mcp, otterwiki_search):
        assert plugin_manager.get_plugin(module.PLUGIN_NAME) is module.plugin
    setups = [
        impl
        for impl in plugin_manager.hook.setup.get_hookimpls()
        if impl.plugin is otterwiki_api.plugin
    ]
    assert len(setups) == 1
    # entry points are registered too (they name the modules, which carry no hooks themselves)
    names = {name for name, _ in plugin_manager.list_name_plugin()}
    assert {"otterwiki_api", "otterwiki_mcp", "otterwiki_search"} <= names


@pytest.mark.parametrize("order", ["explicit-first", "entry-points-only"])
def test_registration_in_a_fresh_process(order):
    script = {
        "explicit-first": "import otterwiki_api\nfrom otterwiki.plugins import plugin_manager\n",
        "entry-points-only": "from otterwiki.plugins import plugin_manager\nimport otterwiki_api\n",
    }[order] + (
        "impls = [i for i in plugin_manager.hook.setup.get_hookimpls()"
        " if i.plugin is otterwiki_api.plugin]\n"
        "print(len(impls))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_startup_leaves_the_heavy_search_libraries_for_later(tmp_path):
    """A cold start (on Lambda, each new instance) serves its first page without importing what
    only semantic search needs: numpy, FAISS, torch, boto3 load at the first search or sync."""
    script = (
        "import sys\n"
        "from wikibot import localwiki\n"
        f"app = localwiki.create_app(localwiki.prepare({str(tmp_path / 'data')!r}))\n"
        "assert app.extensions['wikibot_search'].unavailable_reason is None\n"
        "assert app.test_client().get('/Home').status_code == 200\n"
        "print(sorted(m for m in ('numpy', 'faiss', 'torch', 'boto3') if m in sys.modules))\n"
    )
    env = {**os.environ, "WIKIBOT_SEARCH_EMBEDDER": "local"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


PATHS = [
    "Home",
    "Test-Page",
    "folder/Sub Page",
    "Ünïcode Päge",
    "snake_case_name",
    "a/b/c/Deep",
    "MiXeD/CaSe",
    "straße",
    "it's",
    "Trailing/",
    "x.md",
]


@pytest.mark.parametrize("retain", [False, True])
def test_paths_match_otterwiki_helpers(app, retain):
    from otterwiki.helper import get_filename, get_pagename
    from otterwiki_api.pagepaths import display_path, filename_for, validate_page_path

    saved = app.config["RETAIN_PAGE_NAME_CASE"]
    app.config["RETAIN_PAGE_NAME_CASE"] = retain
    try:
        with app.test_request_context("/"):
            for path in PATHS:
                canonical = validate_page_path(path)
                assert filename_for(canonical, retain) == get_filename(canonical), path
                filename = get_filename(canonical)
                assert display_path(filename, retain) == get_pagename(filename, full=True), path
    finally:
        app.config["RETAIN_PAGE_NAME_CASE"] = saved
