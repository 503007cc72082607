"""Agent tasks through the real MCP client: tool calls and bytes per task, with the tools an agent
had before the edit and overview tools (read_note, write_note, edit_note, get_links,
get_recent_changes) and with them (update_note, build_context, recent_activity, read_notes).

What it does: starts `wikibot serve --direct` on a new wiki (a log page of 300 dated entries, a
plan linking to 8 project notes that each link back, 40 other notes, sections to fix), then runs
each task both ways with the FastMCP client over HTTP, counting the calls, the bytes the agent
sends (tool arguments as JSON) and the bytes it gets back (tool results as JSON, what lands in a
model's context). Each "before" strategy is what the older tools allow at best; each task's result
is checked in the wiki, so both ways do the same work.

Run it (from the project root):

    .venv/bin/python benchmarks/bench_agent.py
    .venv/bin/python benchmarks/bench_agent.py --json agent.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import requests

TOKEN = "bench-agent-token-0123456789abcdef"
KEY = "bench-agent-admin-key-0123456789"
PROJECTS = [f"Projects/Part {i}" for i in range(1, 9)]


@dataclass
class Tally:
    """What one way of doing a task cost."""

    calls: int = 0
    sent: int = 0
    received: int = 0
    tools: list[str] = field(default_factory=list)


class Agent:
    """The MCP client, counting every tool call."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.tally = Tally()

    async def call(self, name: str, **args: Any) -> Any:
        result = await self.client.call_tool(name, args, raise_on_error=False)
        data = result.structured_content
        if data is None:
            data = {"text": "".join(getattr(c, "text", "") for c in result.content)}
        self.tally.calls += 1
        self.tally.sent += len(json.dumps(args, ensure_ascii=False).encode())
        self.tally.received += len(json.dumps(data, ensure_ascii=False).encode())
        self.tally.tools.append(name)
        if result.is_error:
            raise RuntimeError(f"{name}: {data}")
        return data


# -- the wiki ------------------------------------------------------------------------------------
def log_page() -> str:
    entries = "".join(
        f"- 2026-{1 + i // 28:02}-{1 + i % 28:02}: entry {i}, all fine\n" for i in range(300)
    )
    return f"# Log\n\nWhat happened, one line a day.\n\n{entries}"


def plan_page() -> str:
    links = "".join(f"- [[{p}]]: part {i + 1} of the plan\n" for i, p in enumerate(PROJECTS))
    return f"---\ncategory: plan\n---\n# Plan\n\nThe plan in eight parts.\n\n{links}"


def project_page(i: int) -> str:
    body = " ".join(f"Detail {j} of part {i}." for j in range(60))
    return f"---\ncategory: project\n---\n# Part {i}\n\nPart {i} of [[Projects/Plan]].\n\n{body}\n"


def handbook_page() -> str:
    sections = "".join(
        f"## Section {i}\n\n" + " ".join(f"Text {j} of section {i}." for j in range(40)) + "\n\n"
        for i in range(1, 9)
    )
    return f"# Handbook\n\n{sections}"


def seed(url: str) -> None:
    pages = {"Log": log_page(), "Projects/Plan": plan_page(), "Handbook": handbook_page()}
    pages.update({p: project_page(i + 1) for i, p in enumerate(PROJECTS)})
    pages.update({f"Other/Note {i}": f"# Note {i}\n\nUnrelated note {i}.\n" for i in range(40)})
    for path, content in pages.items():
        r = requests.put(
            f"{url}/api/v1/pages/{path}",
            json={"content": content},
            headers={"Authorization": f"Bearer {KEY}"},
            timeout=30,
        )
        r.raise_for_status()


# -- the tasks, each two ways ----------------------------------------------------------------------
async def append_before(agent: Agent) -> None:
    page = await agent.call("read_note", path="Log")
    last = page["content"].rstrip("\n").rsplit("\n", 1)[-1]
    await agent.call(
        "edit_note",
        path="Log",
        old_string=last + "\n",
        new_string=last + "\n- 2026-12-01: appended, before\n",
        revision=page["revision"],
    )


async def append_after(agent: Agent) -> None:
    await agent.call(
        "update_note", path="Log", operation="append", content="- 2026-12-01: appended, after"
    )


async def gather_before(agent: Agent) -> None:
    await agent.call("read_note", path="Projects/Plan")
    links = await agent.call("get_links", path="Projects/Plan")
    for path in sorted(set(links["links_to"]) | set(links["linked_from"])):
        await agent.call("read_note", path=path)


