"""Helpers for the semantic search tests: a service-level setup on its own repository and a local
HTTP server that speaks Bedrock's InvokeModel wire format."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np


def init_repo(path: Any) -> str:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(path)], check=True)
    return str(path)


def fake_vector(text: str, dimension: int) -> list[float]:
    """A deterministic pseudo-embedding (what the fake Bedrock returns)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    vector = np.random.default_rng(seed).standard_normal(dimension)
    return (vector / np.linalg.norm(vector)).tolist()


class FakeBedrock:
    """InvokeModel on 127.0.0.1: `POST /model/<model id>/invoke` with Titan's JSON body.

    Records every request body, counts requests in flight (to check the client's concurrency
    bound), answers 429 ThrottlingException to the first `throttle` calls for a text, and 400
    ValidationException for the text "INVALID".
    """

    def __init__(self, throttle: int = 0, delay: float = 0.02) -> None:
        self.throttle = throttle
        self.delay = delay
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.throttled = 0
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _reply(
                self, status: int, payload: dict[str, Any], error: str | None = None
            ) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if error:
                    self.send_header("x-amzn-ErrorType", f"{error}:http://internal.amazon.com/")
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with fake._lock:
                    fake.requests.append(body)
                    fake.paths.append(self.path)
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    seen = fake._seen.get(body["inputText"], 0)
                    fake._seen[body["inputText"]] = seen + 1
                try:
                    time.sleep(fake.delay)
                    if body["inputText"] == "INVALID":
                        self._reply(
                            400, {"message": "Malformed input request"}, "ValidationException"
                        )
                    elif seen < fake.throttle:
                        with fake._lock:
                            fake.throttled += 1
                        self._reply(429, {"message": "Too many requests"}, "ThrottlingException")
                    else:
                        vector = fake_vector(body["inputText"], body.get("dimensions", 1024))
                        self._reply(200, {"embedding": vector, "inputTextTokenCount": 3})
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeBedrock:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
