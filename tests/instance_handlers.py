"""Handlers for tests/test_gateway_instances.py, run in instance processes
(`python -m wikibot.instances instance_handlers.<name>`)."""

from __future__ import annotations

import os
import sys
import time
from typing import Any

time.sleep(float(os.environ.get("INSTANCE_INIT_SECONDS", "0")))  # the init phase, once


def answer(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Sleeps as asked, prints (which must not reach the gateway's pipe), and says who it is."""
    began = time.time()
    print("a handler's print goes to the log, not to the gateway")
    sys.stdout.flush()
    if event.get("log"):
        with open(event["log"], "a", encoding="utf-8") as f:
            f.write(f"{event.get('echo')}\n")
    time.sleep(event.get("sleep", 0))
    if event.get("raise"):
        raise RuntimeError("the handler failed on purpose")
    if event.get("exit"):
        os._exit(3)
    return {
        "pid": os.getpid(),
        "handler": os.environ.get("_HANDLER"),
        "left_ms": context.get_remaining_time_in_millis(),
        "name": context.function_name,
        "echo": event.get("echo"),
        "began": began,
        "ended": time.time(),
    }
