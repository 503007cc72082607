"""Backups of the wiki's file system (the git repository, Otterwiki's database, the indexes):
an AWS Backup vault, a plan on a schedule with a retention, and the file system selected into
it. `pulumi destroy`, a bad deploy or a broken write can then be undone from a recovery point;
docs/deploy.md describes the restore."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws

BACKUP_SERVICE_POLICY = "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"
RESTORE_SERVICE_POLICY = (
    "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForRestores"
)


class Backups(pulumi.ComponentResource):
    vault: aws.backup.Vault
    plan: aws.backup.Plan
    selection: aws.backup.Selection

    def __init__(
        self,
        name: str,
        file_system_arn: pulumi.Input[str],
        schedule: str,
        retention_days: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("wikibot:infra:Backups", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.vault = aws.backup.Vault(f"{name}-vault", opts=child)
        self.plan = aws.backup.Plan(
            f"{name}-plan",
            rules=[
                {
                    "rule_name": "wiki",
                    "target_vault_name": self.vault.name,
                    "schedule": schedule,
                    "start_window": 60,
                    "completion_window": 360,
                    "lifecycle": {"delete_after": retention_days},
                }
            ],
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "backup.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            opts=child,
        )
        for i, policy in enumerate((BACKUP_SERVICE_POLICY, RESTORE_SERVICE_POLICY)):
            aws.iam.RolePolicyAttachment(
                f"{name}-role-{i}", role=role.name, policy_arn=policy, opts=child
            )
        self.selection = aws.backup.Selection(
            f"{name}-selection",
            plan_id=self.plan.id,
            iam_role_arn=role.arn,
            resources=[file_system_arn],
            opts=child,
        )
        self.register_outputs({"vault": self.vault.name, "plan": self.plan.id})
