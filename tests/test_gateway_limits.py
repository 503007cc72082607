"""The local gateway's 6 MB limits (wikibot/gateway.py), which make Lambda's limits show up before
a deploy: an event over 6 MiB never reaches the function (API Gateway answers 413 `{"message":
"Request Entity Too Large"}`), an answer over 6 MiB never reaches the client (a 500, as for any
function error), and binary bodies count as the base64 they travel as. A real gateway server on
127.0.0.1 in front of two functions that record what they get and answer what a test sets."""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

LIMIT = 6 * 1024 * 1024
"""Lambda's synchronous invocation payload, for the event and for the answer."""
TOO_LARGE = {"message": "Request Entity Too Large"}
FAILED = {"message": "Internal Server Error"}


@dataclass
class Functions:
    """What the functions received (name, event) and what the next call answers, by name."""

    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    answers: dict[str, Callable[[dict[str, Any]], Any]] = field(default_factory=dict)


@pytest.fixture
def gateway() -> Iterator[tuple[str, Functions]]:
    from wikibot import gateway as gw
    from wikibot import routeplan

    functions = Functions()

    def handler(name: str) -> Callable[[dict[str, Any], Any], Any]:
        def handle(event: dict[str, Any], context: Any) -> Any:
            functions.seen.append((name, event))
            answer = functions.answers.get(name)
            return answer(event) if answer else {"statusCode": 200, "body": "ok"}

        return handle

    plan = routeplan.build_plan([])
    server = gw.GatewayServer(
        "127.0.0.1", 0, gw.Gateway(plan, {"wiki": handler("wiki"), "mcp": handler("mcp")}), True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.port}", functions
    finally:
        server.shutdown()
        server.server_close()


def _size(payload: Any) -> int:
    """A payload's size as JSON (Lambda's measure: the bytes of the invocation)."""
    return len(json.dumps(payload).encode("utf-8"))


def _post(url: str, body: Any, content_type: str) -> requests.Response:
    return requests.post(
        url + "/upload", data=body, headers={"Content-Type": content_type}, timeout=60
    )


def test_a_request_of_6_mib_passes_and_one_byte_more_is_refused(
    gateway: tuple[str, Functions],
) -> None:
    url, functions = gateway
    # the event around a text body: measured on a body of the same number of digits in size
    _post(url, "A" * 5_000_000, "text/plain")
    overhead = _size(functions.seen[-1][1]) - 5_000_000
    fits = LIMIT - overhead

    calls = len(functions.seen)
    accepted = _post(url, "A" * fits, "text/plain")
    assert accepted.status_code == 200 and accepted.text == "ok"
    assert len(functions.seen) == calls + 1
    event = functions.seen[-1][1]
    assert _size(event) == LIMIT and event["body"] == "A" * fits

    refused = _post(url, "A" * (fits + 1), "text/plain")
    assert refused.status_code == 413 and refused.json() == TOO_LARGE
    # a streamed (chunked) upload is measured the same way
    chunks = (b"A" * 1_000_000 for _ in range(7))
    streamed = _post(url, chunks, "text/plain")
    assert streamed.status_code == 413 and streamed.json() == TOO_LARGE
    assert len(functions.seen) == calls + 1, "a refused request reached the function"


def test_binary_request_bodies_count_as_base64(gateway: tuple[str, Functions]) -> None:
    """README: on Lambda a request carries at most 6 MB, so attachments up to about 4 MB: a
    binary body travels base64 (4/3 of its size) in the event."""
    url, functions = gateway
    small, large = os.urandom(4_400_000), os.urandom(4_800_000)  # base64: 5.87 MB, 6.4 MB
    accepted = _post(url, small, "application/octet-stream")
    assert accepted.status_code == 200
    event = functions.seen[-1][1]
    assert event["isBase64Encoded"] is True and base64.b64decode(event["body"]) == small

    calls = len(functions.seen)
    refused = _post(url, large, "application/octet-stream")
    assert refused.status_code == 413 and refused.json() == TOO_LARGE
    assert len(functions.seen) == calls


