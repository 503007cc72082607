"""RFC 6749 5.2 status codes and challenges for the token and revocation endpoints.

The MCP SDK and FastMCP answer every failure there with 401: a bad, used or expired code or
refresh token too (which RFC 6749 answers 400 `invalid_grant`: the grant is wrong, not the
client's credentials), /revoke's failed client authentication as `unauthorized_client`, and no
401 with the `WWW-Authenticate` header the RFC requires. This wrapper fixes the answer on the way
out, so the SDK's handlers stay as they are.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

Message = dict[str, Any]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def _rewrite(start: Message, body: bytes, realm: str) -> tuple[Message, bytes]:
    """The corrected start message and body of a 401 error answer."""
    try:
        error = json.loads(body)
    except ValueError:
        return start, body
    if not isinstance(error, dict):
        return start, body
    if error.get("error") == "invalid_grant":
        return {**start, "status": 400}, body
    error["error"] = "invalid_client"  # /revoke said unauthorized_client
    body = json.dumps(error).encode()
    replaced = (b"content-length", b"cache-control")
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in replaced]
    headers += [
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
        (b"www-authenticate", f'Basic realm="{realm}", charset="UTF-8"'.encode()),
    ]
    return {**start, "headers": headers}, body


class ClientErrors:
    """An endpoint whose 401 answers are made RFC 6749's: `invalid_grant` becomes 400, a failed
    client authentication `invalid_client` with a `WWW-Authenticate: Basic` challenge (the one
    HTTP scheme a client can authenticate with here, client_secret_basic)."""

    def __init__(self, app: ASGIApp, realm: str) -> None:
        self.app = app
        self.realm = realm.replace('"', "")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        start: Message = {}
        held: list[bytes] = []

        async def relay(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                if message["status"] != 401:
                    await send(message)
                return
            if start.get("status") != 401:
                await send(message)
                return
            held.append(message.get("body", b""))
            if message.get("more_body"):
                return
            fixed, body = _rewrite(start, b"".join(held), self.realm)
            await send(fixed)
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, relay)
