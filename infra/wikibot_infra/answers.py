"""Where answers too large for Lambda (6 MB) go: a private, encrypted bucket whose objects
expire after a day, reached from the wiki function's VPC (which has no internet) through an S3
gateway endpoint that only carries this bucket's objects. The function stores an answer under
its content's hash and redirects the client to a presigned URL (lambda_init's `hand_off`)."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from . import policies
from .artifacts import private_bucket
from .network import Network

EXPIRE_DAYS = 1  # presigned URLs last minutes; a repeat within a day costs no upload


class LargeAnswers(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    endpoint: aws.ec2.VpcEndpoint

    def __init__(
        self, name: str, network: Network, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("wikibot:infra:LargeAnswers", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bucket = private_bucket(name, child)  # only copies of what the wiki holds
        aws.s3.BucketServerSideEncryptionConfigurationV2(
            f"{name}-encryption",
            bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child,
        )
        aws.s3.BucketLifecycleConfigurationV2(
            f"{name}-expiry",
            bucket=self.bucket.id,
            rules=[
                {
                    "id": "expire",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": EXPIRE_DAYS},
                }
            ],
            opts=child,
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=network.vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            vpc_endpoint_type="Gateway",
            route_table_ids=[network.vpc.main_route_table_id],
            policy=self.bucket.arn.apply(policies.answers_endpoint_policy),
            opts=child,
        )
        self.register_outputs({"bucket": self.bucket.id})
