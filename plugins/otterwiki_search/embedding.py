"""One small interface for embedders, and the factory that picks one from the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from .settings import SearchSettings

if TYPE_CHECKING:
    import numpy as np


# How chunks are cut and what they record; a store built with another layout is rebuilt.
# 2: cut to the token window, markup stripped and tables as `Column: value` lines for the model,
# tables keep their header in every chunk, chunks carry index/total/page words.
CHUNK_LAYOUT = 2


class EmbedderUnavailable(Exception):
    """The configured embedder cannot run here (missing package, model, credentials...)."""


class EmbeddingFailed(Exception):
    """An embedder that was available failed for this request (service error, bad input)."""


class Embedder(Protocol):
    kind: str  # "local" or "bedrock"
    model: str
    dimension: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def fits(self, text: str) -> bool:
        """Whether the model sees all of `text` (what is past its token window is cut off)."""
        ...


def identity(embedder: Embedder) -> dict[str, object]:
    """What an index records about the embedder it was built with."""
    return {
        "embedder": embedder.kind,
        "model": embedder.model,
        "dimension": embedder.dimension,
        "chunk_layout": CHUNK_LAYOUT,
    }


def make_embedder(settings: SearchSettings) -> Embedder:
    """The configured embedder; raises EmbedderUnavailable saying why it cannot be used."""
    if settings.embedder == "none":
        raise EmbedderUnavailable("semantic search is switched off (WIKIBOT_SEARCH_EMBEDDER=none)")
    if settings.embedder == "bedrock":
        from .bedrock import BedrockEmbedder

        return BedrockEmbedder(
            model_id=settings.bedrock_model_id,
            dimensions=settings.bedrock_dimensions,
            region=settings.bedrock_region,
            endpoint_url=settings.bedrock_endpoint_url,
            concurrency=settings.bedrock_concurrency,
            max_retries=settings.bedrock_max_retries,
        )
    from .local_model import LocalEmbedder

    return LocalEmbedder(
        settings.local_model_path, settings.local_model_name, settings.local_model_threads
    )
