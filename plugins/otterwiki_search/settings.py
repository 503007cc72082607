"""Every setting of the semantic search plugin, read in one place: Flask config, then env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

EMBEDDERS = ("local", "bedrock", "none")
TITAN_DIMENSIONS = (256, 512, 1024)


def _get(config: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = config.get(key)
    if value is None or value == "":
        value = os.environ.get(key)
    return default if value is None or value == "" else value


def _int(config: Mapping[str, Any], key: str, default: int, minimum: int = 0) -> int:
    value = _get(config, key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be an integer, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"{key} must be at least {minimum}, got {number}")
    return number


def _float(config: Mapping[str, Any], key: str, default: float) -> float:
    value = _get(config, key, default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, got {value!r}") from None


@dataclass(frozen=True)
class SearchSettings:
    embedder: str
    index_dir: str
    chunk_size: int
    chunk_overlap: int
    local_model_path: str | None
    local_model_name: str
    local_model_threads: int
    bedrock_model_id: str
    bedrock_dimensions: int
    bedrock_region: str | None
    bedrock_endpoint_url: str | None
    bedrock_concurrency: int
    bedrock_max_retries: int
    sync_budget: float
    reindex_budget: float
    batch_pages: int
    lock_timeout: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any], repository: str) -> SearchSettings:
        embedder = str(_get(config, "WIKIBOT_SEARCH_EMBEDDER", "local")).lower()
        if embedder not in EMBEDDERS:
            raise ValueError(
                f"WIKIBOT_SEARCH_EMBEDDER must be one of {EMBEDDERS}, got {embedder!r}"
            )
        dimensions = _int(config, "WIKIBOT_BEDROCK_DIMENSIONS", 1024)
        if dimensions not in TITAN_DIMENSIONS:
            raise ValueError(f"WIKIBOT_BEDROCK_DIMENSIONS must be one of {TITAN_DIMENSIONS}")
        chunk_size = _int(config, "WIKIBOT_SEARCH_CHUNK_SIZE", 1000, minimum=100)
        overlap = _int(config, "WIKIBOT_SEARCH_CHUNK_OVERLAP", 150)
        if overlap >= chunk_size // 2:
            raise ValueError("WIKIBOT_SEARCH_CHUNK_OVERLAP must be less than half the chunk size")
        repository = os.path.abspath(repository)
        return cls(
            embedder=embedder,
            index_dir=_get(
                config,
                "WIKIBOT_SEARCH_INDEX_DIR",
                os.path.join(repository, ".git", "wikibot", "vectors"),
            ),
            chunk_size=chunk_size,
            chunk_overlap=overlap,
            local_model_path=_get(config, "WIKIBOT_LOCAL_MODEL_PATH"),
            local_model_name=_get(config, "WIKIBOT_LOCAL_MODEL_NAME", "all-MiniLM-L6-v2"),
            local_model_threads=_int(config, "WIKIBOT_LOCAL_MODEL_THREADS", 1, minimum=1),
            bedrock_model_id=_get(
                config, "WIKIBOT_BEDROCK_MODEL_ID", "amazon.titan-embed-text-v2:0"
            ),
            bedrock_dimensions=dimensions,
            bedrock_region=_get(config, "WIKIBOT_BEDROCK_REGION")
            or _get(config, "AWS_REGION")
            or _get(config, "AWS_DEFAULT_REGION"),
            bedrock_endpoint_url=_get(config, "WIKIBOT_BEDROCK_ENDPOINT_URL"),
            bedrock_concurrency=_int(config, "WIKIBOT_BEDROCK_CONCURRENCY", 8, minimum=1),
            bedrock_max_retries=_int(config, "WIKIBOT_BEDROCK_MAX_RETRIES", 6),
            sync_budget=_float(config, "WIKIBOT_SEARCH_SYNC_BUDGET", 3.0),
            reindex_budget=_float(config, "WIKIBOT_REINDEX_BUDGET", 20.0),
            batch_pages=_int(config, "WIKIBOT_REINDEX_BATCH_PAGES", 32, minimum=1),
            lock_timeout=_float(config, "WIKIBOT_LOCK_TIMEOUT", 30.0),
        )
