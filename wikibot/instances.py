"""Lambda instances as local processes: each function of the local API Gateway gets a pool.

On AWS every concurrent request of a function runs in an instance of its own (a process that
serves one invocation at a time and stays warm for the next), and the instances share the data
folder on EFS. `InstancePool` does the same here: an invocation takes an idle instance, or
starts one while fewer than `most` exist, or waits for one to be free. An instance is a Python
process running `python -m wikibot.instances <module.handler>` with `_HANDLER` set, so
`lambda_init` builds its app while it starts (Lambda's init phase); the wiki's and the MCP
app's instances are different processes, never sharing memory or settings made at run time.

The gateway and an instance speak over the instance's stdin and stdout: one frame per
invocation each way (4-byte length, then JSON). What a handler prints goes to stderr, as it
would go to CloudWatch. An invocation has until the gateway's timeout: one still running then
gets its 503 at once while its instance finishes the work (as a Lambda instance runs until its
own timeout; one still at it a timeout later is killed) and goes back to the pool; a request
that finds no instance free by then gets its 503 without being sent. An instance that dies is
replaced by the next one started.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import IO, Any

log = logging.getLogger(__name__)

_LENGTH = 4  # bytes of a frame's length prefix (big-endian)
_STOP_GRACE = 5.0  # seconds an instance gets to exit after its stdin closes


class InstanceFailed(Exception):
    """The instance died or broke the protocol; the invocation's outcome is unknown."""


class HandlerRaised(Exception):
    """The handler raised; the message is its traceback, as the instance printed it."""


@dataclass
class LambdaContext:
    """The parts of Lambda's context object handlers use."""

    function_name: str
    timeout: float
    memory_limit_in_mb: int = 1024
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:local:000000000000:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.started + self.timeout - time.monotonic()) * 1000))


def own_event_loop() -> None:
    """A new asyncio event loop for this thread: a handler's thread keeps one across
    invocations, as Mangum does on Lambda."""
    asyncio.set_event_loop(asyncio.new_event_loop())


def write_frame(out: IO[bytes], message: Any) -> None:
    data = json.dumps(message).encode("utf-8")
    out.write(len(data).to_bytes(_LENGTH, "big") + data)
    out.flush()


def read_frame(source: IO[bytes]) -> Any | None:
    """The next message, None at the end of the stream."""
    head = _read_exactly(source, _LENGTH)
    if not head:
        return None
    size = int.from_bytes(head, "big") if len(head) == _LENGTH else -1
    data = _read_exactly(source, size) if size >= 0 else b""
    if size < 0 or len(data) != size:
        raise InstanceFailed("the stream ended inside a frame")
    return json.loads(data)


