"""The Bedrock embedder: the real boto3 client against a local server on 127.0.0.1 that speaks
InvokeModel's wire format (AWS itself cannot be reached from here)."""

from __future__ import annotations

import numpy as np
import pytest
from otterwiki_search.bedrock import BedrockEmbedder
from otterwiki_search.embedding import EmbedderUnavailable, EmbeddingFailed
from search_helpers import FakeBedrock, fake_vector


@pytest.fixture
def aws_env(monkeypatch, tmp_path):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def test_request_bodies_dimensions_and_normalised_vectors(aws_env):
    with FakeBedrock() as fake:
        embedder = BedrockEmbedder(dimensions=256, region="eu-west-1", endpoint_url=fake.url)
        vectors = embedder.embed(["alpha", "beta"])
    assert vectors.shape == (2, 256) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], fake_vector("alpha", 256), atol=1e-6)
    assert sorted(r["inputText"] for r in fake.requests) == ["alpha", "beta"]
    assert all(
        r == {"inputText": r["inputText"], "dimensions": 256, "normalize": True}
        for r in fake.requests
    )
    assert set(fake.paths) == {"/model/amazon.titan-embed-text-v2%3A0/invoke"}


def test_many_texts_are_embedded_concurrently_within_the_bound(aws_env):
    with FakeBedrock(delay=0.05) as fake:
        embedder = BedrockEmbedder(region="us-east-1", endpoint_url=fake.url, concurrency=4)
        vectors = embedder.embed([f"text {i}" for i in range(24)])
    assert vectors.shape == (24, 1024)
    assert fake.max_in_flight == 4  # parallel, and never more than the bound


def test_throttling_is_retried_with_backoff(aws_env):
    with FakeBedrock(throttle=2) as fake:
        embedder = BedrockEmbedder(region="us-east-1", endpoint_url=fake.url, backoff=0.01)
        vectors = embedder.embed(["one", "two"])
    assert vectors.shape == (2, 1024)
    assert fake.throttled == 4 and len(fake.requests) == 6


def test_throttling_forever_gives_up_with_a_clear_error(aws_env):
    with FakeBedrock(throttle=100) as fake:
        embedder = BedrockEmbedder(
            region="us-east-1", endpoint_url=fake.url, backoff=0.001, max_retries=2
        )
        with pytest.raises(EmbeddingFailed, match="ThrottlingException"):
            embedder.embed(["x"])
    assert len(fake.requests) == 3


def test_other_4xx_is_not_retried(aws_env):
    with FakeBedrock() as fake:
        embedder = BedrockEmbedder(region="us-east-1", endpoint_url=fake.url)
        with pytest.raises(EmbeddingFailed, match="ValidationException: Malformed input"):
            embedder.embed(["INVALID"])
    assert len(fake.requests) == 1


def test_missing_region_and_credentials(monkeypatch, tmp_path):
    with pytest.raises(EmbedderUnavailable, match="region"):
        BedrockEmbedder(region=None)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with FakeBedrock() as fake:
        embedder = BedrockEmbedder(region="us-east-1", endpoint_url=fake.url)
        with pytest.raises(EmbedderUnavailable, match="credentials"):
            embedder.embed(["x"])
    assert fake.requests == []


def test_a_client_that_cannot_be_made_is_unavailable_not_a_crash(aws_env, monkeypatch):
    """The client is made at the first embedding; what stops it (here an AWS_PROFILE the config
    does not have) says so the way a missing region does, instead of escaping as a 500."""
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile")
    embedder = BedrockEmbedder(region="us-east-1", endpoint_url="http://127.0.0.1:9")
    with pytest.raises(EmbedderUnavailable, match="no-such-profile"):
        embedder.embed(["x"])
