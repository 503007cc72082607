"""What the search routes and hooks need, built once by the plugin's `setup` hook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from otterwiki_api.errors import Unavailable

from .settings import SearchSettings

if TYPE_CHECKING:  # faiss and numpy load only when search is configured (see plugin.build_runtime)
    from .searching import SemanticSearch
    from .sync import VectorSync


@dataclass
class SearchRuntime:
    settings: SearchSettings | None
    search: SemanticSearch | None = None
    sync: VectorSync | None = None
    unavailable_reason: str | None = None

    def require(self) -> tuple[SemanticSearch, VectorSync]:
        if self.search is None or self.sync is None:
            raise Unavailable(f"semantic search is unavailable: {self.unavailable_reason}")
        return self.search, self.sync
