"""Every setting of the semantic search plugin, read in one place: Flask config, then env."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otterwiki_api.config_values import flag_setting, int_setting, number_setting, setting

EMBEDDERS = ("local", "bedrock", "none")
TITAN_DIMENSIONS = (256, 512, 1024)


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
    warm_up: bool  # load the model and catch up in a background thread (never on Lambda)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], repository: str) -> SearchSettings:
        embedder = str(setting(config, "WIKIBOT_SEARCH_EMBEDDER", "local")).lower()
        if embedder not in EMBEDDERS:
            raise ValueError(
                f"WIKIBOT_SEARCH_EMBEDDER must be one of {EMBEDDERS}, got {embedder!r}"
            )
        dimensions = int_setting(config, "WIKIBOT_BEDROCK_DIMENSIONS", 1024)
        if dimensions not in TITAN_DIMENSIONS:
            raise ValueError(f"WIKIBOT_BEDROCK_DIMENSIONS must be one of {TITAN_DIMENSIONS}")
        chunk_size = int_setting(config, "WIKIBOT_SEARCH_CHUNK_SIZE", 1000, minimum=100)
        overlap = int_setting(config, "WIKIBOT_SEARCH_CHUNK_OVERLAP", 150)
        if overlap >= chunk_size // 2:
            raise ValueError("WIKIBOT_SEARCH_CHUNK_OVERLAP must be less than half the chunk size")
        repository = os.path.abspath(repository)
        return cls(
            embedder=embedder,
            index_dir=setting(
                config,
                "WIKIBOT_SEARCH_INDEX_DIR",
                os.path.join(repository, ".git", "wikibot", "vectors"),
            ),
            chunk_size=chunk_size,
            chunk_overlap=overlap,
            local_model_path=setting(config, "WIKIBOT_LOCAL_MODEL_PATH"),
            local_model_name=setting(config, "WIKIBOT_LOCAL_MODEL_NAME", "all-MiniLM-L6-v2"),
            local_model_threads=int_setting(config, "WIKIBOT_LOCAL_MODEL_THREADS", 1, minimum=1),
            bedrock_model_id=setting(
                config, "WIKIBOT_BEDROCK_MODEL_ID", "amazon.titan-embed-text-v2:0"
            ),
            bedrock_dimensions=dimensions,
            bedrock_region=setting(config, "WIKIBOT_BEDROCK_REGION")
            or setting(config, "AWS_REGION")
            or setting(config, "AWS_DEFAULT_REGION"),
            bedrock_endpoint_url=setting(config, "WIKIBOT_BEDROCK_ENDPOINT_URL"),
            bedrock_concurrency=int_setting(config, "WIKIBOT_BEDROCK_CONCURRENCY", 8, minimum=1),
            bedrock_max_retries=int_setting(config, "WIKIBOT_BEDROCK_MAX_RETRIES", 6),
            sync_budget=number_setting(config, "WIKIBOT_SEARCH_SYNC_BUDGET", 3.0),
            reindex_budget=number_setting(config, "WIKIBOT_REINDEX_BUDGET", 20.0),
            batch_pages=int_setting(config, "WIKIBOT_REINDEX_BATCH_PAGES", 32, minimum=1),
            lock_timeout=number_setting(config, "WIKIBOT_LOCK_TIMEOUT", 30.0),
            # Lambda freezes a function between requests: a thread would stop mid-work
            warm_up=flag_setting(config, "WIKIBOT_SEARCH_WARM_UP", True)
            and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        )
