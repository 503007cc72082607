"""Wrong keys on the approval page, counted per address and per client in the OAuth store, so
every process sharing the store (workers, Lambda instances) shares one count.

One row per counted key (`address:<ip>`, `client:<client_id>`): wrong keys in the current window,
when the window began, until when the key is locked out, and how many lockouts it has had
(strikes). `limit` wrong keys within `window` lock the key out; each lockout is twice the one
before (15 minutes, 30, 1 hour, ... at most `longest`), and one that comes while a lockout is
still on starts when that one ends. A row is dropped once its window is over and, if it has
strikes, `longest` has passed since its last lockout ended: the strikes are forgotten, and the
table holds only keys that sent a wrong key recently (dropped as changes happen, by index).

A right key resets nothing: an approval proves the key, not that the wrong ones from that
address (a proxy many people share) or for that client were its sender's, so a reset would let
a guesser interleave with approvals; the window ends on its own.

Nothing here sleeps: a locked-out key is answered at once (429 with Retry-After), so guessing
is limited without slowing anyone down.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable

from .oauth_store import OAuthStore

LIMIT = 20  # wrong keys one address (or one client) may send in WINDOW
WINDOW = 900.0  # seconds; also the first lockout
LONGEST = 86400.0  # the longest lockout, and how long strikes are remembered after one


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
        now = self.now()
        with self.store.transaction() as tx:
            marks = ",".join("?" * len(keys))
            row = tx.db.execute(
                f"SELECT max(locked_until) FROM attempts WHERE key IN ({marks})", keys
            ).fetchone()
        return max(0.0, (row[0] or 0.0) - now)

    def failed(self, *keys: str) -> None:
        """One more wrong key for each of `keys`."""
        now = self.now()
        with self.store.transaction() as tx:
            tx.db.execute("DELETE FROM attempts WHERE expires_at < ?", (now,))
            for key in keys:
                row = tx.db.execute(
                    "SELECT count, window_start, locked_until, strikes FROM attempts WHERE key = ?",
                    (key,),
                ).fetchone()
                count, start, locked, strikes = row or (0, now, 0.0, 0)
                if now >= start + self.window:  # a new window (never while locked out)
                    count, start = 0, now
                count += 1
                if count >= self.limit:
                    lockout = min(self.window * 2**strikes, self.longest)
                    locked, strikes = max(now, locked) + lockout, strikes + 1
                    count, start = 0, locked  # the next window begins when the lockout ends
                expires = max(start + self.window, locked + (self.longest if strikes else 0))
                tx.db.execute(
                    "INSERT OR REPLACE INTO attempts VALUES (?, ?, ?, ?, ?, ?)",
                    (key, count, start, locked, strikes, expires),
                )
