"""The `wikibot` command."""

from __future__ import annotations

import argparse
import contextlib
import errno
import ipaddress
import json
import os
import secrets
import shutil
import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Callable
from typing import Any

from wikibot import __version__

Serving = tuple[Any, str, Callable[[str], str]]
"""A bound server (`port`, `serve_forever`, `server_close`), what it runs, and its mode's banner
lines for a base URL."""


def _serve(args: argparse.Namespace) -> int:
    from wikibot import localwiki

    if args.direct and args.instances is not None:
        sys.exit("wikibot serve: --instances is for the gateway; --direct runs one server")
    args.instances = args.instances or DEFAULT_INSTANCES
    if shutil.which("git") is None:
        sys.exit(
            "wikibot serve: git is not installed (or not on PATH); the wiki keeps its pages in it"
        )
    _port_free_or_exit(args.host, args.port)
    try:
        data = localwiki.prepare(args.data_dir)
    except OSError as e:
        sys.exit(
            f"wikibot serve: cannot write the data folder {args.data_dir} ({e.strerror}); "
            "choose another with --data-dir"
        )
    key, generated = localwiki.api_key(data)
    access = os.environ.setdefault("WIKIBOT_ACCESS", "open" if _loopback(args.host) else "private")
    server, how, lines = (_direct if args.direct else _gateway)(args, data, key)
    base = f"http://{args.host}:{server.port}"
    print(_banner(base, how, key, generated, data, lines(base) + _access_line(access)), flush=True)
    from wikibot.gateway import local_url

    here = local_url(args.host, server.port)
    threading.Thread(target=_first_request, args=(here,), daemon=True).start()
    # SIGTERM ends the server like Ctrl-C: its temporary files go (atexit) either way
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _gateway(args: argparse.Namespace, data: Any, key: str) -> Serving:
    """Both Lambda handlers (`lambda_init`) behind the local API Gateway, on the route plan."""
    from otterwiki_mcp.settings import McpSettings

    from wikibot import gateway, local_s3, routeplan

    server = gateway.GatewayServer(args.host, args.port)  # bound first: --port 0 works
    os.environ.update(
        gateway.lambda_environment(data, key, gateway.local_url(args.host, server.port))
    )
    s3 = local_s3.start()  # answers over Lambda's 6 MB go out through it, as on AWS
    try:
        plan = routeplan.configured_plan()
        server.gateway = gateway.Gateway(plan, gateway.lambda_functions(args.instances))
    except ImportError as e:  # an install without the lambda or mcp extra
        server.server_close()
        sys.exit(f"wikibot serve: {e}\n`wikibot serve --direct` runs without the Lambda handlers")

    def lines(base: str) -> str:
        routes = f"  gateway   {gateway.routes_summary(plan)} (see: wikibot routes)\n"
        large = (
            f"  S3        {s3.url} (moto: answers over Lambda's 6 MB, as deployed)\n"
            if s3
            else "  S3        none: answers over 6 MB fail (pip install 'wikibot[local]')\n"
        )
        pools = f"  instances up to {args.instances} per function, started on demand\n"
        return _mcp_settings_line(McpSettings.from_config({}), base) + routes + pools + large

    return server, "both Lambda handlers behind a local API Gateway, as deployed", lines


def _direct(args: argparse.Namespace, data: Any, key: str) -> Serving:
    """Plain Otterwiki with every plugin in one threaded WSGI server, MCP in-process."""
    from werkzeug.serving import make_server

    from wikibot import localwiki

    os.environ["WIKIBOT_API_KEY"] = key
    os.environ.setdefault("WIKIBOT_MCP_STATE_PATH", data.mcp_state)
    app = localwiki.create_app(data)
    server = make_server(args.host, args.port, app, threaded=True)
    return server, "plain Otterwiki, every plugin in one server", lambda b: _mcp_line(app, b)


def _first_request(base: str) -> None:
    """Ask the wiki once, at start: the gateway builds the wiki app (else the first visitor
    waits for it) and semantic search starts loading its model and catching up in the
    background (WIKIBOT_SEARCH_WARM_UP)."""
    with contextlib.suppress(OSError):
        urllib.request.urlopen(f"{base}/api/v1/health", timeout=60).close()


