"""The in-wiki MCP app is built on the first request for one of its paths, not when the wiki
starts: a wiki process that started once before answers without importing FastMCP, the MCP SDK
and Starlette (1.9 s -> 0.6 s to create the app here). Which paths are MCP's is kept under a
fingerprint of the settings and code, so new settings are never served with old paths."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from mcp_helpers import INITIALIZE, MCP_HEADERS, clean_environment

SCRIPT = """
import json, os, sys
from wikibot import localwiki
data = localwiki.prepare(sys.argv[1])
os.environ["OTTERWIKI_SETTINGS"] = data.settings
app = localwiki.create_app(data)
loaded_at_start = "fastmcp" in sys.modules
client = app.test_client()
home = client.get("/api/v1/health").status_code
answer = client.post(sys.argv[2], data=sys.argv[3], headers={**json.loads(sys.argv[4]),
                     "Authorization": "Bearer lazy-token-0123456789"})
print(json.dumps({"loaded_at_start": loaded_at_start, "home": home, "mcp": answer.status_code,
                  "loaded_after": "fastmcp" in sys.modules,
                  "authkit": "fastmcp.server.auth.providers.workos" in sys.modules,
                  "griffe": "griffe" in sys.modules}))
"""


def start(data: Path, mcp_path: str = "/mcp", **env: str) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(data),
            mcp_path,
            json.dumps(INITIALIZE),
            json.dumps(MCP_HEADERS),
        ],
        env={
            **clean_environment(),
            "WIKIBOT_SEARCH_EMBEDDER": "none",
            "WIKIBOT_MCP_TOKEN": "lazy-token-0123456789",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mcp_is_built_on_its_first_request_once_its_paths_are_known(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # tokens only: the WorkOS provider is not imported (~0.3 s of a cold start); nor is griffe,
    # FastMCP's docstring parser (the docstrings are handed over as descriptions: ~45 ms)
    served = {"home": 200, "mcp": 200, "loaded_after": True, "authkit": False, "griffe": False}
    first = start(data)
    assert first == {"loaded_at_start": True, **served}
    again = start(data)
    assert again == {"loaded_at_start": False, **served}
    # other settings, other paths: read again from the app, never served from the old ones
    moved = start(data, "/agents", WIKIBOT_MCP_PATH="/agents")
    assert moved == {"loaded_at_start": True, **served}
    saved = json.loads((data / "repository" / ".git" / "wikibot" / "mcp-paths.json").read_text())
    assert "/agents" in {p for p, _, _ in saved["paths"]}
    assert "/mcp" not in {p for p, _, _ in saved["paths"]}


def test_tools_prompts_and_resources_keep_their_docstrings_as_descriptions() -> None:
    """The descriptions FastMCP would have parsed out of the docstrings (none has an Args
    section), whole: a model reads them to choose and call a tool."""
    from fastmcp import FastMCP
    from otterwiki_mcp.server import build_server

    mcp: FastMCP = build_server(None, None)  # type: ignore[arg-type]
    tools = {t.name: t.description for t in asyncio.run(mcp.list_tools())}
    assert len(tools) == 21 and all(tools.values())
    assert tools["read_note"].startswith("Read a note: its markdown, front matter, links")
    assert tools["read_note"].endswith(
        "`truncated` is then true and `next_offset` says where to read on."
    )
    assert "\n\nKeep the returned `revision`" in tools["read_note"]  # paragraphs kept, dedented
    prompts = {p.name: p.description for p in asyncio.run(mcp.list_prompts())}
    assert prompts["summarise_changes"] == "Summarise what changed in the wiki in a time frame."
    templates = {t.name: t.description for t in asyncio.run(mcp.list_resource_templates())}
    assert templates["matching notes"] == (
        "The notes whose paths match a glob pattern (case-insensitive; * and ? do not cross\n"
        "'/', ** does), e.g. wiki://match/Projects/*/Plan."
    )
