"""A real S3 implementation on 127.0.0.1 for `wikibot serve`'s gateway mode: moto's server.

On Lambda the wiki function hands answers over 6 MB out through an S3 bucket (lambda_init's
`hand_off`); locally the same code, with the boto3 client unchanged, talks to this server
through AWS_ENDPOINT_URL_S3, so large attachments download as they will once deployed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

BUCKET = "wikibot-large-answers"


@dataclass
class LocalS3:
    server: Any
    url: str

    def stop(self) -> None:
        self.server.stop()


def start(host: str = "127.0.0.1") -> LocalS3 | None:
    """Start moto's S3 on a free port with the answers bucket, and point this process's boto3
    at it; None (large answers then fail clearly) when moto is not installed."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        return None
    server = ThreadedMotoServer(ip_address=host, port=0, verbose=False)
    server.start()
    address, port = server.get_host_and_port()
    url = f"http://{address}:{port}"
    os.environ["AWS_ENDPOINT_URL_S3"] = url
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    if not os.environ.get("AWS_ACCESS_KEY_ID"):  # moto takes any; real ones stay for Bedrock
        os.environ["AWS_ACCESS_KEY_ID"] = os.environ["AWS_SECRET_ACCESS_KEY"] = "wikibot-local"
    boto3.client("s3", endpoint_url=url).create_bucket(Bucket=BUCKET)
    os.environ.setdefault("WIKIBOT_LARGE_RESPONSE_BUCKET", BUCKET)
    return LocalS3(server, url)
