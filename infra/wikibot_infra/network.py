"""The wiki function's private network: a VPC with private subnets only (no internet gateway, no
NAT gateway), a security group for the function, and an interface endpoint so the function
reaches Bedrock without internet access. The MCP function stays outside: it must reach the
identity provider on the internet, which here would need a NAT gateway (~$33/month at rest)."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_aws as aws

from . import policies

HTTPS, NFS = 443, 2049


def subnet_cidrs(vpc_cidr: str, count: int) -> list[str]:
    """`count` equal subnets at the start of the VPC's range (each a sixteenth of it)."""
    network = ipaddress.ip_network(vpc_cidr)
    return [str(s) for s in network.subnets(prefixlen_diff=4)][:count]


def usable_zones(available: list[str], with_bedrock: list[str], count: int) -> list[str]:
    """The first `count` zones that need no opt-in and offer the Bedrock endpoint."""
    zones = [z for z in available if z in set(with_bedrock)]
    if len(zones) < count:
        raise ValueError(
            f"wikibot:azCount is {count}, but only {len(zones)} zone(s) of this region need no "
            f"opt-in and offer bedrock-runtime ({', '.join(zones) or 'none'}): lower azCount"
        )
    return zones[:count]


class Network(pulumi.ComponentResource):
    vpc: aws.ec2.Vpc
    subnets: list[aws.ec2.Subnet]
    function_sg: aws.ec2.SecurityGroup
    bedrock_endpoint: aws.ec2.VpcEndpoint

    def __init__(
        self,
        name: str,
        cidr: str,
        az_count: int,
        model_arn: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("wikibot:infra:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        invoke = pulumi.InvokeOutputOptions(parent=self)
        # zones that need no opt-in (Local and Wavelength Zones sort first and would be taken)
        # and that offer the Bedrock endpoint service the function depends on
        available = aws.get_availability_zones_output(
            state="available",
            filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=invoke,
        ).names
        bedrock = aws.ec2.get_vpc_endpoint_service_output(
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".bedrock-runtime"),
            opts=invoke,
        ).availability_zones
        zones = pulumi.Output.all(available, bedrock).apply(
            lambda found: usable_zones(found[0], found[1], az_count)
        )

        # DNS support and host names are what private DNS of an interface endpoint needs.
        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=cidr,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{name}-vpc"},
            opts=child,
        )
        self.subnets = [
            aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=self.vpc.id,
                cidr_block=block,
                availability_zone=zones[i],
                map_public_ip_on_launch=False,
                tags={"Name": f"{name}-private-{i}"},
                opts=child,
            )
            for i, block in enumerate(subnet_cidrs(cidr, az_count))
        ]

        # The function only talks to the endpoint (HTTPS) and to EFS (NFS), inside the VPC.
        self.function_sg = aws.ec2.SecurityGroup(
            f"{name}-function-sg",
            vpc_id=self.vpc.id,
            description="wiki function: HTTPS to the Bedrock endpoint, NFS to EFS",
            opts=child,
        )
        for port in (HTTPS, NFS):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-function-egress-{port}",
                security_group_id=self.function_sg.id,
                ip_protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_ipv4=cidr,
                opts=child,
            )

        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-bedrock-sg",
            vpc_id=self.vpc.id,
            description="Bedrock runtime endpoint: HTTPS from the wiki function",
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-bedrock-ingress",
            security_group_id=endpoint_sg.id,
            ip_protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            referenced_security_group_id=self.function_sg.id,
            opts=child,
        )
        self.bedrock_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-bedrock",
            vpc_id=self.vpc.id,
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".bedrock-runtime"),
            vpc_endpoint_type="Interface",
            private_dns_enabled=True,
            subnet_ids=[s.id for s in self.subnets],
            security_group_ids=[endpoint_sg.id],
            policy=pulumi.Output.from_input(model_arn).apply(policies.endpoint_policy),
            opts=child,
        )
        self.register_outputs({"vpc_id": self.vpc.id, "subnet_ids": [s.id for s in self.subnets]})
