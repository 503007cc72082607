"""Benchmark of the wikibot MCP tools (`read_note`, `write_note`, `search_notes`) over real HTTP.

What it does:

1. Generates a wiki of N pages into a fresh git repository with `bench_api.generate_wiki` (the same
   pages, frontmatter, links and Zipf-weighted words as the REST API benchmark).
2. Starts `python -m wikibot serve --direct` (plain Otterwiki, MCP in-process) on it in a
   subprocess on 127.0.0.1 (WIKIBOT_MCP_TOKEN set, WIKIBOT_MCP_AUTH=tokens,
   WIKIBOT_SEARCH_EMBEDDER=none, WIKIBOT_API_KEY an admin key); its page index build happens at
   start-up and is part of "wiki start-up".
3. Set-up (a) "in-process": the wiki's own `/mcp` (the tools call the service layer directly).
   Set-up (b) "over HTTP": the separate MCP app (`otterwiki_mcp.standalone:create_app`, HTTP
   backend to the same wiki's REST API with the admin key), served by uvicorn in a subprocess.
4. For each set-up, one FastMCP client session (`fastmcp.Client`, Streamable HTTP) is opened
   and reused; the connection set-up (MCP initialize) is timed on its own, then the first call
   of each tool (cold) is reported separately and the next `--repeat` calls are timed, each a
   whole `call_tool` round trip: read_note on random pages, write_note replacing a random page
   (content and revision from an untimed read_note just before), search_notes cycling through
   words of several frequencies. For reference, the same pages are also fetched with bare
   http.client requests: GET /api/v1/pages/<page> from the wiki, and tools/call read_note as a
   bare JSON-RPC POST to each /mcp (no MCP client), which splits server from client time.
5. Prints the machine, the results (p50 / p95 / mean in ms) and the target (in-process
   read_note p50 <= 15 ms) with PASS/MISS.

Run it (from the project root):

    .venv/bin/python benchmarks/bench_mcp.py                     # 10,000 pages
    .venv/bin/python benchmarks/bench_mcp.py --pages 500 --repeat 20
    .venv/bin/python benchmarks/bench_mcp.py --keep              # keep the wiki and server logs

Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import http.client
import importlib.metadata
import json
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench_api import (
    API_KEY,
    BenchError,
    Page,
    Result,
    Wiki,
    generate_wiki,
    machine_info,
    progress,
    progress_done,
    progress_update,
    ticker,
)

from wikibot import localwiki

MCP_TOKEN = "wikibot-benchmark-mcp-token-0123456789"
TARGET_READ_MS = 15.0  # in-process read_note, p50
TOOLS = ("read_note", "write_note", "search_notes")
SETUPS = {
    "inprocess": "(a) in-process: wikibot serve --direct's own /mcp, tools call the service layer",
    "http": "(b) over HTTP: separate MCP app (uvicorn subprocess) -> wiki REST API, admin key",
}
# Inherited settings that would change what the servers do.
DROP_ENV = (
    "OTTERWIKI_SETTINGS", "OTTERWIKI_API_KEY", "WIKIBOT_API_KEYS", "WIKIBOT_API_KEYS_FILE",
    "WIKIBOT_INDEX_DIR", "WIKIBOT_MCP_TOKENS", "WIKIBOT_MCP_BASE_URL", "WIKIBOT_MCP_PATH",
    "WIKIBOT_MCP_ENABLED", "WIKIBOT_API_URL",
)  # fmt: skip


# -- servers -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROP_ENV}
    return {**env, "WIKIBOT_SEARCH_EMBEDDER": "none", "WIKIBOT_API_KEY": API_KEY, **extra}


@dataclass
class Server:
    """A server subprocess on 127.0.0.1, its output in a log file."""

    name: str
    cmd: list[str]
    env: dict[str, str]
    log: str
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str | None, timeout: float) -> float:
        """Start and wait until `ready_path` answers (any HTTP status), or with None until the
        port accepts connections (so no request warms the server); returns seconds taken."""
        started = time.perf_counter()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*self.cmd, "--port", str(self.port)], env=self.env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited:\n{self.tail()}")
            try:
                if ready_path is None:
                    socket.create_connection(("127.0.0.1", self.port), timeout=2).close()
                else:
                    with urllib.request.urlopen(self.url + ready_path, timeout=2):
                        pass
                return time.perf_counter() - started
            except urllib.error.HTTPError:
                return time.perf_counter() - started
            except (urllib.error.URLError, OSError):
                time.sleep(0.1)
        raise BenchError(f"{self.name} did not start within {timeout:.0f} s:\n{self.tail()}")

    def tail(self) -> str:
        try:
            return Path(self.log).read_text(encoding="utf-8", errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def rss_mb(self) -> float | None:
        """Resident memory of the server process now."""
        if self.process is None:
            return None
        rss = _status_kib(self.process.pid, "VmRSS")
        return rss / 1024 if rss is not None else None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


def _status_kib(pid: int, name: str) -> int | None:
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


@contextmanager
def running(server: Server, ready_path: str | None, timeout: float, label: str) -> Iterator[float]:
    try:
        with ticker(label):
            seconds = server.start(ready_path, timeout)
        yield seconds
    finally:
        server.stop()


def wiki_server(data_root: str, logs: str) -> Server:
    cmd = [sys.executable, "-m", "wikibot", "serve", "--direct", "--data-dir", data_root]
    env = server_env({"WIKIBOT_MCP_TOKEN": MCP_TOKEN, "WIKIBOT_MCP_AUTH": "tokens"})
    return Server("wikibot serve", cmd, env, os.path.join(logs, "wikibot-serve.log"))


def standalone_server(wiki_url: str, logs: str) -> Server:
    cmd = [
        sys.executable, "-m", "uvicorn", "--factory", "otterwiki_mcp.standalone:create_app",
        "--host", "127.0.0.1", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    env = server_env(
        {
            "WIKIBOT_MCP_TOKEN": MCP_TOKEN,
            "WIKIBOT_MCP_AUTH": "tokens",
            "WIKIBOT_API_URL": wiki_url,
        }
    )
    return Server("MCP app (uvicorn)", cmd, env, os.path.join(logs, "mcp-standalone.log"))


# -- measurements --------------------------------------------------------------------------------
@dataclass
class SetupResult:
    key: str
    url: str
    connect_ms: float
    cold: dict[str, float]
    results: list[Result]


class ToolError(BenchError):
    pass


class McpBench:
    """Times call_tool round trips through one FastMCP client session."""

    def __init__(self, client: Any, wiki: Wiki, repeat: int, seed: int, target: bool) -> None:
        self.client = client
        self.target = target  # whether read_note has the target
        self.wiki = wiki
        self.repeat = repeat
        self.rng = random.Random(seed)
        self.problems: list[str] = []
        self.cold: dict[str, float] = {}

    async def call(self, tool: str, args: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        result = await self.client.call_tool(tool, args, raise_on_error=False)
        elapsed = (time.perf_counter() - started) * 1000
        if result.is_error:
            text = result.content[0].text if result.content else "?"
            raise ToolError(f"{tool}({json.dumps(args)[:200]}) failed: {text}")
        return elapsed, result.structured_content or {}

    def check(self, ok: bool, problem: str) -> None:
        if not ok and len(self.problems) < 50:
            self.problems.append(problem)

    def random_pages(self, n: int) -> list[Page]:
        pages = self.wiki.pages
        return self.rng.sample(pages, n) if n <= len(pages) else self.rng.choices(pages, k=n)

    async def timed(
        self,
        tool: str,
        n: int,
        one: Callable[[int], Awaitable[float]],
        label: str,
    ) -> Result:
        """Call `one(0)` as the cold call, then `one(1..n)` timed; `one` returns milliseconds."""
        self.cold[tool] = await one(0)
        gc.collect()
        samples = []
        for i in range(1, n + 1):
            samples.append(await one(i))
            if i % 10 == 0 or i == n:
                progress_update(f"    {label}: {i}/{n}")
        target = TARGET_READ_MS if tool == "read_note" and self.target else None
        result = Result(label, samples, target)
        progress_done(f"    {label}: p50 {result.p50:.2f} ms")
        return result

    async def read_notes(self) -> Result:
        pages = self.random_pages(self.repeat + 1)

        async def one(i: int) -> float:
            page = pages[i]
            ms, body = await self.call("read_note", {"path": page.path})
            got = body.get("path")
            self.check(got == page.path, f"read_note {page.path}: got {got}")
            self.check(
                (body.get("frontmatter") or {}).get("category") == page.category,
                f"read_note {page.path}: frontmatter mismatch",
            )
            return ms

        result = await self.timed("read_note", self.repeat, one, "read_note (random pages)")
        return result

    async def write_notes(self, tag: str) -> Result:
        pages = self.random_pages(self.repeat + 1)

        async def one(i: int) -> float:
            page = pages[i]
            _, current = await self.call("read_note", {"path": page.path})
            content = current["content"].rstrip("\n") + f"\n\nMCP benchmark edit {tag} {i}.\n"
            args = {"path": page.path, "content": content, "revision": current["revision"]}
            ms, body = await self.call("write_note", args)
            self.check(
                body.get("revision") not in (None, current["revision"]),
                f"write_note {page.path}: revision did not change",
            )
            return ms

        label = "write_note (replace, with revision)"
        return await self.timed("write_note", self.repeat, one, label)

    async def search_notes(self) -> Result:
        queries = [q for _, q in self.wiki.search_words()]

        async def one(i: int) -> float:
            query = queries[i % len(queries)]
            ms, body = await self.call("search_notes", {"query": query})
            self.check(bool(body.get("results") or body.get("total")), f"search {query!r}: empty")
            return ms

        label = f"search_notes ({len(queries)} queries, limit 20)"
        return await self.timed("search_notes", self.repeat, one, label)


async def bench_setup(
    key: str, url: str, wiki: Wiki, repeat: int, seed: int, problems: list[str]
) -> SetupResult:
    from fastmcp import Client

    progress(f"  {SETUPS[key]}")
    client = Client(url, auth=MCP_TOKEN)
    started = time.perf_counter()
    async with client:
        connect_ms = (time.perf_counter() - started) * 1000
        bench = McpBench(client, wiki, repeat, seed, key == "inprocess")
        results = [
            await bench.read_notes(),
            await bench.write_notes(key),
            await bench.search_notes(),
        ]
    problems += [f"{key}: {p}" for p in bench.problems]
    return SetupResult(key, url, connect_ms, bench.cold, results)


def bench_http(
    name: str, base_url: str, requests: list[tuple[str, str, dict[str, str], bytes | None]]
) -> Result:
    """Reference round trips with http.client (reconnecting when the server closes); the first
    request is an untimed warm-up."""
    conn = http.client.HTTPConnection("127.0.0.1", int(base_url.rsplit(":", 1)[1]), timeout=30)
    samples = []
    try:
        for i, (method, path, headers, body) in enumerate(requests):
            started = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            raw = response.read()
            ms = (time.perf_counter() - started) * 1000
            if response.status != 200 or b'"isError":true' in raw:
                raise BenchError(f"{method} {path} -> {response.status}: {raw[:300]!r}")
            if i:
                samples.append(ms)
    finally:
        conn.close()
    return Result(name, samples)


def rest_gets(pages: list[Page]) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json"}
    return [("GET", "/api/v1/pages/" + quote(p.path), headers, None) for p in pages]


def raw_read_notes(pages: list[Page]) -> list[tuple[str, str, dict[str, str], bytes | None]]:
    """tools/call read_note as bare JSON-RPC POSTs (no MCP client, no initialize: the server is
    stateless)."""
    headers = {
        "Authorization": f"Bearer {MCP_TOKEN}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    calls = []
    for i, page in enumerate(pages):
        params = {"name": "read_note", "arguments": {"path": page.path}}
        body = {"jsonrpc": "2.0", "id": i, "method": "tools/call", "params": params}
        calls.append(("POST", "/mcp", headers, json.dumps(body).encode()))
    return calls


# -- report --------------------------------------------------------------------------------------
def versions() -> str:
    names = ("fastmcp", "mcp", "uvicorn", "a2wsgi", "werkzeug", "httpx2")
    found = []
    for name in names:
        try:
            found.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def format_report(
    machine: dict[str, Any],
    setup: dict[str, Any],
    setups: list[SetupResult],
    references: list[Result],
    problems: list[str],
) -> str:
    lines = [
        "wikibot MCP benchmark",
        f"machine    {machine['cpu']}, {machine['cores']} cores, {machine['ram_gib']} GiB RAM",
        f"           {machine['os']}",
        f"load       1/5/15-min load average {machine['load_average']} at start, "
        f"{setup['load_after']} at end",
        f"software   Python {machine['python']}, git {machine['git']}, "
        f"Otterwiki {machine['otterwiki']}",
        f"           {versions()}",
        f"code       wikibot {machine['wikibot_revision']}",
        f"wiki       {setup['pages']} pages in {setup['commits']} commits, "
        f"{setup['bytes'] / 1e6:.1f} MB of markdown, data dir {setup['data_dir']}",
        "server     `python -m wikibot serve --direct` subprocess on 127.0.0.1 (werkzeug, "
        "threaded), WIKIBOT_MCP_AUTH=tokens,",
        "           WIKIBOT_SEARCH_EMBEDDER=none; MCP is stateless Streamable HTTP with JSON "
        "responses",
        "method     one FastMCP client session per set-up (fastmcp.Client, bearer token); each "
        "sample is one",
        "           call_tool round trip over HTTP on 127.0.0.1; the first call of each tool is "
        "reported as cold",
        "",
        "setup                                                  seconds",
        f"  generate + commit + git gc                        {setup['generate_s']:8.2f}",
        f"  wiki start-up (incl. page index build) to health  {setup['wiki_start_s']:8.2f}",
        f"  separate MCP app (uvicorn) start-up                {setup['mcp_start_s']:8.2f}",
        f"  RSS after the run: wiki {setup['wiki_rss_mb']:.0f} MB, MCP app "
        f"{setup['mcp_rss_mb']:.0f} MB, this process "
        f"{setup['max_rss_mb']:.0f} MB (max)",
    ]
    header = (
        f"{'measurement':<42}{'n':>4}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}"
        f"{'cold ms':>9}  {'target p50':<11}result"
    )
    for s in setups:
        lines += ["", SETUPS[s.key], f"  endpoint {s.url}", header]
        lines.append(f"{'  connect (MCP initialize)':<42}{1:>4}{s.connect_ms:>9.2f}")
        for r, tool in zip(s.results, TOOLS, strict=True):
            target = f"<= {r.target_ms:g} ms" if r.target_ms is not None else "-"
            lines.append(
                f"  {r.name[:39]:<40}{len(r.samples):>4}{r.p50:>9.2f}{r.p95:>9.2f}"
                f"{r.mean:>9.2f}{s.cold[tool]:>9.2f}  {target:<11}{r.verdict or '-'}"
            )
    lines += [
        "",
        "references (http.client, no MCP client; where the time goes)",
        header.removesuffix(f"{'cold ms':>9}  {'target p50':<11}result"),
    ]
    for r in references:
        lines.append(
            f"  {r.name[:39]:<40}{len(r.samples):>4}{r.p50:>9.2f}{r.p95:>9.2f}{r.mean:>9.2f}"
        )
    inproc = next((s for s in setups if s.key == "inprocess"), None)
    if inproc is not None:
        read = inproc.results[0]
        lines += [
            "",
            f"target: in-process read_note p50 {read.p50:.2f} ms <= {TARGET_READ_MS:g} ms: "
            f"{read.verdict}",
        ]
    lines.append(
        "checks: all tool answers matched the generated wiki"
        if not problems
        else f"checks: {len(problems)} PROBLEM(S):\n  " + "\n  ".join(problems)
    )
    return "\n".join(lines)


# -- main ----------------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark the wikibot MCP tools (read_note, write_note, search_notes) with "
        "the real MCP client over HTTP on a generated wiki: (a) the wiki's own /mcp, "
        "(b) the separate MCP app over the REST API."
    )
    parser.add_argument("--pages", type=int, default=10_000, help="pages to generate (10000)")
    parser.add_argument(
        "--repeat", type=int, default=50, help="timed calls per tool and set-up (50)"
    )
    parser.add_argument("--commits", type=int, default=5, help="commits to import the pages (5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--start-timeout", type=float, default=900, help="seconds to wait for the wiki (900)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary data folder and server logs"
    )
    args = parser.parse_args(argv)
    if args.pages < 10:
        parser.error("--pages must be at least 10")
    if args.repeat < 1 or args.commits < 1:
        parser.error("--repeat and --commits must be positive")
    return args


def run(args: argparse.Namespace, root: str) -> None:
    machine = machine_info()
    data_root = os.path.join(root, "data")
    data = localwiki.prepare(data_root)
    started = time.perf_counter()
    wiki = generate_wiki(data.repository, args.pages, args.commits, args.seed)
    generate_s = time.perf_counter() - started
    problems: list[str] = []
    wiki_srv = wiki_server(data_root, root)
    with running(wiki_srv, "/api/v1/health", args.start_timeout, "wikibot serve start-up") as w_s:
        rng = random.Random(args.seed + 5)
        ref_pages = rng.sample(wiki.pages, min(args.repeat + 1, len(wiki.pages)))
        bench_http("warm-up", wiki_srv.url, rest_gets(ref_pages[:5]))  # warm the service
        progress("measuring:")
        setups = [
            asyncio.run(
                bench_setup(
                    "inprocess", wiki_srv.url + "/mcp", wiki, args.repeat, args.seed, problems
                )
            )
        ]
        references = [
            bench_http("REST GET page, wiki", wiki_srv.url, rest_gets(ref_pages)),
            bench_http("raw tools/call read_note, (a)", wiki_srv.url, raw_read_notes(ref_pages)),
        ]
        mcp_srv = standalone_server(wiki_srv.url, root)
        # ready = port open, so the first MCP request (connect) builds its server, as in (a)
        with running(mcp_srv, None, 60, "separate MCP app start-up") as m_s:
            setups.append(
                asyncio.run(
                    bench_setup(
                        "http", mcp_srv.url + "/mcp", wiki, args.repeat, args.seed + 1, problems
                    )
                )
            )
            raw = raw_read_notes(ref_pages)
            references.append(bench_http("raw tools/call read_note, (b)", mcp_srv.url, raw))
            mcp_rss = mcp_srv.rss_mb()
        for r in references:
            progress(f"  {r.name}: p50 {r.p50:.2f} ms")
        wiki_rss = wiki_srv.rss_mb()
    setup = {
        "pages": len(wiki.pages),
        "commits": wiki.commits,
        "bytes": sum(Path(data.repository, p.filename).stat().st_size for p in wiki.pages),
        "data_dir": data_root,
        "generate_s": generate_s,
        "wiki_start_s": w_s,
        "mcp_start_s": m_s,
        "wiki_rss_mb": wiki_rss or 0.0,
        "mcp_rss_mb": mcp_rss or 0.0,
        "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load_after": [round(x, 2) for x in os.getloadavg()],
    }
    print(format_report(machine, setup, setups, references, problems))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers and folder go
    root = tempfile.mkdtemp(prefix="wikibot-bench-mcp-")
    try:
        run(args, root)
    finally:
        if args.keep:
            progress(f"kept data folder and server logs in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
