"""Where the functions' code lives: a private S3 bucket holding the two packages. Both zips are
over Lambda's 50 MB limit for a direct upload (see `wikibot build-lambda`), and code from S3 may
be up to 250 MB unzipped."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws


def code_hash(path: str) -> str | None:
    """Lambda's code hash (base64 SHA-256) of a package, so a rebuilt zip redeploys; None when the
    file is not there (previews and unit tests without a build)."""
    if not os.path.isfile(path):
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return base64.b64encode(digest.digest()).decode()


def _record(path: str) -> dict[str, Any] | None:
    """What `wikibot build-lambda` recorded in a package (None: no package, or not built so)."""
    if not os.path.isfile(path):
        return None
    with zipfile.ZipFile(path) as package:
        if "wikibot-package.json" not in package.namelist():
            return None
        return dict(json.loads(package.read("wikibot-package.json")))


def check_routes(path: str, here: dict[str, str]) -> None:
    """Refuse an MCP package whose routes would be planned from other code than it holds: the
    stack plans them with the MCP plugin and libraries installed here (`here`, from
    `routeplan.route_code()`), the package records its own."""
    packaged = (_record(path) or {}).get("routes")
    if packaged is None or packaged == here:
        return
    differ = ", ".join(
        f"{name} {packaged.get(name)} in the package, {here.get(name)} here"
        for name in sorted(set(packaged) | set(here))
        if packaged.get(name) != here.get(name)
    )
    raise ValueError(
        f"{path} was built from other MCP code than this environment plans its routes with "
        f"({differ}): rebuild it with `wikibot build-lambda --function mcp` here"
    )


def check_target(path: str, runtime: str, architecture: str) -> None:
    """Refuse a package built for another runtime or architecture than the stack deploys (its
    dependencies are byte code of one Python and wheels of one architecture); a package without
    the record (not built by `wikibot build-lambda`) is not checked."""
    target = _record(path)
    if target is None:
        return
    if (target.get("runtime"), target.get("architecture")) != (runtime, architecture):
        raise ValueError(
            f"{path} was built for {target.get('runtime')} on {target.get('architecture')}, "
            f"but the stack deploys {runtime} on {architecture}: rebuild it with "
            f"`wikibot build-lambda --python-version {runtime.removeprefix('python')} "
            f"--architecture {architecture}` or change "
            "wikibot:runtime / wikibot:architecture"
        )


AUTHORIZATION_SERVER_NEEDS = ("otterwiki_mcp", "fastmcp", "mcp", "a2wsgi")
"""What the wiki function runs in mcpAuth `wiki` (otterwiki_mcp.plugin.REQUIRED, and the plugin)."""


def check_serves_oauth(path: str) -> None:
    """Refuse a wiki package that cannot be the authorization server (mcpAuth `wiki`): without
    the MCP libraries the plugin stays off and /authorize, /token... would answer 404. A
    package not there yet (previews, tests) is not checked."""
    if not os.path.isfile(path):
        return
    with zipfile.ZipFile(path) as package:
        tops = {name.split("/", 1)[0] for name in package.namelist()}
    missing = [name for name in AUTHORIZATION_SERVER_NEEDS if name not in tops]
    if missing:
        raise ValueError(
            f"{path} has no {', '.join(missing)}: with wikibot:mcpAuth wiki the wiki function is "
            "the MCP authorization server and needs the MCP libraries (a wiki package built "
            "with the `mcp` extra)"
        )


@dataclass(frozen=True)
class CodeLocation:
    """Where a package is, taken from its upload's outputs: a function built on these waits for
    the upload and pins the object version it made (a later upload cannot slip in unseen)."""

    bucket: pulumi.Output[str]
    key: pulumi.Output[str]
    version: pulumi.Output[str]
    hash: str | None


def private_bucket(name: str, opts: pulumi.ResourceOptions) -> aws.s3.Bucket:
    """A bucket nobody outside the account reaches, emptied by `pulumi destroy` (it only holds
    what the stack can make again)."""
    bucket = aws.s3.Bucket(name, force_destroy=True, opts=opts)
    aws.s3.BucketPublicAccessBlock(
        f"{name}-private",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    return bucket


class CodeBucket(pulumi.ComponentResource):
    bucket: aws.s3.Bucket

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("wikibot:infra:CodeBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # packages can be rebuilt from the repository at any time: destroying the stack may empty it
        self.bucket = private_bucket(name, child)
        # versions: each deploy pins the exact object it uploaded
        aws.s3.BucketVersioningV2(
            f"{name}-versioning",
            bucket=self.bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.id})

    def upload(self, name: str, path: str) -> CodeLocation:
        """Put one package in the bucket under a fixed key; its hash drives redeploys."""
        digest = code_hash(path)
        upload = aws.s3.BucketObjectv2(
            f"{name}-code",
            bucket=self.bucket.id,
            key=f"{name}.zip",
            source=pulumi.FileAsset(path),
            source_hash=digest,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return CodeLocation(upload.bucket, upload.key, upload.version_id, digest)


def git_layer(
    name: str, code: CodeLocation, runtime: str, architecture: str, parent: pulumi.Resource
) -> aws.lambda_.LayerVersion:
    """The wiki function's git (`wikibot build-lambda` builds the zip: wikibot/git_layer.py)."""
    return aws.lambda_.LayerVersion(
        name,
        layer_name=name,
        s3_bucket=code.bucket,
        s3_key=code.key,
        s3_object_version=code.version,
        source_code_hash=code.hash,
        compatible_runtimes=[runtime],
        compatible_architectures=[architecture],
        description="git from Debian 12's package, for Otterwiki and wikibot",
        opts=pulumi.ResourceOptions(parent=parent),
    )
