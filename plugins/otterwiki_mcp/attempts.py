"""Wrong keys on the approval page, counted per address and per client in the OAuth store, so
every process sharing the store (workers, Lambda instances) shares one count.

One row per counted key (`address:<ip>`, `client:<client_id>`): wrong keys in the current window,
when the window began, until when the key is locked out, and how many lockouts it has had
(strikes). `limit` wrong keys within a window lock the key out; each lockout is twice the one
before (15 minutes, 30, 1 hour, ... at most `longest`), and one that comes while a lockout is
still on starts when that one ends. A row is dropped once its window is over and, if it has
strikes, `longest` has passed since its last lockout ended: the strikes are forgotten, and the
table holds only keys that sent a wrong key recently (dropped as changes happen, by index).

A right key resets nothing: an approval proves the key, not that the wrong ones from that
address (a proxy many people share) or for that client were its sender's, so a reset would let
a guesser interleave with approvals; the window ends on its own.

An attempt is counted when it begins, before its key is checked (`begin`), and a right key
takes back only its own count (`succeeded`): many wrong keys sent at once count as they come,
and the ones past the limit are refused while the others are still being checked. The window is
fixed, not sliding: it starts with the first attempt after the last one ended, so at most
`limit` wrong keys count in it, and a guesser pacing just under the limit gets `limit` a window.

Nothing here sleeps: a locked-out key is answered at once (429 with Retry-After), so guessing
is limited without slowing anyone down; the store's work runs off the event loop (the caller's
`anyio.to_thread`).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from .oauth_store import OAuthStore, Transaction

LIMIT = 20  # wrong keys one address (or one client) may send in WINDOW
WINDOW = 900.0  # seconds; also the first lockout
LONGEST = 86400.0  # the longest lockout, and how long strikes are remembered after one
IN_FLIGHT_WAIT = 5.0  # seconds: the limit is taken by attempts whose keys are being checked


def address_key(host: str) -> str:
    """The counted key of a client address: an IPv6 address by its /64 network, since one
    subscriber is routinely given a whole /64 and could take a new address for every guess."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return f"address:{host}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return f"address:{ip.ipv4_mapped}"
        return f"address:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"address:{ip}"


class Attempts:
    def __init__(
        self,
        store: OAuthStore,
        *,
        limit: int = LIMIT,
        window: float = WINDOW,
        longest: float = LONGEST,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.store, self.limit, self.window, self.longest = store, limit, window, longest
        self.now = now  # wall-clock time: processes compare it

    def blocked_for(self, *keys: str) -> float:
        """Seconds until every one of `keys` may try again (0: now)."""
        marks = ",".join("?" * len(keys))
        found = self.store.read(
            f"SELECT max(locked_until) FROM attempts WHERE key IN ({marks})", keys
        )
        return max(0.0, (found[0][0] or 0.0) - self.now())

    def begin(self, *keys: str) -> float:
        """Count an attempt for each of `keys` before its key is checked, so attempts sent at
        once count as they come in: 0 when it may go on (then `failed` or `succeeded` must
        follow), else the seconds to wait (nothing counted). With the limit taken by attempts
        still being checked, the answer is IN_FLIGHT_WAIT."""
        now = self.now()
        with self.store.transaction() as tx:
            tx.db.execute("DELETE FROM attempts WHERE expires_at < ?", (now,))
            rows = {key: self._row(tx, key, now) for key in keys}
            wait = max(row[2] - now for row in rows.values())
            if wait > 0:
                return wait
            if any(row[0] >= self.limit for row in rows.values()):
                return IN_FLIGHT_WAIT
            for key, (count, start, locked, strikes) in rows.items():
                self._put(tx, key, count + 1, start, locked, strikes)
        return 0.0

    def failed(self, *keys: str) -> None:
        """The attempt begun for `keys` sent a wrong key: at the limit, a lockout."""
        now = self.now()
        with self.store.transaction() as tx:
            for key in keys:
                count, start, locked, strikes = self._row(tx, key, now)
                if count >= self.limit:
                    lockout = min(self.window * 2 ** min(strikes, 32), self.longest)
                    locked, strikes = max(now, locked) + lockout, strikes + 1
                    count, start = 0, locked  # the next window begins when the lockout ends
                self._put(tx, key, count, start, locked, strikes)

    def succeeded(self, *keys: str) -> None:
        """The attempt begun for `keys` sent a right key: it takes back its own count, and
        nothing else (see the module's note)."""
        now = self.now()
        with self.store.transaction() as tx:
            for key in keys:
                count, start, locked, strikes = self._row(tx, key, now)
                self._put(tx, key, max(0, count - 1), start, locked, strikes)

    def _row(self, tx: Transaction, key: str, now: float) -> tuple[int, float, float, int]:
        """(count, window start, locked until, strikes) of `key`, its window renewed when over
        (never while locked out: the next window starts when a lockout ends)."""
        row = tx.db.execute(
            "SELECT count, window_start, locked_until, strikes FROM attempts WHERE key = ?",
            (key,),
        ).fetchone()
        count, start, locked, strikes = row or (0, now, 0.0, 0)
        if now >= start + self.window:
            count, start = 0, now
        return count, start, locked, strikes

    def _put(
        self, tx: Transaction, key: str, count: int, start: float, locked: float, strikes: int
    ) -> None:
        expires = max(start + self.window, locked + (self.longest if strikes else 0))
        tx.db.execute(
            "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?)",
            (key, count, start, locked, strikes, expires),
        )
