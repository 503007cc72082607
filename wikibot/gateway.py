"""A local stand-in for the deployed API Gateway (HTTP API, payload format 2.0).

Each HTTP request becomes the event API Gateway would send, the route plan (`wikibot.routeplan`,
built from the MCP app's declared paths, as the deploy's routes are) picks the function, the
handler is called with a minimal Lambda context, and its answer becomes the HTTP response. So
`lambda_init.handler` (the wiki) and `lambda_init.mcp_handler` (the MCP app) run locally exactly
as they are called on AWS, including base64 bodies, cookies and route keys.

What follows API Gateway's documented and observed behaviour:
- `rawPath` and `requestContext.http.path` are URL-decoded (HTTP APIs decode the path, unlike REST
  APIs and function URLs); `rawQueryString` is as sent; `queryStringParameters` and `headers`
  join duplicates with commas; header names are lower case; `Cookie` headers become `cookies`.
- A request body is text only for `text/*`, `application/json`, `application/xml` and
  `application/javascript`; every other body (also form posts and bodies without a type) is
  base64 with `isBase64Encoded: true`.
- A response without `statusCode` is a 200 JSON body; `cookies` become `Set-Cookie` lines; a
  handler that raises gives 500, one that takes longer than the integration timeout (30 s) 503.
- Each function is a pool of instances (`instances.py`): processes of their own, each serving one
  request at a time with one asyncio event loop (Mangum keeps its loop across invocations),
  started on demand up to `wikibot serve --instances N` and kept warm; concurrent requests run
  in parallel and the instances share the data folder, as on Lambda with EFS.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from wikibot.instances import (
    HandlerRaised,
    InstanceFailed,
    InstancePool,
    LambdaContext,
    own_event_loop,
)
from wikibot.routeplan import DEFAULT_KEY, Route, Target, select

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]
INTEGRATION_TIMEOUT = 30.0
"""Seconds API Gateway waits for a Lambda integration (the HTTP API maximum)."""
MAX_PAYLOAD = 6 * 1024 * 1024
"""Lambda's synchronous invocation limit, for the event and for the answer."""
TEXT_TYPES = ("application/json", "application/xml", "application/javascript")
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "upgrade"}


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Function:
    """A function served in this process: `handler` called on one thread, one invocation at a
    time (tests; `wikibot serve` runs each function's instances as processes: instances.py)."""

    def __init__(self, name: str, handler: Handler, timeout: float = INTEGRATION_TIMEOUT):
        self.name = name
        self.handler = handler
        self.timeout = timeout
        self._worker = ThreadPoolExecutor(1, f"lambda-{name}", initializer=own_event_loop)

    def invoke(self, event: dict[str, Any]) -> Any:
        """The handler's answer; TimeoutError after `timeout` seconds (the instance keeps
        working, as a Lambda does until its own timeout); the handler's exception otherwise."""
        context = LambdaContext(self.name, self.timeout)
        future = self._worker.submit(self.handler, event, context)
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            raise TimeoutError(f"{self.name} took longer than {self.timeout:g} s") from None

    def close(self) -> None:
        self._worker.shutdown(wait=False, cancel_futures=True)


def _is_text(content_type: str | None) -> bool:
    mime = (content_type or "").split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in TEXT_TYPES


