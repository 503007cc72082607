"""The wiki's signing keys for MCP access tokens (WIKIBOT_MCP_AUTH=wiki), kept in one file.

The wiki signs short-lived access tokens (RS256 JWTs) and publishes the public halves as a JWKS,
which the MCP function fetches to verify them: nothing mutable is shared but that document. The
file (0600, beside the OAuth state, on EFS when deployed) lists the keys newest last; it is
created with the first key on first use and changed under an exclusive `flock`, which EFS honours,
so two instances never write different keys. A key is rotated when it is older than
`rotate_after`: the request that notices writes a new one. The previous keys stay published for
`keep_retired` after their successor came, so tokens they signed stay valid until they expire.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from otterwiki_api.atomicfile import atomic_write

ALGORITHM = "RS256"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    created: float
    private_pem: str

    def public_jwk(self) -> dict[str, Any]:
        private = serialization.load_pem_private_key(self.private_pem.encode(), None)
        jwk = RSAAlgorithm.to_jwk(private.public_key(), as_dict=True)  # type: ignore[arg-type]
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_pem, algorithm=ALGORITHM, headers={"kid": self.kid})


def new_key(now: float | None = None) -> SigningKey:
    """A fresh 2048-bit RSA key; its id is a digest of its public half."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(hashlib.sha256(public).hexdigest()[:16], now or time.time(), pem)


class KeyRing:
    """The keys in `path` (None: in this process only, for tests and a wiki without a state
    folder, where tokens end with the process)."""

    def __init__(self, path: str | None, rotate_after: float, keep_retired: float) -> None:
        self.path = path
        self.rotate_after = rotate_after
        self.keep_retired = keep_retired
        self._keys: list[SigningKey] = []
        self._stamp: tuple[float, int] | None = None
        self._lock = threading.Lock()

    # -- reading -------------------------------------------------------------------------------
    def keys(self) -> list[SigningKey]:
        """Every key in the file (read again when another process changed it), oldest first."""
        with self._lock:
            if self.path is not None:
                try:
                    stat = os.stat(self.path)
                except FileNotFoundError:
                    self._keys, self._stamp = [], None
                else:
                    if (stat.st_mtime, stat.st_size) != self._stamp:
                        self._keys = self._read()
                        self._stamp = (stat.st_mtime, stat.st_size)
            return list(self._keys)

    def _read(self) -> list[SigningKey]:
        assert self.path is not None
        with open(self.path, encoding="utf-8") as f:
            rows = json.load(f).get("keys", [])
        return [SigningKey(r["kid"], float(r["created"]), r["private_pem"]) for r in rows]

    def published(self, now: float | None = None) -> list[SigningKey]:
        """The current key and every older one whose successor is younger than `keep_retired`."""
        return self._unretired(self.keys(), now or time.time())

    def _unretired(self, keys: list[SigningKey], now: float) -> list[SigningKey]:
        """`keys` less those superseded longer ago than `keep_retired`."""
        cutoff = now - self.keep_retired
        return [k for i, k in enumerate(keys) if i == len(keys) - 1 or keys[i + 1].created > cutoff]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.public_jwk() for k in self.published()]}

    def find(self, kid: str) -> SigningKey | None:
        return next((k for k in self.published() if k.kid == kid), None)

    # -- writing -------------------------------------------------------------------------------
    def current(self, now: float | None = None) -> SigningKey:
        """The key to sign with: the newest, or a new one when there is none or it is due."""
        now = now or time.time()
        keys = self.keys()
        if keys and keys[-1].created > now - self.rotate_after:
            return keys[-1]
        with self._exclusive():  # another instance may have rotated while we waited
            self._stamp = None
            keys = self.keys()
            if keys and keys[-1].created > now - self.rotate_after:
                return keys[-1]
            return self._add(keys, new_key(now), now)

    def rotate(self, now: float | None = None) -> SigningKey:
        """A new current key now (the previous ones stay published for `keep_retired`)."""
        now = now or time.time()
        with self._exclusive():
            self._stamp = None
            return self._add(self.keys(), new_key(now), now)

    def _add(self, keys: list[SigningKey], key: SigningKey, now: float) -> SigningKey:
        """Append `key`, dropping keys no longer published, and write the file."""
        keys = [*self._unretired(keys, now), key]
        with self._lock:
            self._keys = keys
            if self.path is not None:
                rows = [
                    {"kid": k.kid, "created": k.created, "private_pem": k.private_pem} for k in keys
                ]
                atomic_write(self.path, json.dumps({"keys": rows}, indent=1).encode(), 0o600)
                stat = os.stat(self.path)
                self._stamp = (stat.st_mtime, stat.st_size)
        return key

    @contextmanager
    def _exclusive(self) -> Any:
        if self.path is None:
            yield
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fd = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
