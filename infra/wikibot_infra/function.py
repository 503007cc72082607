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

TIMEOUT = 30  # seconds: the HTTP API's integration timeout, its maximum


def lambda_function(
    name: str,
    parent: pulumi.Resource,
    settings: StackSettings,
    role: ExecutionRole,
    code: CodeLocation,
    handler: str,
    memory: int,
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
        source_code_hash=code.hash,
        memory_size=memory,
        timeout=TIMEOUT,
        environment={"variables": dict(environment)},
        logging_config={"log_format": "Text", "log_group": role.log_group.name},
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*role.grants, *depends_on]),
        **extra,
    )