def _join(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    joined: dict[str, str] = {}
    for key, value in pairs:
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    return joined


def path_parameters(route: Route, path: str) -> dict[str, str] | None:
    """The values of the route's `{name}` and `{name+}` variables in `path`."""
    if route.path is None or "{" not in route.path:
        return None
    template, actual = route.path[1:].split("/"), path[1:].split("/")
    params = {}
    for i, part in enumerate(template):
        if part.endswith("+}"):
            params[part[1:-2]] = "/".join(actual[i:])
        elif part.startswith("{"):
            params[part[1:-1]] = actual[i]
    return params


def build_event(
    route: Route,
    method: str,
    target: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    port: int | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The payload-format-2.0 event API Gateway sends for this request to `route`'s function.
    `target` is the request target as sent (path and query); `port` is the gateway's."""
    raw_path, _, raw_query = target.partition("?")
    path = unquote(raw_path)
    pairs = [(k.lower(), v) for k, v in headers]
    cookies = [
        c.strip() for k, v in pairs if k == "cookie" for c in v.split(";") if c.strip() != ""
    ]
    pairs = [(k, v) for k, v in pairs if k != "cookie" and k not in HOP_BY_HOP]
    pairs = [(k, v) for k, v in pairs if k not in ("transfer-encoding", "content-length")]
    if body:
        pairs.append(("content-length", str(len(body))))
    request_id = request_id or str(uuid.uuid4())
    pairs += [
        ("x-forwarded-for", source_ip),
        ("x-forwarded-proto", "http"),
        ("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{request_id.replace('-', '')[:24]}"),
    ]
    if port is not None:
        pairs.append(("x-forwarded-port", str(port)))
    header_map = _join(pairs)
    host = header_map.get("host", "localhost").rsplit(":", 1)[0]
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": header_map,
        "requestContext": {
            "accountId": "anonymous",
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".", 1)[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": header_map.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = parse_qsl(raw_query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = _join(query)
    params = path_parameters(route, path)
    if params:
        event["pathParameters"] = params
    if body:
        if _is_text(header_map.get("content-type")):
            try:
                event["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                pass
        if "body" not in event:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _message(status: int, message: str) -> Response:
    body = json.dumps({"message": message}).encode()
    return Response(status, [("Content-Type", "application/json")], body)


def translate_result(result: Any) -> Response:
    """The HTTP response API Gateway makes of a function's answer (payload format 2.0)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode()
        return Response(200, [("Content-Type", "application/json")], body)
    status = int(result["statusCode"])
    headers: list[tuple[str, str]] = []
    for key, value in (result.get("headers") or {}).items():
        headers.append((key, str(value)))
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(key, str(v)) for v in values]
    headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or ()]
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        data = base64.b64decode(body, validate=True)
    else:
        data = body.encode("utf-8") if isinstance(body, str) else json.dumps(body).encode()
    return Response(status, headers, data)


class Gateway:
    """The route plan and one function per target; `dispatch` answers one request."""

    def __init__(
        self,
        plan: Iterable[Route],
        handlers: Mapping[Target, Handler | InstancePool],
        timeout: float = INTEGRATION_TIMEOUT,
    ) -> None:
        self.plan = list(plan)
        self.functions = {
            t: h if isinstance(h, InstancePool) else Function(t, h, timeout)
            for t, h in handlers.items()
        }

    def route(self, method: str, target: str) -> Route | None:
        return select(self.plan, method, unquote(target.split("?", 1)[0]))

    def dispatch(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]],
        body: bytes = b"",
        source_ip: str = "127.0.0.1",
        port: int | None = None,
    ) -> tuple[Route | None, Response]:
        route = self.route(method, target)
        if route is None or route.target not in self.functions:
            return route, _message(404, "Not Found")
        event = build_event(route, method, target, headers, body, source_ip, port)
        if len(json.dumps(event)) > MAX_PAYLOAD:
            return route, _message(413, "Request Entity Too Large")
        function = self.functions[route.target]
        try:
            result = function.invoke(event)
        except TimeoutError:
            log.error("%s %s: %s timed out", method, target, function.name)
            return route, _message(503, "Service Unavailable")
        except (HandlerRaised, InstanceFailed) as e:  # an instance's traceback, or its end
            log.error("%s %s: %s raised\n%s", method, target, function.name, e)
            return route, _message(500, "Internal Server Error")
        except Exception:
            log.error("%s %s: %s raised\n%s", method, target, function.name, traceback.format_exc())
            return route, _message(500, "Internal Server Error")
        try:
            if len(json.dumps(result)) > MAX_PAYLOAD:
                raise ValueError("the answer exceeds Lambda's 6 MB payload limit")
            return route, translate_result(result)
        except (TypeError, ValueError, binascii.Error) as e:
            log.error("%s %s: %s gave an invalid answer: %s", method, target, function.name, e)
            return route, _message(500, "Internal Server Error")

    def close(self) -> None:
        """Close every function at once: each pool waits a few seconds for its instances."""
        closing = [threading.Thread(target=f.close) for f in self.functions.values()]
        for thread in closing:
            thread.start()
        for thread in closing:
            thread.join()


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: GatewayServer

    def _body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _proxy(self) -> None:
        body = self._body()
        route, response = self.server.gateway.dispatch(
            self.command,
            self.path,
            self.headers.items(),
            body,
            self.client_address[0],
            self.server.server_address[1],
        )
        self.route_key = route.key if route else "-"
        self.target_name = route.target if route else "-"
        self.send_response(response.status)
        skip = HOP_BY_HOP | {"content-length", "transfer-encoding", "date", "server"}
        for key, value in response.headers:
            if key.lower() not in skip:
                self.send_header(key, value)
        length = len(response.body)
        if self.command == "HEAD":
            given = [v for k, v in response.headers if k.lower() == "content-length"]
            length = int(given[0]) if given and given[0].isdigit() else length
        self.send_header("Content-Length", str(length))
        self.send_header("apigw-requestid", uuid.uuid4().hex[:16])
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def __getattr__(self, name: str) -> Any:
        """Every method goes to the route plan, as API Gateway's `$default` and `ANY` routes take
        them all (the function answers 405 for one it does not serve)."""
        if name.startswith("do_"):
            return self._proxy
        raise AttributeError(name)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if self.server.quiet:
            return
        via = getattr(self, "target_name", "-")
        sys.stderr.write(f'{self.address_string()} "{self.requestline}" {code} -> {via}\n')


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, host: str, port: int, gateway: Gateway | None = None, quiet: bool = False
    ) -> None:
        self.gateway = gateway or Gateway([], {})  # answers 404 until a gateway is set
        self.quiet = quiet
        super().__init__((host, port), _RequestHandler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def server_close(self) -> None:
        super().server_close()
        self.gateway.close()


HANDLERS: dict[Target, str] = {"wiki": "lambda_init.handler", "mcp": "lambda_init.mcp_handler"}


def lambda_functions(
    instances: int, timeout: float = INTEGRATION_TIMEOUT
) -> dict[Target, InstancePool]:
    """`lambda_init.handler` and `lambda_init.mcp_handler` by target, each a pool of up to
    `instances` processes (lambda_init is a module of this distribution). Raises ImportError
    when the adapters the handlers wrap their apps in are not installed."""
    missing = [name for name in ("apig_wsgi", "mangum") if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(f"{', '.join(missing)} not installed (pip install 'wikibot[lambda]')")
    return {t: InstancePool(t, h, {}, instances, timeout) for t, h in HANDLERS.items()}


def local_url(host: str, port: int) -> str:
    """How this machine reaches a server listening on `host`:`port`."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def lambda_environment(data: Any, api_key: str, api_url: str) -> dict[str, str]:
    """What the two functions' environments hold in the deploy (docs/deploy.md), for a local
    data folder (`localwiki.DataDir`): the wiki's repository, database and secret, the admin
    key both use, and the MCP app's way back to the REST API through the gateway itself."""
    with open(data.secret_file, encoding="utf-8") as f:
        secret = f.read().strip()
    return {
        "REPOSITORY": data.repository,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data.database}",
        "SECRET_KEY": secret,
        "SITE_NAME": os.environ.get("SITE_NAME") or "wikibot",
        "WIKIBOT_API_KEY": api_key,
        "WIKIBOT_API_URL": api_url,
        "WIKIBOT_MCP_ENABLED": "false",
        "WIKIBOT_MCP_STATE_PATH": os.environ.get("WIKIBOT_MCP_STATE_PATH") or data.mcp_state,
    }


def routes_summary(plan: Iterable[Route]) -> str:
    """One line: how many routes go to each function."""
    plan = list(plan)
    mcp = sum(1 for r in plan if r.target == "mcp")
    default = next((r.target for r in plan if r.key == DEFAULT_KEY), "-")
    return f"{mcp} routes to the MCP function, $default to the {default} function"
