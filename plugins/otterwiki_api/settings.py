"""Every setting of the REST API plugin, read in one place: Flask config, then environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_BODY = 10 * 1024 * 1024


def _get(config: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = config.get(key)
    if value is None or value == "":
        value = os.environ.get(key)
    return default if value is None or value == "" else value


def _number(config: Mapping[str, Any], key: str, default: float) -> float:
    value = _get(config, key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class ApiSettings:
    repository: str
    index_dir: str
    max_body_bytes: int
    lock_timeout: float
    author_name: str
    author_email: str
    api_key: str | None
    wikibot_api_key: str | None
    keys_file: str | None
    keys_json: str | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], repository: str) -> ApiSettings:
        repository = os.path.abspath(repository)
        return cls(
            repository=repository,
            index_dir=_get(
                config, "WIKIBOT_INDEX_DIR", os.path.join(repository, ".git", "wikibot")
            ),
            max_body_bytes=int(_number(config, "WIKIBOT_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY)),
            lock_timeout=_number(config, "WIKIBOT_LOCK_TIMEOUT", 30.0),
            author_name=_get(config, "OTTERWIKI_API_AUTHOR_NAME", "Wiki API"),
            author_email=_get(config, "OTTERWIKI_API_AUTHOR_EMAIL", "api@wikibot.local"),
            api_key=_get(config, "OTTERWIKI_API_KEY"),
            wikibot_api_key=_get(config, "WIKIBOT_API_KEY"),
            keys_file=_get(config, "WIKIBOT_API_KEYS_FILE"),
            keys_json=_get(config, "WIKIBOT_API_KEYS"),
        )