def _answer(body: str, binary: bool = False) -> dict[str, Any]:
    content_type = "application/octet-stream" if binary else "text/plain"
    return {
        "statusCode": 200,
        "headers": {"content-type": content_type},
        "body": body,
        "isBase64Encoded": binary,
    }


def test_an_answer_of_6_mib_passes_and_one_byte_more_is_a_500(
    gateway: tuple[str, Functions],
) -> None:
    url, functions = gateway
    fits = LIMIT - _size(_answer(""))
    assert _size(_answer("B" * fits)) == LIMIT

    functions.answers["wiki"] = lambda event: _answer("B" * fits)
    delivered = requests.get(url + "/big", timeout=60)
    assert delivered.status_code == 200 and delivered.text == "B" * fits

    functions.answers["wiki"] = lambda event: _answer("B" * (fits + 1))
    failed = requests.get(url + "/bigger", timeout=60)
    assert failed.status_code == 500 and failed.json() == FAILED


def test_binary_answers_count_as_base64(gateway: tuple[str, Functions]) -> None:
    """A file the function answers travels base64 too: about 4.5 MB is the most it can send
    (README: larger answers go through S3)."""
    url, functions = gateway
    small, large = os.urandom(4_400_000), os.urandom(4_800_000)

    functions.answers["wiki"] = lambda event: _answer(base64.b64encode(small).decode(), True)
    delivered = requests.get(url + "/small.bin", timeout=60)
    assert delivered.status_code == 200 and delivered.content == small

    functions.answers["wiki"] = lambda event: _answer(base64.b64encode(large).decode(), True)
    failed = requests.get(url + "/large.bin", timeout=60)
    assert failed.status_code == 500 and failed.json() == FAILED


def test_what_api_gateway_answers_when_a_function_fails_and_what_it_logs(caplog):
    """A route to a function that is not there is a 404, a function error a 500 with its
    traceback logged, a timeout a 503, an answer that is not valid base64 a 500 (not garbled
    bytes): the messages API Gateway gives, and the log says which function and why."""
    import logging
    import time

    from wikibot import gateway as gw
    from wikibot import routeplan

    def fails(event: dict[str, Any], context: Any) -> Any:
        raise RuntimeError("boom in the wiki")

    def slow(event: dict[str, Any], context: Any) -> Any:
        time.sleep(0.5)
        return {"statusCode": 200, "body": "late"}

    def garbled(event: dict[str, Any], context: Any) -> Any:
        return {"statusCode": 200, "isBase64Encoded": True, "body": "aGVs*bG8="}  # hel*lo

    plan = routeplan.build_plan([])  # ANY /mcp to the MCP function, $default to the wiki
    no_mcp = gw.Gateway(plan, {"wiki": fails})
    route, answer = no_mcp.dispatch("POST", "/mcp", [])
    assert route is not None and route.target == "mcp" and answer.status == 404
    assert json.loads(answer.body) == {"message": "Not Found"}
    with caplog.at_level(logging.ERROR, logger="wikibot.gateway"):
        assert no_mcp.dispatch("GET", "/Home", [])[1].status == 500
        assert "GET /Home: wiki raised" in caplog.text and "boom in the wiki" in caplog.text
        caplog.clear()
        late = gw.Gateway(plan, {"wiki": slow}, timeout=0.1)
        assert late.dispatch("GET", "/Home", [])[1].status == 503
        assert "GET /Home: wiki timed out" in caplog.text
        caplog.clear()
        answer = gw.Gateway(plan, {"wiki": garbled}).dispatch("GET", "/Home", [])[1]
        assert answer.status == 500 and json.loads(answer.body) == FAILED
        assert "wiki gave an invalid answer" in caplog.text
