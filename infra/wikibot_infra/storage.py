"""The wiki's file system: one encrypted EFS file system holding the git repository, Otterwiki's
database and the search indexes, shared by every instance of the wiki function. The function
mounts it through one access point (a fixed POSIX user and root folder), and only the
function's security group may reach the mount targets."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from . import policies
from .network import NFS, Network

POSIX_UID = 1000
ROOT = "/wikibot"


class Storage(pulumi.ComponentResource):
    file_system: aws.efs.FileSystem
    access_point: aws.efs.AccessPoint
    mount_targets: list[aws.efs.MountTarget]

    def __init__(
        self, name: str, network: Network, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("wikibot:infra:Storage", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        mount_sg = aws.ec2.SecurityGroup(
            f"{name}-efs-sg",
            vpc_id=network.vpc.id,
            description="EFS mount targets: NFS from the wiki function",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-efs-ingress",
            security_group_id=mount_sg.id,
            ip_protocol="tcp",
            from_port=NFS,
            to_port=NFS,
            referenced_security_group_id=network.function_sg.id,
            opts=child,
        )
        # Elastic throughput costs nothing while idle, unlike provisioned throughput. The wiki
        # lives here: protected (a replacement or `pulumi destroy` stops instead of deleting
        # it; docs/deploy.md says how to remove it on purpose) and kept if ever deleted.
        self.file_system = aws.efs.FileSystem(
            f"{name}-fs",
            encrypted=True,
            performance_mode="generalPurpose",
            throughput_mode="elastic",
            tags={"Name": f"{name}-fs"},
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.access_point = aws.efs.AccessPoint(
            f"{name}-ap",
            file_system_id=self.file_system.id,
            posix_user={"uid": POSIX_UID, "gid": POSIX_UID},
            root_directory={
                "path": ROOT,
                "creation_info": {
                    "owner_uid": POSIX_UID,
                    "owner_gid": POSIX_UID,
                    "permissions": "750",
                },
            },
            opts=child,
        )
        aws.efs.FileSystemPolicy(
            f"{name}-policy",
            file_system_id=self.file_system.id,
            policy=pulumi.Output.all(self.file_system.arn, self.access_point.arn).apply(
                lambda arns: policies.file_system_policy(arns[0], arns[1])
            ),
            opts=child,
        )
        self.mount_targets = [
            aws.efs.MountTarget(
                f"{name}-mount-{i}",
                file_system_id=self.file_system.id,
                subnet_id=subnet.id,
                security_groups=[mount_sg.id],
                opts=child,
            )
            for i, subnet in enumerate(network.subnets)
        ]
        self.register_outputs(
            {"file_system_id": self.file_system.id, "access_point_id": self.access_point.id}
        )
