"""The local gateway's functions scale out like Lambda: each is a pool of instance processes
(`wikibot.instances`), each serving one invocation at a time, started on demand up to a limit,
kept warm, replaced when one dies. These drive real processes over their pipes, with the
handlers of tests/instance_handlers.py; the last test runs `wikibot serve` and checks that the
wiki's and the MCP app's instances are processes of their own."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from mcp_helpers import INITIALIZE, MCP_HEADERS, WikiServe, alive

from wikibot.instances import HandlerRaised, InstanceFailed, InstancePool

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENV = {"PYTHONPATH": os.pathsep.join([HERE, ROOT])}
NAP = 1.0  # seconds an invocation sleeps when the test needs them to overlap


@pytest.fixture
def pool(request: pytest.FixtureRequest) -> Iterator[InstancePool]:
    most, timeout = getattr(request, "param", (3, 10.0))
    made = InstancePool("wiki", "instance_handlers.answer", ENV, most, timeout)
    try:
        yield made
    finally:
        made.close()


def together(pool: InstancePool, events: list[dict[str, Any]]) -> tuple[list[Any], float]:
    """The answers of `events` invoked at once, and the seconds all took."""
    started = time.monotonic()
    with ThreadPoolExecutor(len(events)) as workers:
        answers = list(workers.map(pool.invoke, events))
    return answers, time.monotonic() - started


def test_concurrent_invocations_run_in_separate_processes_and_stay_warm(
    pool: InstancePool,
) -> None:
    pool.invoke({})  # one warm instance, so the timing below is not a cold start's
    answers, _ = together(pool, [{"sleep": NAP, "echo": i} for i in range(3)])
    pids = {a["pid"] for a in answers}
    assert len(pids) == 3 and os.getpid() not in pids
    assert [a["echo"] for a in answers] == [0, 1, 2]
    # in parallel: every invocation began before any ended (each sleeps NAP)
    assert max(a["began"] for a in answers) < min(a["ended"] for a in answers)
    assert all(a["handler"] == "instance_handlers.answer" and a["name"] == "wiki" for a in answers)
    assert set(pool.instances()) == pids
    again, _ = together(pool, [{"sleep": NAP / 2} for _ in range(3)])
    assert {a["pid"] for a in again} == pids  # the warm ones, no new process


@pytest.mark.parametrize("pool", [(2, 10.0)], indirect=True)
def test_past_the_limit_an_invocation_waits_for_a_free_instance(pool: InstancePool) -> None:
    together(pool, [{}, {}])  # both instances started
    answers, took = together(pool, [{"sleep": NAP} for _ in range(4)])
    assert len({a["pid"] for a in answers}) == 2 and len(pool.instances()) == 2
    assert took >= 2 * NAP  # two rounds of two


@pytest.mark.parametrize("pool", [(1, 2.0)], indirect=True)
def test_a_late_invocation_answers_timeout_and_its_instance_comes_back(
    pool: InstancePool,
) -> None:
    first = pool.invoke({})
    assert 0 < first["left_ms"] <= 2000
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        pool.invoke({"sleep": 3.0})
    assert time.monotonic() - started < 2.9  # answered at the timeout, not when it ended (3 s)
    time.sleep(2.0)  # the instance finished the late invocation meanwhile
    assert pool.invoke({})["pid"] == first["pid"] and pool.instances() == [first["pid"]]


@pytest.mark.parametrize("pool", [(1, 1.0)], indirect=True)
def test_a_request_finding_no_free_instance_in_time_is_never_sent(
    pool: InstancePool, tmp_path
) -> None:
    log = str(tmp_path / "invocations")
    with ThreadPoolExecutor(2) as workers:
        busy = workers.submit(pool.invoke, {"sleep": 3.0, "echo": "busy", "log": log})
        time.sleep(0.3)  # the one instance has the first
        waiting = workers.submit(pool.invoke, {"echo": "queued", "log": log})
        with pytest.raises(TimeoutError, match="no wiki instance was free"):
            waiting.result(timeout=10)
        with pytest.raises(TimeoutError):
            busy.result(timeout=10)
    time.sleep(3.0)
    with open(log, encoding="utf-8") as f:
        assert f.read().split() == ["busy"]  # the queued request never reached a handler


@pytest.mark.parametrize("pool", [(1, 1.0)], indirect=True)
def test_a_handler_still_running_a_timeout_later_is_killed(pool: InstancePool) -> None:
    pid = pool.invoke({})["pid"]
    with pytest.raises(TimeoutError):
        pool.invoke({"sleep": 60})
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.1)
    assert not alive(pid)  # killed at about two timeouts, not after its 60 s
    assert pool.invoke({})["pid"] != pid


def test_the_init_phase_counts_against_the_first_invocation() -> None:
    slow = InstancePool(
        "wiki", "instance_handlers.answer", {**ENV, "INSTANCE_INIT_SECONDS": "1.5"}, 1, 5.0
    )
    try:
        assert slow.invoke({})["left_ms"] < 4000  # 5 s less the 1.5 s of its init
        assert slow.invoke({})["left_ms"] > 4000  # warm: the whole timeout
    finally:
        slow.close()


def test_an_idle_instance_that_died_frees_its_slot(tmp_path) -> None:
    one = InstancePool("wiki", "instance_handlers.answer", ENV, 1, 10.0)
    try:
        pid = one.invoke({})["pid"]
        os.kill(pid, signal.SIGKILL)  # the OOM killer, say, while it waits for work
        while alive(pid):
            time.sleep(0.05)
        again = one.invoke({})
        assert again["pid"] != pid and one.instances() == [again["pid"]]
    finally:
        one.close()


def test_a_handler_that_raises_keeps_its_instance(pool: InstancePool) -> None:
    pid = pool.invoke({})["pid"]
    with pytest.raises(HandlerRaised, match="the handler failed on purpose"):
        pool.invoke({"raise": True})
    assert pool.invoke({})["pid"] == pid


def test_an_instance_that_dies_is_replaced(pool: InstancePool) -> None:
    pid = pool.invoke({})["pid"]
    with pytest.raises(InstanceFailed, match="exited with code 3"):
        pool.invoke({"exit": True})
    assert pid not in pool.instances()
    assert pool.invoke({})["pid"] != pid


def test_an_instance_that_cannot_start_fails_the_invocation() -> None:
    broken = InstancePool("wiki", "instance_handlers.missing", ENV, 2, 10.0)
    try:
        with pytest.raises(InstanceFailed):
            broken.invoke({})
        assert broken.instances() == []
    finally:
        broken.close()


def test_closing_the_pool_ends_its_processes(pool: InstancePool) -> None:
    pids = {a["pid"] for a in together(pool, [{"sleep": 0.3} for _ in range(3)])[0]}
    pool.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    assert not any(alive(p) for p in pids)
    with pytest.raises(InstanceFailed):
        pool.invoke({})


@pytest.mark.slow
def test_serve_runs_the_wiki_and_mcp_in_instances_of_their_own(tmp_path) -> None:
    key, token = "instances-key-0123456789abcdef", "instances-token-0123456789"
    env = {"WIKIBOT_API_KEY": key, "WIKIBOT_MCP_TOKEN": token, "WIKIBOT_MCP_AUTH": "tokens"}
    serve = WikiServe(str(tmp_path / "data"), env, "--instances", "3").start()
    try:
        auth = {"Authorization": f"Bearer {key}"}
        start = threading.Barrier(6)

        def write(i: int) -> int:
            start.wait()
            page = {"content": f"# Page {i}\n", "message": f"page {i}"}
            return requests.put(
                f"{serve.url}/api/v1/pages/Instances/P{i}", json=page, headers=auth, timeout=60
            ).status_code

        with ThreadPoolExecutor(6) as workers:
            assert list(workers.map(write, range(6))) == [201] * 6  # none lost, none refused
        mcp = requests.post(
            f"{serve.url}/mcp",
            data=json.dumps(INITIALIZE),
            headers={**MCP_HEADERS, "Authorization": f"Bearer {token}"},
            timeout=60,
        )
        assert mcp.status_code == 200 and mcp.json()["result"]["serverInfo"]["name"] == "wikibot"
        running = serve.instances()
        wiki = {p for p, h in running.items() if h == "lambda_init.handler"}
        assert 2 <= len(wiki) <= 3  # six writes at once started more than one, at most three
        assert [h for h in running.values() if h != "lambda_init.handler"] == [
            "lambda_init.mcp_handler"
        ]
        listed = requests.get(
            f"{serve.url}/api/v1/pages?prefix=Instances/", headers=auth, timeout=30
        )
        assert listed.json()["total"] == 6
    finally:
        serve.stop()
    ended_by = time.monotonic() + 20  # they end with the gateway (killed a few seconds later)
    while time.monotonic() < ended_by and any(alive(p) for p in running):
        time.sleep(0.1)
    assert not any(alive(p) for p in running)
