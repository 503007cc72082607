"""The whole stack, wired: network and storage for the wiki, the two functions, and the gateway
whose routes come from the route plan built under the functions' own environments (the wiki's
matters in mcpAuth `wiki`, where it serves the OAuth paths)."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from wikibot import routeplan

from . import policies
from .answers import LargeAnswers
from .artifacts import CodeBucket, check_routes, check_serves_oauth, check_target, git_layer
from .backups import Backups
from .gateway import Gateway
from .mcp_function import McpFunction, mcp_environment, plan_environment
from .network import Network
from .routes import GatewayRoutes
from .settings import StackSettings
from .storage import Storage
from .wiki_function import WikiFunction, wiki_environment


def build(settings: StackSettings, name: str = "wikibot") -> dict[str, Any]:
    """Create every resource; returns the stack outputs."""
    region = aws.get_region_output().region
    partition = aws.get_partition_output().partition
    model_arn = pulumi.Output.all(partition, region).apply(
        lambda pr: policies.model_arn(pr[0], pr[1], settings.bedrock_model_id)
    )

    gateway = Gateway(
        name,
        settings.domain,
        settings.hosted_zone_id,
        (settings.throttle_rate, settings.throttle_burst),
    )
    network = Network(f"{name}-net", settings.vpc_cidr, settings.az_count, model_arn)
    storage = Storage(f"{name}-storage", network)
    backups = None
    if settings.backups:
        backups = Backups(
            f"{name}-backups",
            storage.file_system.arn,
            settings.backup_schedule,
            settings.backup_retention_days,
        )
    for package in (settings.wiki_code, settings.mcp_code):
        check_target(package, settings.runtime, settings.architecture)
    check_routes(settings.mcp_code, routeplan.route_code())
    if settings.mcp_auth == "wiki":
        check_serves_oauth(settings.wiki_code)
    code = CodeBucket(f"{name}-code")
    wiki_code = code.upload(f"{name}-wiki", settings.wiki_code)
    layer_arn: pulumi.Input[str] | None = settings.git_layer_arn
    if layer_arn is None:
        layer_code = code.upload(f"{name}-git-layer", settings.git_layer)
        layer_arn = git_layer(
            f"{name}-git", layer_code, settings.runtime, settings.architecture, code
        ).arn
    answers = LargeAnswers(f"{name}-answers", network)
    # the functions' environments hold secrets: encrypted with a key of the stack's own
    env_key = aws.kms.Key(
        f"{name}-env-key",
        description="wikibot: the Lambda functions' environment (secrets)",
        enable_key_rotation=True,
    )
    wiki = WikiFunction(
        f"{name}-wiki",
        settings,
        network,
        storage,
        model_arn,
        wiki_code,
        layer_arn,
        answers,
        env_key,
        gateway.url,
    )
    env = mcp_environment(settings, gateway.url)
    mcp_code = code.upload(f"{name}-mcp", settings.mcp_code)
    mcp = McpFunction(f"{name}-mcp", settings, env, mcp_code, env_key)

    plan = routeplan.configured_plan(
        plan_environment(env, routeplan.PLACEHOLDER_URL),
        plan_environment(wiki_environment(settings), routeplan.PLACEHOLDER_URL),
    )
    functions = {routeplan.WIKI: wiki.function, routeplan.MCP: mcp.function}
    GatewayRoutes(f"{name}-routes", gateway.api, plan, functions)

    outputs: dict[str, Any] = {
        "url": gateway.url,
        "mcp_url": pulumi.Output.concat(gateway.url, routeplan.mcp_endpoint(plan)),
        "api_endpoint": gateway.api.api_endpoint,
        "wiki_function": wiki.function.name,
        "mcp_function": mcp.function.name,
        "file_system_id": storage.file_system.id,
        "code_bucket": code.bucket.id,
        "bedrock_model_arn": model_arn,
        "routes": {route.key: route.target for route in plan},
    }
    if backups is not None:
        outputs["backup_vault"] = backups.vault.name
    if gateway.domain_target is not None and not settings.hosted_zone_id:
        outputs["domain_cname_target"] = gateway.domain_target
    return outputs
