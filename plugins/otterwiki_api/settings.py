"""Every setting of the REST API plugin, read in one place: Flask config, then environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config_values import number_setting, setting

# 10 MB attachments (what the older otterwiki-api plugin accepts) travel base64 in JSON: 4/3 the
# size, plus the rest of the body
DEFAULT_MAX_BODY = 14 * 1024 * 1024


@dataclass(frozen=True)
class ApiSettings:
    repository: str
    index_dir: str
    max_body_bytes: int
    lock_timeout: float
    stale_lock_after: float
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
            index_dir=setting(
                config, "WIKIBOT_INDEX_DIR", os.path.join(repository, ".git", "wikibot")
            ),
            max_body_bytes=int(
                number_setting(config, "WIKIBOT_API_MAX_BODY_BYTES", DEFAULT_MAX_BODY)
            ),
            lock_timeout=number_setting(config, "WIKIBOT_LOCK_TIMEOUT", 30.0),
            stale_lock_after=number_setting(config, "WIKIBOT_STALE_LOCK_SECONDS", 10.0),
            author_name=setting(config, "OTTERWIKI_API_AUTHOR_NAME", "Wiki API"),
            author_email=setting(config, "OTTERWIKI_API_AUTHOR_EMAIL", "api@wikibot.local"),
            api_key=setting(config, "OTTERWIKI_API_KEY"),
            wikibot_api_key=setting(config, "WIKIBOT_API_KEY"),
            keys_file=setting(config, "WIKIBOT_API_KEYS_FILE"),
            keys_json=setting(config, "WIKIBOT_API_KEYS"),
        )
