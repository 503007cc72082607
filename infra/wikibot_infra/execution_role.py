"""The execution role and log group every function gets: logs go to a group this stack owns (with
a retention, so they do not pile up), and the role may write there and nowhere else."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from . import policies


@dataclass
class ExecutionRole:
    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    grants: list[pulumi.Resource]
    """What the function must wait for: its permissions exist before it is first invoked."""
    env_key_arn: pulumi.Input[str]
    """The key the function's environment (its secrets) is encrypted with; the role may decrypt."""


def execution_role(
    name: str,
    parent: pulumi.Resource,
    retention_days: int,
    env_key_arn: pulumi.Input[str],
    statements: pulumi.Input[Sequence[policies.Statement]] = (),
) -> ExecutionRole:
    """A role for one Lambda function: its own log group, decrypting its environment with
    `env_key_arn`, and `statements`, all inline (no AWS-managed policy: those grant on `*`)."""
    opts = pulumi.ResourceOptions(parent=parent)
    role = aws.iam.Role(f"{name}-role", assume_role_policy=policies.assume_role(), opts=opts)
    logs = aws.cloudwatch.LogGroup(f"{name}-logs", retention_in_days=retention_days, opts=opts)
    policy = pulumi.Output.all(logs.arn, env_key_arn, statements).apply(
        lambda args: policies.document(
            [policies.logging(args[0]), policies.decrypt_environment(args[1]), *args[2]]
        )
    )
    grants: list[pulumi.Resource] = [
        aws.iam.RolePolicy(f"{name}-policy", role=role.id, policy=policy, opts=opts)
    ]
    return ExecutionRole(role, logs, grants, env_key_arn)
