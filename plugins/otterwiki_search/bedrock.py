"""Amazon Titan Text Embeddings V2 through Bedrock's InvokeModel, many texts at once through a
bounded thread pool, with backoff when Bedrock throttles."""

from __future__ import annotations

import importlib.util
import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .embedding import EmbedderUnavailable, EmbeddingFailed

_RETRYABLE = {
    "ThrottlingException",
    "TooManyRequestsException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
}


TITAN_WINDOW = 8192  # tokens of Titan Text Embeddings V2's input


class BedrockEmbedder:
    kind = "bedrock"

    @staticmethod
    def fits(text: str) -> bool:
        """Titan's tokenizer is not public: at least two characters a token is a safe bound
        (English runs about 4.5), and chunks are far shorter anyway."""
        return len(text) <= 2 * TITAN_WINDOW

    def __init__(
        self,
        model_id: str = "amazon.titan-embed-text-v2:0",
        dimensions: int = 1024,
        region: str | None = None,
        endpoint_url: str | None = None,
        concurrency: int = 8,
        max_retries: int = 6,
        backoff: float = 0.25,
    ) -> None:
        if importlib.util.find_spec("boto3") is None:
            raise EmbedderUnavailable("boto3 is not installed: pip install 'wikibot[bedrock]'")
        if not region:
            raise EmbedderUnavailable(
                "no AWS region for Bedrock: set WIKIBOT_BEDROCK_REGION or AWS_REGION"
            )
        self.model = model_id
        self.dimension = dimensions
        self.region = region
        self.endpoint_url = endpoint_url
        self.concurrency = concurrency
        self.max_retries = max_retries
        self.backoff = backoff
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bedrock")

    def client(self) -> Any:
        """The bedrock-runtime client, made at the first embedding rather than at start-up:
        importing boto3 and making a client adds ~0.2 s to every cold start of the wiki."""
        if self._client is not None:
            return self._client
        with self._client_lock:
            if self._client is None:
                try:
                    self._client = self._make_client()
                except Exception as e:  # noqa: BLE001 - a bad AWS_PROFILE, an old botocore, ...
                    raise EmbedderUnavailable(f"cannot make a Bedrock client: {e}") from None
            return self._client

    def _make_client(self) -> Any:
        import boto3
        from botocore.config import Config

        config = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},  # ours: see _invoke
            max_pool_connections=max(self.concurrency, 10),
            connect_timeout=5,
            read_timeout=30,
        )
        # a session of its own: boto3's default session caches credentials process-wide
        return boto3.session.Session().client(
            "bedrock-runtime",
            region_name=self.region,
            endpoint_url=self.endpoint_url,
            config=config,
        )

    def _invoke(self, text: str) -> list[float]:
        from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

        body = json.dumps({"inputText": text, "dimensions": self.dimension, "normalize": True})
        client = self.client()
        for attempt in range(self.max_retries + 1):
            try:
                response = client.invoke_model(
                    modelId=self.model,
                    body=body,
                    contentType="application/json",
                    accept="application/json",
                )
                return json.loads(response["body"].read())["embedding"]
            except (NoCredentialsError, PartialCredentialsError) as e:
                raise EmbedderUnavailable(f"no AWS credentials for Bedrock: {e}") from None
            except ClientError as e:
                code = e.response.get("Error", {}).get("Code", "")
                message = e.response.get("Error", {}).get("Message", str(e))
                if code in _RETRYABLE and attempt < self.max_retries:
                    time.sleep(self.backoff * (2**attempt) * (0.5 + random.random()))
                    continue
                raise EmbeddingFailed(f"Bedrock {code or 'error'}: {message}") from None
        raise EmbeddingFailed("Bedrock kept throttling; giving up")  # pragma: no cover

    def embed(self, texts: list[str]) -> Any:
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype="float32")
        rows = list(self._pool.map(self._invoke, [t if t.strip() else " " for t in texts]))
        vectors = np.asarray(rows, dtype="float32")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)
