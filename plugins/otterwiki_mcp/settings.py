"""Every setting of the MCP plugin, read in one place: Flask config first, then the environment.

The standalone MCP app has no Flask config and passes `{}`, so there everything comes from the
environment. Each setting has a default; `from_config` raises ValueError naming a bad one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otterwiki_api.auth import hash_key
from otterwiki_api.authors import Author
from otterwiki_api.config_values import flag_setting, number_setting, setting

AUTH_MODES = ("local", "authkit", "tokens", "wiki")
WIKI_ACCESS_TTL = 600  # wiki mode: a JWT cannot be revoked, so it lives 10 minutes
DEFAULT_TOKEN_AUTHOR: Author = ("MCP token", "mcp-token@wikibot.local")
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>\s]+)>\s*$")


def parse_author(text: str, key: str) -> Author:
    """'Name <email>' -> (name, email)."""
    match = _AUTHOR.match(text)
    if not match:
        raise ValueError(f"{key} must look like 'Name <email>', got {text!r}")
    email = match.group("email")
    return match.group("name") or email, email


@dataclass(frozen=True)
class StaticToken:
    """A bearer token for scripts and Claude Code, kept only as its SHA-256, with a git author."""

    name: str
    digest: str
    author: Author


def _static_tokens(config: Mapping[str, Any]) -> list[StaticToken]:
    tokens = []
    single = setting(config, "WIKIBOT_MCP_TOKEN")
    if single:
        author_text = setting(config, "WIKIBOT_MCP_TOKEN_AUTHOR")
        author = (
            parse_author(author_text, "WIKIBOT_MCP_TOKEN_AUTHOR")
            if author_text
            else DEFAULT_TOKEN_AUTHOR
        )
        tokens.append(StaticToken("WIKIBOT_MCP_TOKEN", hash_key(str(single)), author))
    raw = setting(config, "WIKIBOT_MCP_TOKENS")
    if raw:
        try:
            entries = json.loads(raw) if isinstance(raw, str) else raw
        except json.JSONDecodeError as e:
            raise ValueError(f"WIKIBOT_MCP_TOKENS is not valid JSON: {e}") from None
        if not isinstance(entries, list):
            raise ValueError("WIKIBOT_MCP_TOKENS must be a JSON list")
        for i, entry in enumerate(entries):
            where = f"WIKIBOT_MCP_TOKENS #{i + 1}"
            if not isinstance(entry, dict) or not (entry.get("token") or entry.get("sha256")):
                raise ValueError(f"{where} needs 'token' or 'sha256'")
            digest = str(entry.get("sha256") or hash_key(str(entry["token"]))).lower()
            email = str(entry.get("email") or DEFAULT_TOKEN_AUTHOR[1])
            name = str(entry.get("name") or email)
            tokens.append(StaticToken(str(entry.get("label") or where), digest, (name, email)))
    return tokens


def _base_url(value: str | None) -> str | None:
    if not value:
        return None
    value = str(value).rstrip("/")
    if not re.match(r"^https?://[^/\s]+$", value):
        raise ValueError(
            f"WIKIBOT_MCP_BASE_URL must be an origin like https://wiki.example.org, got {value!r}"
        )
    return value


@dataclass(frozen=True)
class McpSettings:
    enabled: bool
    path: str
    auth: str
    base_url: str | None
    authkit_domain: str | None
    static_tokens: tuple[StaticToken, ...]
    state_path: str | None
    approval_key: str | None
    access_token_ttl: int
    keys_path: str | None
    key_rotation_days: float
    jwks_url: str | None
    refresh_token_ttl: int
    cors_origins: tuple[str, ...]
    max_origins: int
    api_url: str | None
    api_key: str | None
    http_timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> McpSettings:
        path = str(setting(config, "WIKIBOT_MCP_PATH", "/mcp")).rstrip("/")
        if not re.fullmatch(r"(/[A-Za-z0-9._~-]+)+", path):
            raise ValueError(f"WIKIBOT_MCP_PATH must look like /mcp, got {path!r}")
        auth = str(setting(config, "WIKIBOT_MCP_AUTH", "local")).lower()
        if auth not in AUTH_MODES:
            raise ValueError(f"WIKIBOT_MCP_AUTH must be one of {AUTH_MODES}, got {auth!r}")
        domain = setting(config, "WIKIBOT_MCP_AUTHKIT_DOMAIN")
        if auth == "authkit" and not domain:
            raise ValueError("WIKIBOT_MCP_AUTH=authkit needs WIKIBOT_MCP_AUTHKIT_DOMAIN")
        tokens = tuple(_static_tokens(config))
        if auth == "tokens" and not tokens:
            raise ValueError("WIKIBOT_MCP_AUTH=tokens needs WIKIBOT_MCP_TOKEN(S)")
        origins = str(setting(config, "WIKIBOT_MCP_CORS_ORIGINS", "*"))
        api_url = setting(config, "WIKIBOT_API_URL")
        return cls(
            enabled=flag_setting(config, "WIKIBOT_MCP_ENABLED", True),
            path=path,
            auth=auth,
            base_url=_base_url(setting(config, "WIKIBOT_MCP_BASE_URL")),
            authkit_domain=str(domain).rstrip("/") if domain else None,
            static_tokens=tokens,
            state_path=setting(config, "WIKIBOT_MCP_STATE_PATH"),
            approval_key=setting(config, "WIKIBOT_MCP_APPROVAL_KEY"),
            access_token_ttl=int(
                number_setting(
                    config,
                    "WIKIBOT_MCP_ACCESS_TOKEN_TTL",
                    WIKI_ACCESS_TTL if auth == "wiki" else 3600,
                    60,
                )
            ),
            keys_path=setting(config, "WIKIBOT_MCP_KEYS_PATH"),
            key_rotation_days=number_setting(config, "WIKIBOT_MCP_KEY_ROTATION_DAYS", 30, 1),
            jwks_url=setting(config, "WIKIBOT_MCP_JWKS_URL"),
            refresh_token_ttl=int(
                number_setting(config, "WIKIBOT_MCP_REFRESH_TOKEN_TTL", 30 * 86400, 60)
            ),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            max_origins=int(number_setting(config, "WIKIBOT_MCP_MAX_ORIGINS", 16, 1)),
            api_url=str(api_url).rstrip("/") if api_url else None,
            api_key=setting(config, "WIKIBOT_API_KEY"),
            http_timeout=number_setting(config, "WIKIBOT_MCP_HTTP_TIMEOUT", 30.0, 1),
        )