async def gather_after(agent: Agent) -> None:
    context = await agent.call("build_context", path="Projects/Plan")
    assert len(context["notes"]) == 1 + len(PROJECTS) and not context["truncated"], context


async def changes_before(agent: Agent) -> None:
    await agent.call("get_recent_changes", limit=100)


async def changes_after(agent: Agent) -> None:
    await agent.call("recent_activity", since="1d", limit=100)


async def section_before(agent: Agent) -> None:
    page = await agent.call("read_note", path="Handbook")
    content = page["content"]
    start = content.index("## Section 3")
    end = content.index("## Section 4")
    await agent.call(
        "edit_note",
        path="Handbook",
        old_string=content[start:end],
        new_string="## Section 3\n\nRewritten, before.\n\n",
        revision=page["revision"],
    )


async def section_after(agent: Agent) -> None:
    page = await agent.call("read_note", path="Handbook", section="Section 5")
    await agent.call(
        "update_note",
        path="Handbook",
        operation="replace_section",
        heading="Section 5",
        content="Rewritten, after.",
        revision=page["revision"],
    )


TASKS: list[tuple[str, Callable[[Agent], Awaitable[None]], Callable[[Agent], Awaitable[None]]]] = [
    ("append a dated entry to a 300-line log", append_before, append_after),
    ("gather a note and everything linked to it", gather_before, gather_after),
    ("what changed since yesterday (~55 commits)", changes_before, changes_after),
    ("rewrite one section of an 8-section page", section_before, section_after),
]


async def run_tasks(url: str) -> list[dict[str, Any]]:
    from fastmcp import Client

    rows = []
    for name, before, after in TASKS:
        tallies = {}
        for label, task in (("before", before), ("after", after)):
            async with Client(f"{url}/mcp", auth=TOKEN) as client:
                agent = Agent(client)
                await task(agent)
                tallies[label] = agent.tally
        rows.append({"task": name, **{k: vars(v) for k, v in tallies.items()}})
    return rows


def check(url: str) -> None:
    """Both ways did their work."""
    get = lambda path: requests.get(  # noqa: E731
        f"{url}/api/v1/pages/{path}", headers={"Authorization": f"Bearer {KEY}"}, timeout=30
    ).json()["content"]
    log, handbook = get("Log"), get("Handbook")
    assert log.endswith("- 2026-12-01: appended, before\n- 2026-12-01: appended, after\n"), log[
        -200:
    ]
    assert "## Section 3\n\nRewritten, before.\n\n## Section 4" in handbook
    assert "## Section 5\nRewritten, after.\n\n## Section 6" in handbook


# -- running -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(data: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIKIBOT_", "OTTERWIKI_"))} | {
        "WIKIBOT_API_KEY": KEY,
        "WIKIBOT_MCP_TOKEN": TOKEN,
        "WIKIBOT_SEARCH_EMBEDDER": "none",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wikibot",
            "serve",
            "--direct",
            "--port",
            str(port),
            "--data-dir",
            data,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        time.sleep(0.3)
    process.kill()
    raise SystemExit("wikibot serve did not come up within 60 s")


def report(rows: list[dict[str, Any]]) -> str:
    lines = [
        "wikibot agent-task benchmark (MCP tool calls through the FastMCP client over HTTP)",
        f"machine    {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"Python {platform.python_version()}",
        "",
        f"{'task':<44}{'calls before/after':>20}{'bytes sent':>18}{'bytes received':>22}",
    ]
    for row in rows:
        b, a = row["before"], row["after"]
        lines.append(
            f"{row['task']:<44}{b['calls']:>12} / {a['calls']:<5}"
            f"{b['sent']:>9,} / {a['sent']:<7,}{b['received']:>10,} / {a['received']:<9,}"
        )
    lines.append("")
    for row in rows:
        lines.append(
            f"{row['task']}: before {', '.join(row['before']['tools'])}; "
            f"after {', '.join(row['after']['tools'])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args(argv)
    data = tempfile.mkdtemp(prefix="wikibot-bench-agent-")
    process, url = serve(data)
    try:
        print("seeding the wiki ...", file=sys.stderr)
        seed(url)
        print("running the tasks ...", file=sys.stderr)
        rows = asyncio.run(run_tasks(url))
        check(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    print(report(rows))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
