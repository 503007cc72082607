"""The one public entry point: an HTTP API with its `$default` stage (deploys every route change by
itself) and, when a domain is configured, the custom domain with its ACM certificate and API
mapping. Routes are attached separately (`routes.py`) because the functions need this API's URL
before the routes can point at them."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws


class Gateway(pulumi.ComponentResource):
    api: aws.apigatewayv2.Api
    stage: aws.apigatewayv2.Stage
    url: pulumi.Output[str]
    """The public origin: https://<domain>, else the API's own execute-api URL."""
    domain_target: pulumi.Output[str] | None = None
    """Where to point the domain (CNAME or alias) when this stack does not manage its DNS."""

    def __init__(
        self,
        name: str,
        domain: str | None = None,
        hosted_zone_id: str | None = None,
        throttle: tuple[int, int] = (50, 100),
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("wikibot:infra:Gateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # with a custom domain, the execute-api address would be a second way in, around it
        self.api = aws.apigatewayv2.Api(
            f"{name}-api",
            protocol_type="HTTP",
            disable_execute_api_endpoint=bool(domain),
            opts=child,
        )
        rate, burst = throttle  # requests per second and burst for the whole API: a limit on
        self.stage = aws.apigatewayv2.Stage(  # what an outsider can make the functions do
            f"{name}-stage",
            api_id=self.api.id,
            name="$default",
            auto_deploy=True,
            default_route_settings={
                "throttling_rate_limit": rate,
                "throttling_burst_limit": burst,
            },
            opts=child,
        )
        self.url = self.api.api_endpoint
        if domain:
            self.url = pulumi.Output.from_input(f"https://{domain}")
            self._custom_domain(name, domain, hosted_zone_id, child)
        self.register_outputs({"url": self.url})

    def _custom_domain(
        self, name: str, domain: str, zone_id: str | None, child: pulumi.ResourceOptions
    ) -> None:
        """Certificate (DNS-validated), domain name, mapping to the stage; with a Route 53 zone
        also the validation record and the alias record, else those are created by hand while
        `pulumi up` waits for the certificate (see docs/deploy.md)."""
        cert = aws.acm.Certificate(
            f"{name}-cert", domain_name=domain, validation_method="DNS", opts=child
        )
        record_fqdns: list[pulumi.Input[str]] | None = None
        if zone_id:
            option = cert.domain_validation_options[0]
            validation_record = aws.route53.Record(
                f"{name}-cert-validation",
                zone_id=zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
            record_fqdns = [validation_record.fqdn]
        validated = aws.acm.CertificateValidation(
            f"{name}-cert-issued",
            certificate_arn=cert.arn,
            validation_record_fqdns=record_fqdns,
            opts=child,
        )
        domain_name = aws.apigatewayv2.DomainName(
            f"{name}-domain",
            domain_name=domain,
            domain_name_configuration={
                "certificate_arn": validated.certificate_arn,
                "endpoint_type": "REGIONAL",
                "security_policy": "TLS_1_2",
            },
            opts=child,
        )
        aws.apigatewayv2.ApiMapping(
            f"{name}-mapping",
            api_id=self.api.id,
            domain_name=domain_name.id,
            stage=self.stage.id,
            opts=child,
        )
        target = domain_name.domain_name_configuration
        self.domain_target = target.target_domain_name
        if zone_id:
            aws.route53.Record(
                f"{name}-alias",
                zone_id=zone_id,
                name=domain,
                type="A",
                aliases=[
                    {
                        "name": target.target_domain_name,
                        "zone_id": target.hosted_zone_id,
                        "evaluate_target_health": False,
                    }
                ],
                opts=child,
            )