def _read_exactly(source: IO[bytes], size: int) -> bytes:
    """`size` bytes, fewer only at the end of the stream (a pipe returns what it has)."""
    chunks = []
    while size > 0:
        chunk = source.read(size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


class Instance:
    """One instance process of a function. Only the thread that gave it an invocation (or the
    pool, while it is idle) reads its answers and stops it."""

    def __init__(self, name: str, handler: str, env: dict[str, str]) -> None:
        self.name = name
        self.process = subprocess.Popen(
            # -P: never code from the current folder, whatever `wikibot serve` was started in
            [sys.executable, "-P", "-m", "wikibot.instances", handler, name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,  # unbuffered: `select` on the pipe then tells the truth
            env={**os.environ, **env, "_HANDLER": handler},
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self._in = self.process.stdin
        self._out = self.process.stdout
        self.pid = self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, event: dict[str, Any], deadline: float) -> None:
        """Hand over an invocation that must end by `deadline` (`time.monotonic()`, one clock
        for every process of the machine)."""
        try:
            write_frame(self._in, {"event": event, "deadline": deadline})
        except (BrokenPipeError, ValueError) as e:  # ValueError: the pipe is already closed
            raise InstanceFailed(f"{self.name} instance {self.pid} is gone") from e

    def wait(self, seconds: float | None) -> bool:
        """Whether the answer is there to read within `seconds` (None: however long)."""
        ready, _, _ = select.select(
            [self._out], [], [], None if seconds is None else max(0, seconds)
        )
        return bool(ready)

    def receive(self) -> Any:
        """The handler's answer; HandlerRaised when it raised, InstanceFailed when the
        instance died (its exit code in the message)."""
        reply = read_frame(self._out)
        if reply is None:
            code = self.process.wait()
            raise InstanceFailed(f"{self.name} instance {self.pid} exited with code {code}")
        if "error" in reply:
            raise HandlerRaised(reply["error"])
        return reply["result"]

    def end_input(self) -> None:
        """Close its stdin: it exits after the invocation in hand."""
        try:
            self._in.close()
        except OSError:
            pass

    def stop(self, by: float) -> None:
        """End it (killed if it still runs at `by`, a `time.monotonic()`) and close its pipes."""
        self.end_input()
        try:
            self.process.wait(max(0.0, by - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._out.close()


class InstancePool:
    """A function's instances: started on demand up to `most`, each serving one invocation
    at a time, idle ones kept warm (the most recently used is taken first)."""

    def __init__(
        self, name: str, handler: str, env: dict[str, str], most: int, timeout: float
    ) -> None:
        if most < 1:
            raise ValueError("a function needs at least one instance")
        self.name = name
        self.handler = handler
        self.env = env
        self.most = most
        self.timeout = timeout
        self._idle: list[Instance] = []
        self._all: set[Instance] = set()
        self._starting = 0
        self._closed = False
        self._changed = threading.Condition()

    def invoke(self, event: dict[str, Any]) -> Any:
        """The handler's answer within `timeout`, or TimeoutError: when no instance was free in
        time (the event is not sent), or when the handler is still at work (its instance
        finishes and comes back, or is killed `timeout` later, as Lambda ends a function at
        its own timeout). HandlerRaised or InstanceFailed otherwise."""
        deadline = time.monotonic() + self.timeout
        for attempt in range(2):  # an instance found dead on sending never had the event
            instance = self._take(deadline)
            try:
                instance.send(event, deadline)
                break
            except InstanceFailed:
                self._discard(instance)
                if attempt:
                    raise
        if not instance.wait(deadline - time.monotonic()):
            threading.Thread(
                target=self._finish_late,
                args=(instance, deadline + self.timeout),
                name=f"lambda-{self.name}-late",
            ).start()
            raise TimeoutError(f"{self.name} took longer than {self.timeout:g} s")
        return self._answer(instance)

    def instances(self) -> list[int]:
        """The process ids of the instances there are now (tests, status)."""
        with self._changed:
            return sorted(i.pid for i in self._all)

    def close(self) -> None:
        """Stop the idle instances at once and the busy ones after their invocation (their
        threads stop them); waits a few seconds, then kills."""
        with self._changed:
            self._closed = True
            idle, busy = list(self._idle), [i for i in self._all if i not in self._idle]
            self._idle.clear()
            self._changed.notify_all()
        for instance in idle + busy:
            instance.end_input()
        by = time.monotonic() + _STOP_GRACE
        for instance in idle:
            instance.stop(by)

    def _take(self, deadline: float) -> Instance:
        with self._changed:
            while True:
                if self._closed:
                    raise InstanceFailed(f"{self.name}: the gateway is closing")
                while self._idle:
                    instance = self._idle.pop()
                    if instance.alive():
                        return instance
                    self._all.discard(instance)  # died while idle: its slot is free again
                    instance.stop(time.monotonic())
                if len(self._all) + self._starting < self.most:
                    self._starting += 1
                    break
                if not self._changed.wait(deadline - time.monotonic()):
                    raise TimeoutError(f"no {self.name} instance was free in time")
        try:
            instance = Instance(self.name, self.handler, self.env)
        finally:
            with self._changed:
                self._starting -= 1
                self._changed.notify_all()
        with self._changed:
            self._all.add(instance)
            count = len(self._all)
        log.info("%s: instance %d started (%d of %d)", self.name, instance.pid, count, self.most)
        return instance

    def _answer(self, instance: Instance) -> Any:
        try:
            answer = instance.receive()
        except HandlerRaised:
            self._release(instance)
            raise
        except (InstanceFailed, OSError, ValueError):
            self._discard(instance)
            raise
        self._release(instance)
        return answer

    def _finish_late(self, instance: Instance, by: float) -> None:
        """Wait for an invocation the gateway gave up on (its answer goes nowhere); one still
        running at `by` is killed with its instance."""
        if not instance.wait(by - time.monotonic()):
            log.error("%s: instance %d killed at the function's timeout", self.name, instance.pid)
            instance.process.kill()
        try:
            self._answer(instance)
        except Exception as e:  # the invocation's outcome was already answered (503)
            log.info("%s: a late invocation ended with %s", self.name, type(e).__name__)

    def _release(self, instance: Instance) -> None:
        with self._changed:
            if instance in self._all and not self._closed:
                self._idle.append(instance)
                self._changed.notify()
                return
            self._all.discard(instance)
        instance.stop(time.monotonic() + _STOP_GRACE)

    def _discard(self, instance: Instance) -> None:
        with self._changed:
            self._all.discard(instance)
            self._changed.notify()
        log.error("%s: instance %d ended; the next one is started anew", self.name, instance.pid)
        instance.stop(time.monotonic() + _STOP_GRACE)


def serve(handler: str, name: str) -> None:
    """An instance's life: import the handler (the init phase), then one invocation per frame
    on stdin, each answer a frame on what was stdout; prints go to stderr."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C stops the gateway, which stops us
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    own_event_loop()
    module, _, attribute = handler.rpartition(".")
    function = getattr(importlib.import_module(module), attribute)
    requests = sys.stdin.buffer
    while True:
        message = read_frame(requests)
        if message is None:
            return
        context = LambdaContext(name, message["deadline"] - time.monotonic())
        try:
            reply = {"result": function(message["event"], context)}
        except Exception:
            reply = {"error": traceback.format_exc()}
        try:
            write_frame(answers, reply)
        except (TypeError, ValueError) as e:  # an answer JSON cannot carry
            write_frame(answers, {"error": f"the handler's answer is not JSON: {e}"})


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
