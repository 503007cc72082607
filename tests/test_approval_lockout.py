"""Wrong keys on the approval page (issue: "per-client and per-address attempt limits with
growing lockout on the approval page, answered at once (429 or a form error), never by sleeping
on the request path"), against the local OAuth provider served by uvicorn on 127.0.0.1:

- an address that sends 20 wrong keys is locked out, answered 429 with Retry-After at once; each
  lockout that comes after the last one ended is twice as long (15 minutes, 30, ... at most a
  day), a day after the last one they are forgotten (an injected clock, no sleeping), and the
  rows of what is over are dropped;
- two providers sharing one state file, as two processes or two Lambda instances do, share the
  count: wrong keys at one count at the other;
- wrong keys for one client, from many addresses and approval requests, lock that client's key
  approvals, and no other client's.

Addresses are told by `X-Forwarded-For`, which uvicorn takes from a proxy on 127.0.0.1 (its
default `forwarded_allow_ips`), as the approval page sees them behind the local gateway.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import requests
from mcp_helpers import REDIRECT_URI, Uvicorn, pkce
from otterwiki_mcp.approval import Identity
from otterwiki_mcp.local_oauth import LocalOAuthProvider
from otterwiki_mcp.oauth_store import OAuthStore
from starlette.applications import Starlette

GOOD = "lockout-good-key-0123456789abcdef"
GUESSER = "203.0.113.7"


def check_key(key: str) -> Identity | None:
    return Identity("Lou Lockout", "lou@example.org") if key == GOOD else None


def provider_app(
    state_path: str,
    now: Callable[[], float] | None = None,
    check: Callable[[str], Identity | None] = check_key,
) -> Starlette:
    """The local OAuth server's routes on a store of its own connection to `state_path` (what
    another process would open); `now`: the clock of its attempt limits; `check`: the key
    check."""
    store = OAuthStore(state_path)
    attempts = None
    if now is not None:
        from otterwiki_mcp.attempts import Attempts

        attempts = Attempts(store, now=now)
    provider = LocalOAuthProvider(
        base_url="http://localhost", store=store, check_key=check, attempts=attempts
    )
    return Starlette(routes=provider.get_routes())


class Approvals:
    """What a client and a person do at one server: register, start an approval, send a key."""

    def __init__(self, url: str) -> None:
        self.url = url

    def client(self) -> str:
        body = {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
        answer = requests.post(self.url + "/register", json=body, timeout=10)
        assert answer.status_code == 201, answer.text
        return str(answer.json()["client_id"])

    def request(self, client_id: str) -> str:
        query = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "code_challenge": pkce()[1],
            "code_challenge_method": "S256",
        }
        start = requests.get(
            f"{self.url}/authorize?{urlencode(query)}", allow_redirects=False, timeout=10
        )
        assert start.status_code == 302, start.text
        return parse_qs(urlsplit(start.headers["Location"]).query)["request"][0]

    def submit(self, request_id: str, key: str, address: str) -> requests.Response:
        return requests.post(
            self.url + "/oauth/approve",
            data={"request": request_id, "key": key, "action": "approve"},
            headers={"X-Forwarded-For": address},
            allow_redirects=False,
            timeout=10,
        )

    def guess(self, address: str, times: int = 20) -> list[int]:
        """`times` wrong keys from `address`, 4 per approval request of a new client each (a
        request takes 5 before it is cancelled; a client 20)."""
        codes: list[int] = []
        while len(codes) < times:
            request_id = self.request(self.client())
            for _ in range(min(4, times - len(codes))):
                codes.append(self.submit(request_id, "wrong", address).status_code)
        return codes

    def approve(self, address: str, client_id: str | None = None) -> requests.Response:
        """The right key for a new approval request (of `client_id`, else a new client)."""
        return self.submit(self.request(client_id or self.client()), GOOD, address)


def wrong(attempts: Any, *keys: str) -> None:
    """One attempt with a wrong key, as the approval page makes it: counted as it begins."""
    assert attempts.begin(*keys) == 0
    attempts.failed(*keys)


def retry_after(answer: requests.Response) -> int:
    assert answer.status_code == 429, (answer.status_code, answer.text)
    assert "try again in" in answer.text, answer.text
    return int(answer.headers["Retry-After"])


def test_each_lockout_of_an_address_is_longer_answered_at_once(tmp_path) -> None:
    clock = [1_700_000_000.0]
    with Uvicorn(provider_app(str(tmp_path / "state.sqlite3"), lambda: clock[0])) as server:
        wiki = Approvals(server.url)
        waits = []
        for _ in range(9):
            started = time.monotonic()
            assert wiki.guess(GUESSER) == [403] * 20
            blocked = wiki.approve(GUESSER)  # even the right key waits
            assert time.monotonic() - started < 10, "answered at once, not slept on"
            waits.append(retry_after(blocked))
            if len(waits) == 1:
                clock[0] += 100  # the wait counts down
                assert (
                    retry_after(wiki.submit(wiki.request(wiki.client()), "wrong", GUESSER)) == 800
                )
                assert wiki.approve("198.51.100.1").status_code == 303  # others approve
                clock[0] += 800
            else:
                clock[0] += waits[-1]
            assert wiki.approve(GUESSER).status_code == 303  # the lockout is over
        minutes = [w // 60 for w in waits]
        assert minutes == [15, 30, 60, 120, 240, 480, 960, 1440, 1440], minutes
        clock[0] += 86400 + 1  # a day without a lockout: forgotten
        assert wiki.guess(GUESSER) == [403] * 20
        assert retry_after(wiki.approve(GUESSER)) == 900
    # what is over is dropped: the 45 clients guessed for before, their windows long past
    with sqlite3.connect(tmp_path / "state.sqlite3") as db:
        keys = [key for (key,) in db.execute("SELECT key FROM attempts")]
    assert sorted(k.split(":")[0] for k in keys) == ["address"] + ["client"] * 5, keys


def test_two_processes_sharing_the_state_share_the_count(tmp_path) -> None:
    path = str(tmp_path / "state.sqlite3")
    with Uvicorn(provider_app(path)) as one, Uvicorn(provider_app(path)) as other:
        wikis = [Approvals(one.url), Approvals(other.url)]
        codes = []
        for i in range(5):  # 12 wrong keys at one, 8 at the other
            codes += wikis[i % 2].guess(GUESSER, 4)
        assert codes == [403] * 20
        for wiki in wikis:
            assert retry_after(wiki.approve(GUESSER)) > 800
        assert wikis[1].approve("198.51.100.1").status_code == 303


def test_wrong_keys_for_one_client_lock_its_approvals_from_any_address(tmp_path) -> None:
    with Uvicorn(provider_app(str(tmp_path / "state.sqlite3"))) as server:
        wiki = Approvals(server.url)
        target = wiki.client()
        codes = []
        for i in range(10):  # 2 wrong keys from each of 10 addresses, each its own request
            for _ in range(2):
                codes.append(
                    wiki.submit(wiki.request(target), "wrong", f"198.51.100.{i}").status_code
                )
        assert codes == [403] * 20
        blocked = wiki.approve("192.0.2.99", target)  # a new address, the right key
        assert retry_after(blocked) > 800
        assert wiki.approve("192.0.2.99").status_code == 303  # another client is not locked


def test_an_ipv6_network_counts_as_one_address(tmp_path) -> None:
    """One subscriber is given a whole /64: a new address per guess must not buy new tries."""
    with Uvicorn(provider_app(str(tmp_path / "state.sqlite3"))) as server:
        wiki = Approvals(server.url)
        codes = []
        for i in range(5):  # 4 wrong keys from each of 5 addresses of one /64
            codes += wiki.guess(f"2001:db8:1:2::{i + 1:x}", 4)
        assert codes == [403] * 20
        assert retry_after(wiki.approve("2001:db8:1:2:ffff::9")) > 800
        assert wiki.approve("2001:db8:1:3::1").status_code == 303  # the next /64 is not locked
        # an IPv4 address written as IPv6 is that IPv4 address
        for i in range(5):
            codes += wiki.guess("192.0.2.7" if i % 2 else "::ffff:192.0.2.7", 4)
        assert retry_after(wiki.approve("192.0.2.7")) > 800


def test_address_keys_name_what_cannot_be_parsed_as_it_came() -> None:
    """An address that is not an IP (a unix socket's peer, the "?" of a request without a
    client) is still counted, by its text: it must not share a key with every other one."""
    from otterwiki_mcp.attempts import address_key

    assert address_key("?") == "address:?"
    assert address_key("proxy.internal") == "address:proxy.internal"
    assert address_key("192.0.2.7") == address_key("::ffff:192.0.2.7") == "address:192.0.2.7"
    assert address_key("2001:db8:1:2::1") == "address:2001:db8:1:2::/64"


def test_a_window_ends_at_its_last_second_and_the_next_one_counts_from_one(tmp_path) -> None:
    """With an injected clock (no sleeping): the wrong keys of a window that is over count for
    nothing, from the instant `window` seconds have passed, and the new window counts from one."""
    from otterwiki_mcp.attempts import Attempts

    clock = [1_700_000_000.0]
    attempts = Attempts(
        OAuthStore(str(tmp_path / "state.sqlite3")), limit=3, window=100, now=lambda: clock[0]
    )
    wrong(attempts, "address:?")
    wrong(attempts, "address:?")
    clock[0] += 100  # the window is over exactly now
    wrong(attempts, "address:?")
    wrong(attempts, "address:?")
    assert attempts.blocked_for("address:?") == 0  # two in the new window, limit three
    wrong(attempts, "address:?")
    assert attempts.blocked_for("address:?") == 100  # the third: the first lockout, one window


def test_lockouts_do_not_depend_on_the_clocks_origin(tmp_path) -> None:
    """The counts and lockouts are relative to `now`: a clock that starts at 0 (any injected
    one) blocks nobody before the limit and locks out for exactly a window after it."""
    from otterwiki_mcp.attempts import Attempts

    clock = [0.0]
    attempts = Attempts(
        OAuthStore(str(tmp_path / "state.sqlite3")), limit=2, window=100, now=lambda: clock[0]
    )
    assert attempts.blocked_for("address:?", "client:c") == 0
    wrong(attempts, "address:?", "client:c")
    assert attempts.blocked_for("address:?", "client:c") == 0
    wrong(attempts, "address:?", "client:c")
    assert attempts.blocked_for("address:?") == attempts.blocked_for("client:c") == 100
    clock[0] += 40
    assert attempts.blocked_for("client:c", "address:other") == 60


def test_wrong_keys_sent_at_once_count_as_they_come(tmp_path) -> None:
    """40 wrong keys from one address at the same moment, each on an approval request of its
    own, while the key check takes a while (as asking the wiki does): only the limit's 20 are
    checked, the rest are refused at once, and a lockout follows. Counting only after the
    check let all 40 through."""

    def slow_check(key: str) -> Identity | None:
        time.sleep(0.5)
        return check_key(key)

    with Uvicorn(provider_app(str(tmp_path / "state.sqlite3"), check=slow_check)) as server:
        wiki = Approvals(server.url)
        requests_ = [wiki.request(wiki.client()) for _ in range(40)]
        with ThreadPoolExecutor(40) as pool:
            codes = list(
                pool.map(lambda r: wiki.submit(r, "wrong", GUESSER).status_code, requests_)
            )
        assert sorted(codes) == [403] * 20 + [429] * 20, codes
        assert retry_after(wiki.approve(GUESSER)) > 800  # the 20 checked ones locked it out


def test_a_lockout_holds_to_its_last_instant_and_counts_again_from_its_end(tmp_path) -> None:
    from otterwiki_mcp.attempts import Attempts

    clock = [1_700_000_000.0]
    attempts = Attempts(
        OAuthStore(str(tmp_path / "state.sqlite3")), limit=2, window=100, now=lambda: clock[0]
    )
    wrong(attempts, "address:?")
    wrong(attempts, "address:?")
    until = clock[0] + 100
    clock[0] = until - 0.5
    assert attempts.begin("address:?") == 0.5  # the last half second still waits
    clock[0] = until  # over: the attempts from now on count
    wrong(attempts, "address:?")
    wrong(attempts, "address:?")
    assert attempts.blocked_for("address:?") == 200  # the second lockout, twice as long


def test_a_right_key_takes_back_its_own_count_and_no_more(tmp_path) -> None:
    from otterwiki_mcp.attempts import Attempts

    attempts = Attempts(
        OAuthStore(str(tmp_path / "state.sqlite3")), limit=3, window=100, now=lambda: 1e9
    )

    def right() -> None:
        assert attempts.begin("client:c") == 0
        attempts.succeeded("client:c")

    right()  # nothing counted before it: nothing but its own to take back
    wrong(attempts, "client:c")
    wrong(attempts, "client:c")
    assert attempts.blocked_for("client:c") == 0  # two wrong keys of three
    right()
    wrong(attempts, "client:c")
    assert attempts.blocked_for("client:c") == 100  # the third
