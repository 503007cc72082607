"""Bearer API keys with a scope (read < write < admin) and a commit author.

Keys are kept only as SHA-256 hashes and a presented key is compared with every one of them in
constant time. Sources: `OTTERWIKI_API_KEY` and `WIKIBOT_API_KEY` (one admin key each), and a list
in `WIKIBOT_API_KEYS` (JSON) or the file named by `WIKIBOT_API_KEYS_FILE` (same JSON).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from .errors import Forbidden, Unauthorized
from .settings import ApiSettings

SCOPES = ("read", "write", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ApiKey:
    name: str
    digest: str
    scope: str
    author_name: str
    author_email: str

    def allows(self, scope: str) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)

    @property
    def author(self) -> tuple[str, str]:
        return self.author_name, self.author_email


def _parse_entries(raw: Any, source: str, settings: ApiSettings) -> list[ApiKey]:
    entries = raw.get("keys") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise ValueError(f"{source}: expected a list of keys or {{'keys': [...]}}")
    keys = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"{source}: key #{i + 1} is not an object")
        scope = entry.get("scope", "read")
        if scope not in SCOPES:
            raise ValueError(f"{source}: key #{i + 1} has scope {scope!r}; use one of {SCOPES}")
        if entry.get("sha256"):
            digest = str(entry["sha256"]).lower()
        elif entry.get("key"):
            digest = hash_key(str(entry["key"]))
        else:
            raise ValueError(f"{source}: key #{i + 1} needs 'key' or 'sha256'")
        keys.append(
            ApiKey(
                name=str(entry.get("name") or f"key-{i + 1}"),
                digest=digest,
                scope=scope,
                author_name=str(entry.get("author_name") or settings.author_name),
                author_email=str(entry.get("author_email") or settings.author_email),
            )
        )
    return keys


def load_keys(settings: ApiSettings) -> list[ApiKey]:
    """Every configured key; raises ValueError with the source named when one is malformed."""
    keys = [
        ApiKey(name, hash_key(value), "admin", settings.author_name, settings.author_email)
        for name, value in (
            ("OTTERWIKI_API_KEY", settings.api_key),
            ("WIKIBOT_API_KEY", settings.wikibot_api_key),
        )
        if value
    ]
    if settings.keys_json:
        try:
            raw = json.loads(settings.keys_json)
        except json.JSONDecodeError as e:
            raise ValueError(f"WIKIBOT_API_KEYS is not valid JSON: {e}") from None
        keys += _parse_entries(raw, "WIKIBOT_API_KEYS", settings)
    if settings.keys_file:
        try:
            with open(settings.keys_file, encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"WIKIBOT_API_KEYS_FILE {settings.keys_file}: {e}") from None
        keys += _parse_entries(raw, settings.keys_file, settings)
    return keys


class KeyRing:
    def __init__(self, keys: list[ApiKey]) -> None:
        self.keys = keys

    def authenticate(self, authorization: str | None, scope: str) -> ApiKey:
        """The key behind an `Authorization: Bearer ...` header, if it has `scope`."""
        if not self.keys:
            raise Unauthorized("the API has no keys configured; set WIKIBOT_API_KEY")
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthorized("missing bearer token: send 'Authorization: Bearer <key>'")
        digest = hash_key(authorization[7:].strip())
        found = None
        for key in self.keys:  # no early exit: the time taken does not depend on which key matched
            if hmac.compare_digest(key.digest, digest):
                found = key
        if found is None:
            raise Unauthorized("invalid API key")
        if not found.allows(scope):
            raise Forbidden(f"this key has scope '{found.scope}'; this request needs '{scope}'")
        return found
