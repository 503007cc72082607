"""IAM policy documents, as plain data from resolved ARNs: each grants one function exactly the
actions it uses on exactly the resources it uses (no `*` action, and no `*` resource except for
the two EC2 Describe calls Lambda makes for a function in a VPC, which AWS allows only on `*`)."""

from __future__ import annotations

import json
from typing import Any

Statement = dict[str, Any]


def model_arn(partition: str, region: str, model_id: str) -> str:
    """The ARN of one Bedrock foundation model (no account: foundation models are AWS-owned)."""
    return f"arn:{partition}:bedrock:{region}::foundation-model/{model_id}"


def assume_role(service: str = "lambda.amazonaws.com") -> str:
    """Trust policy: only `service` may take the role."""
    statement = {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
    return document([statement])


def logging(log_group_arn: str) -> Statement:
    """Write log streams of the function's own log group (the group itself is Pulumi's)."""
    return {
        "Sid": "Logs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": [log_group_arn, f"{log_group_arn}:log-stream:*"],
    }


def network_interfaces(subnet_arns: list[str], security_group_arn: str) -> list[Statement]:
    """What Lambda does with the role to attach a function to its VPC (the actions of the
    managed AWSLambdaVPCAccessExecutionRole, without its logs on `*`): network interfaces
    created only in the function's subnets with its security group, and changed or deleted
    only in this account and region. DescribeNetworkInterfaces and DescribeSubnets have no
    resource-level permissions: AWS documents `*` as the only resource that works for them."""
    account = ":".join(subnet_arns[0].split(":")[:5])  # arn:PARTITION:ec2:REGION:ACCOUNT
    interfaces = f"{account}:network-interface/*"
    return [
        {
            "Sid": "CreateInterfaces",
            "Effect": "Allow",
            "Action": "ec2:CreateNetworkInterface",
            "Resource": [interfaces, *subnet_arns, security_group_arn],
        },
        {
            "Sid": "ManageInterfaces",
            "Effect": "Allow",
            "Action": [
                "ec2:AssignPrivateIpAddresses",
                "ec2:DeleteNetworkInterface",
                "ec2:UnassignPrivateIpAddresses",
            ],
            "Resource": interfaces,
        },
        {
            "Sid": "DescribeNetwork",
            "Effect": "Allow",
            "Action": ["ec2:DescribeNetworkInterfaces", "ec2:DescribeSubnets"],
            "Resource": "*",
        },
    ]


def invoke_model(arn: str) -> Statement:
    """Embed texts with the one configured model."""
    return {"Sid": "Embed", "Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": arn}


def efs_client(file_system_arn: str, access_point_arn: str) -> Statement:
    """Mount and write the wiki's file system, only through its access point."""
    return {
        "Sid": "Repository",
        "Effect": "Allow",
        "Action": ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"],
        "Resource": file_system_arn,
        "Condition": {
            "StringEquals": {"elasticfilesystem:AccessPointArn": access_point_arn},
        },
    }


def decrypt_environment(key_arn: str) -> Statement:
    """Read the function's own environment, encrypted with the stack's key (its secrets are
    then unreadable to whoever may only call lambda:GetFunctionConfiguration)."""
    return {"Sid": "Environment", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn}


def large_answers(bucket_arn: str) -> Statement:
    """Store and read back answers too large for Lambda, in their bucket's one prefix."""
    return {
        "Sid": "LargeAnswers",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": f"{bucket_arn}/answers/*",
    }


def answers_endpoint_policy(bucket_arn: str) -> str:
    """The S3 gateway endpoint carries the answers bucket's objects and nothing else."""
    statement = {**large_answers(bucket_arn), "Principal": {"AWS": "*"}}
    return document([statement])


def file_system_policy(file_system_arn: str, access_point_arn: str) -> str:
    """The wiki's file system refuses clients without TLS, and any mount or write not through
    its one access point (whatever an identity policy elsewhere would allow)."""
    actions = ["elasticfilesystem:ClientMount", "elasticfilesystem:ClientWrite"]
    return document(
        [
            {
                "Sid": "TlsOnly",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": [*actions, "elasticfilesystem:ClientRootAccess"],
                "Resource": file_system_arn,
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
            {
                "Sid": "AccessPointOnly",
                "Effect": "Deny",
                "Principal": {"AWS": "*"},
                "Action": actions,
                "Resource": file_system_arn,
                "Condition": {
                    "StringNotEquals": {"elasticfilesystem:AccessPointArn": access_point_arn}
                },
            },
        ]
    )


def endpoint_policy(arn: str) -> str:
    """The Bedrock VPC endpoint carries InvokeModel calls for the one model and nothing else."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "bedrock:InvokeModel",
        "Resource": arn,
    }
    return document([statement])


def document(statements: list[Statement]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, sort_keys=True)
