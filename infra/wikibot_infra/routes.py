"""The routes of the HTTP API, one per entry of the route plan (`wikibot.routeplan`), each to a
Lambda proxy integration (payload format 2.0) of its target function. Nothing here names a path:
the plan comes from the paths the MCP app declares."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from wikibot.routeplan import Route

from .function import GATEWAY_TIMEOUT

INTEGRATION_TIMEOUT_MS = GATEWAY_TIMEOUT * 1000


def resource_suffix(route_key: str) -> str:
    """A readable, stable, unique resource name part for a route key."""
    slug = re.sub(r"[^a-z0-9]+", "-", route_key.lower()).strip("-") or "root"
    return f"{slug[:40]}-{hashlib.sha1(route_key.encode()).hexdigest()[:6]}"


class GatewayRoutes(pulumi.ComponentResource):
    integrations: dict[str, aws.apigatewayv2.Integration]
    routes: dict[str, aws.apigatewayv2.Route]

    def __init__(
        self,
        name: str,
        api: aws.apigatewayv2.Api,
        plan: Sequence[Route],
        functions: Mapping[str, aws.lambda_.Function],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("wikibot:infra:GatewayRoutes", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        missing = {r.target for r in plan} - set(functions)
        if missing:
            raise ValueError(f"the route plan targets functions not deployed: {sorted(missing)}")

        self.integrations = {}
        for target in sorted({r.target for r in plan}):
            function = functions[target]
            self.integrations[target] = aws.apigatewayv2.Integration(
                f"{name}-{target}",
                api_id=api.id,
                integration_type="AWS_PROXY",
                integration_method="POST",
                integration_uri=function.invoke_arn,
                payload_format_version="2.0",
                timeout_milliseconds=INTEGRATION_TIMEOUT_MS,
                opts=child,
            )
            aws.lambda_.Permission(
                f"{name}-{target}-invoke",
                action="lambda:InvokeFunction",
                function=function.name,
                principal="apigateway.amazonaws.com",
                source_arn=pulumi.Output.concat(api.execution_arn, "/*/*"),
                opts=child,
            )

        self.routes = {
            route.key: aws.apigatewayv2.Route(
                f"{name}-{resource_suffix(route.key)}",
                api_id=api.id,
                route_key=route.key,
                target=pulumi.Output.concat("integrations/", self.integrations[route.target].id),
                opts=child,
            )
            for route in plan
        }
        self.register_outputs({"route_keys": sorted(self.routes)})