DEFAULT_INSTANCES = 2
MOST_INSTANCES = 32


def _instance_count(text: str) -> int:
    """--instances: a whole number from 1 to MOST_INSTANCES (each wiki instance is a whole
    Otterwiki process, 150 MB or more)."""
    try:
        count = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= count <= MOST_INSTANCES:
        raise argparse.ArgumentTypeError(f"from 1 to {MOST_INSTANCES}, got {count}")
    return count


def _port_free_or_exit(host: str, port: int) -> None:
    """A clear message instead of a traceback when the port is taken (before any work)."""
    if port == 0:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as e:
            if e.errno != errno.EADDRINUSE:
                raise
            sys.exit(
                f"wikibot serve: port {port} on {host} is already in use (another wikibot?); "
                "choose another with --port, or --port 0 for any free one"
            )


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _access_line(access: str) -> str:
    """What the web UI lets people do: Otterwiki's open defaults only on loopback."""
    meaning = {
        "open": "anyone who reaches it reads, edits and uploads; the first account is admin",
        "public": "anyone reads; approved accounts edit",
        "private": "approved accounts only; WIKIBOT_OWNER_EMAIL registers as admin",
    }
    return f"  access    {access}: {meaning.get(access, '')} (WIKIBOT_ACCESS)\n"


def _banner(base: str, how: str, key: str, generated: bool, data: Any, lines: str) -> str:
    return (
        f"\nwikibot {__version__} is starting: {how}\n"
        f"  wiki      {base}/\n"
        f"  REST API  {base}/api/v1/  (reference: {base}/api/v1/docs)\n"
        f"  API key   {key}{'  (new, saved in ' + data.api_key_file + ')' if generated else ''}\n"
        f"{lines}"
        f"  data      {data.root}\n"
        f"  try       curl -H 'Authorization: Bearer {key}' {base}/api/v1/pages\n"
    )


def _mcp_line(app: Any, base: str) -> str:
    """Where MCP clients connect, and how they log in (empty when the MCP plugin is off)."""
    if "wikibot_mcp" not in app.extensions:
        return ""
    from otterwiki_mcp.settings import McpSettings

    return _mcp_settings_line(McpSettings.from_config(app.config), base)


def _mcp_settings_line(settings: Any, base: str) -> str:
    login = {"local": "OAuth: approve with the API key", "authkit": "OAuth: WorkOS AuthKit"}
    how = [login[settings.auth]] if settings.auth in login else []
    how += ["Bearer $WIKIBOT_MCP_TOKEN"] if os.environ.get("WIKIBOT_MCP_TOKEN") else []
    return f"  MCP       {base}{settings.path}  ({'; or '.join(how) or 'static tokens'})\n"


def _open_app(args: argparse.Namespace) -> Any:
    """The wiki's app as `wikibot serve` configures it: OTTERWIKI_SETTINGS when set (an existing
    Otterwiki), else the data folder with its own key and settings."""
    from wikibot import localwiki

    if os.environ.get("OTTERWIKI_SETTINGS") and args.data_dir is None:
        from otterwiki.server import app  # an existing Otterwiki, configured by its settings file

        return app
    data = localwiki.prepare(args.data_dir or "wikibot-data")
    key = localwiki.saved_api_key(data)
    if key:  # the folder's own key, as `wikibot serve` uses it (the plugins check for one)
        os.environ["WIKIBOT_API_KEY"] = key
    return localwiki.create_app(data)


def _reindex(args: argparse.Namespace) -> int:
    from wikibot import reindex

    return reindex.run(_open_app(args).extensions["wikibot_search"], full=args.full)


def _index(args: argparse.Namespace) -> int:
    from wikibot import pageindex_cli

    os.environ.setdefault("WIKIBOT_INDEX_BACKGROUND", "false")  # this command is the builder
    return pageindex_cli.run_index(_open_app(args).extensions["wikibot_api"].service.index)


