"""What both Lambda functions share: runtime, code from the stack's bucket, timeout, logs to the
role's log group, and waiting for the role's grants."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from .artifacts import CodeLocation
from .execution_role import ExecutionRole
from .settings import StackSettings

# Timeouts in order, so each caller outlives what it waits for and can answer an error:
# MCP -> wiki HTTP call < MCP function < the gateway's integration timeout (30 s, its maximum),
# and the wiki function ends before the gateway gives up on it.
GATEWAY_TIMEOUT = 30
WIKI_TIMEOUT = 28
MCP_TIMEOUT = 27
MCP_HTTP_TIMEOUT = 24  # WIKIBOT_MCP_HTTP_TIMEOUT of the MCP function


def lambda_function(
    name: str,
    parent: pulumi.Resource,
    settings: StackSettings,
    role: ExecutionRole,
    code: CodeLocation,
    handler: str,
    memory: int,
    timeout: int,
    environment: Mapping[str, pulumi.Input[str]],
    depends_on: Sequence[pulumi.Resource] = (),
    **extra: Any,
) -> aws.lambda_.Function:
    """One function; `extra` holds what only it has (layers, VPC, file system)."""
    return aws.lambda_.Function(
        name,
        role=role.role.arn,
        handler=handler,
        runtime=settings.runtime,
        architectures=[settings.architecture],
        s3_bucket=code.bucket,
        s3_key=code.key,
        s3_object_version=code.version,
        # Lambda's own CodeSha256 of the zip: a refresh sees code changed out of band too (a
        # source_code_hash is only compared with what the last `up` recorded)
        code_sha256=code.hash,
        memory_size=memory,
        timeout=timeout,
        environment={"variables": dict(environment)},
        kms_key_arn=role.env_key_arn,
        logging_config={"log_format": "Text", "log_group": role.log_group.name},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*role.grants, *depends_on]),
        **extra,
    )
