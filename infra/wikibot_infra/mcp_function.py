"""The MCP function: the MCP app over the REST API (Mangum, `lambda_init.mcp_handler`). It runs
outside any VPC because it must reach the identity provider on the internet (WorkOS AuthKit, or
in mcpAuth `wiki` the wiki's published keys through the public URL), and
it needs no AWS permission beyond its logs: it reaches the wiki through the public API with an
API key."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws

from .artifacts import CodeLocation
from .execution_role import execution_role
from .function import MCP_HTTP_TIMEOUT, MCP_TIMEOUT, lambda_function
from .settings import StackSettings

HANDLER = "lambda_init.mcp_handler"


def mcp_environment(
    settings: StackSettings, public_url: pulumi.Input[str]
) -> dict[str, pulumi.Input[str]]:
    """The MCP app's whole configuration; the route plan is built from this same mapping."""
    env: dict[str, pulumi.Input[str]] = {
        "WIKIBOT_API_URL": public_url,
        "WIKIBOT_API_KEY": settings.api_key,
        "WIKIBOT_MCP_AUTH": settings.mcp_auth,
        "WIKIBOT_MCP_BASE_URL": public_url,
        # the call to the wiki gives up before this function is stopped: the model gets an error
        "WIKIBOT_MCP_HTTP_TIMEOUT": str(MCP_HTTP_TIMEOUT),
    }
    if settings.authkit_domain:
        env["WIKIBOT_MCP_AUTHKIT_DOMAIN"] = settings.authkit_domain
    if settings.mcp_token is not None:
        env["WIKIBOT_MCP_TOKEN"] = settings.mcp_token
    return env


def plan_environment(env: Mapping[str, pulumi.Input[str]], placeholder_url: str) -> dict[str, str]:
    """`env` with every value not known yet (outputs, secrets) replaced by a stand-in: none of
    them changes which paths the MCP app serves."""
    urls = ("WIKIBOT_API_URL", "WIKIBOT_MCP_BASE_URL")
    return {
        key: value if isinstance(value, str) else placeholder_url if key in urls else "placeholder"
        for key, value in env.items()
    }


class McpFunction(pulumi.ComponentResource):
    function: aws.lambda_.Function

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        environment: Mapping[str, pulumi.Input[str]],
        code: CodeLocation,
        env_key: aws.kms.Key,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("wikibot:infra:McpFunction", name, None, opts)
        role = execution_role(name, self, settings.log_retention_days, env_key.arn)
        self.function = lambda_function(
            name,
            self,
            settings,
            role,
            code,
            HANDLER,
            settings.mcp_memory,
            MCP_TIMEOUT,
            environment,
        )
        self.register_outputs({"name": self.function.name, "arn": self.function.arn})