def _status(args: argparse.Namespace) -> int:
    from wikibot import localwiki, pageindex_cli

    settings = os.environ.get("OTTERWIKI_SETTINGS")
    if args.data_dir is not None or not settings:
        settings = localwiki.DataDir(os.path.abspath(args.data_dir or "wikibot-data")).settings
    return pageindex_cli.run_status(settings)


def _keygen(args: argparse.Namespace) -> int:
    from otterwiki_api.auth import hash_key

    key = secrets.token_urlsafe(32)
    entry = {"name": args.name, "sha256": hash_key(key), "scope": args.scope}
    if args.author_name:
        entry["author_name"] = args.author_name
    if args.author_email:
        entry["author_email"] = args.author_email
    print(f"key (give this to the client; it is not stored anywhere): {key}")
    print("entry for WIKIBOT_API_KEYS_FILE / WIKIBOT_API_KEYS:")
    print(json.dumps(entry, indent=2))
    return 0


def _routes(args: argparse.Namespace) -> int:
    from wikibot import routeplan

    print(routeplan.format_table(routeplan.configured_plan()))
    return 0


def _build_lambda(args: argparse.Namespace) -> int:
    from wikibot import lambda_build

    output = args.output_dir or os.path.join(lambda_build.project_root(), "build")
    try:
        layers_mb = args.layers_mb
        if args.git_layer and "wiki" in (args.function or ("wiki",)):
            from wikibot.git_layer import LayerError, build_git_layer

            try:
                built = build_git_layer(
                    os.path.join(output, "lambda-git-layer.zip"),
                    args.architecture,
                    log=lambda line: print(line, flush=True),
                )
            except LayerError as e:
                raise lambda_build.BuildError(f"git layer: {e} (or pass --no-git-layer)") from e
            layers_mb += built.size / lambda_build.MB
        lambda_build.build(
            output,
            functions=args.function or ("wiki", "mcp"),
            python_version=args.python_version,
            layers_mb=layers_mb,
            allow_s3=args.allow_s3,
            bundle_sdk=args.bundle_boto3,
            bytecode=args.bytecode,
            architecture=args.architecture,
            mcp_auth=args.mcp_auth,
            log=lambda line: print(line, flush=True),
        )
    except lambda_build.BuildError as e:
        print(f"wikibot build-lambda: {e}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wikibot",
        description="Otterwiki with a REST API, an MCP server and semantic search.",
    )
    parser.add_argument("--version", action="version", version=f"wikibot {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run a local wiki with every plugin, as deployed",
        description="The wiki, the REST API and MCP on one local port: both Lambda handlers of "
        "lambda_init.py behind a local API Gateway (HTTP API, payload format 2.0) that picks the "
        "function by the deploy's route plan; --direct runs plain Otterwiki instead.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (8080)")
    serve.add_argument(
        "--data-dir",
        default=os.environ.get("WIKIBOT_DATA_DIR", "wikibot-data"),
        help="folder for the repository, settings and database (./wikibot-data)",
    )
    serve.add_argument(
        "--direct",
        action="store_true",
        help="plain Otterwiki with every plugin in one WSGI server and MCP in-process at /mcp "
        "(how a self-hoster's Otterwiki runs the plugins)",
    )
    serve.add_argument(
        "--instances",
        type=_instance_count,
        metavar="N",
        help="most instances (processes) of each Lambda function, started as concurrent "
        f"requests need them and kept warm, as Lambda scales ({DEFAULT_INSTANCES}; not with "
        "--direct)",
    )
    serve.set_defaults(func=_serve)

    def on_a_wiki(
        name: str, func: Callable[[argparse.Namespace], int], help: str, what: str
    ) -> Any:
        """A command on one wiki: OTTERWIKI_SETTINGS when set, else a data folder."""
        command = commands.add_parser(
            name,
            help=help,
            description=f"{what} Uses OTTERWIKI_SETTINGS when set, else the data folder.",
        )
        command.add_argument("--data-dir", help="wikibot serve's data folder (./wikibot-data)")
        command.set_defaults(func=func)
        return command

    reindex = on_a_wiki(
        "reindex",
        _reindex,
        "bring the semantic search index up to date (with a progress bar)",
        "Embed every page that changed since the index was built (all of them the first time).",
    )
    reindex.add_argument("--full", action="store_true", help="re-embed every page")
    on_a_wiki(
        "index",
        _index,
        "build the page index ahead of time (with a progress bar)",
        "Build the page index (metadata, full text, links) to the repository's HEAD, so no "
        "request waits for it; the wiki also builds it in bounded steps on its own.",
    )
    on_a_wiki(
        "status",
        _status,
        "the page index's and the vector store's state (builds nothing)",
        "Whether each index is built, the HEAD it is at against the repository's, its pages "
        "and any build in progress.",
    )

    keygen = commands.add_parser("keygen", help="make an API key and its keys-file entry")
    keygen.add_argument("--name", default="client", help="a label for the key")
    keygen.add_argument("--scope", choices=["read", "write", "admin"], default="write")
    keygen.add_argument("--author-name", help="git author for this key's commits")
    keygen.add_argument("--author-email", help="git author email for this key's commits")
    keygen.set_defaults(func=_keygen)

    routes = commands.add_parser(
        "routes",
        help="print the API Gateway route plan (wiki or MCP function per route)",
        description="The routes the deploy creates, built from the paths the MCP app serves "
        "under this environment's WIKIBOT_MCP_* settings.",
    )
    routes.set_defaults(func=_routes)

    lam = commands.add_parser(
        "build-lambda",
        help="build the Lambda packages (build/lambda-wiki.zip, build/lambda-mcp.zip)",
        description="Install each function's dependencies (read from pyproject.toml's extras) "
        "from manylinux wheels (x86_64 or arm64) for the Lambda runtime's Python into a zip with "
        "lambda_init.py and the plugin packages at the top: the wiki's without FAISS (numpy "
        "ranks the vectors) and boto3 (the runtime has it), the MCP app's without Otterwiki. "
        "Tests, type stubs and scripts are stripped; when pythonX.Y is here the dependencies "
        "ship as byte code only; and build/lambda-git-layer.zip, the wiki function's git "
        "(Debian 12's git package and the libraries it needs). Prints the sizes and checks "
        "Lambda's limits, the layer counted.",
    )
    lam.add_argument("--output-dir", help="where the zips go (build/ in the repository)")
    lam.add_argument(
        "--function",
        action="append",
        choices=["wiki", "mcp"],
        help="build only this package (repeatable; both by default)",
    )
    lam.add_argument("--python-version", default="3.12", help="the Lambda runtime's Python (3.12)")
    lam.add_argument(
        "--architecture",
        choices=["x86_64", "arm64"],
        default="x86_64",
        help="the functions' architecture, as the stack's wikibot:architecture (x86_64): "
        "the wheels pip installs and the git layer's packages",
    )
    lam.add_argument(
        "--layers-mb",
        type=float,
        default=0,
        help="unzipped size of other layers of the function, counted toward the 250 MB limit "
        "beside the git layer (0)",
    )
    lam.add_argument(
        "--no-git-layer",
        dest="git_layer",
        action="store_false",
        help="do not build the git layer (the stack then needs gitLayerArn)",
    )

    lam.add_argument(
        "--mcp-auth",
        choices=("local", "authkit", "tokens", "wiki"),
        default="local",
        help="the stack's mcpAuth (local): with wiki the wiki function is the authorization "
        "server and its package carries the MCP libraries too",
    )
    lam.add_argument(
        "--allow-s3",
        action="store_true",
        help="accept a zip over 50 MB (it must then be deployed through S3)",
    )
    lam.add_argument(
        "--bundle-boto3",
        action="store_true",
        help="ship boto3 in the wiki package instead of using the runtime's (~25 MB more)",
    )
    lam.add_argument(
        "--bytecode",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="compile byte code for the runtime's Python when pythonX.Y is found here, the "
        "dependencies without their sources (on); --no-bytecode ships sources, and every cold "
        "start then compiles what it imports (seconds)",
    )
    lam.set_defaults(func=_build_lambda)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
