"""The Otterwiki function: Otterwiki with the REST API and semantic search plugins (apig-wsgi,
`lambda_init.handler`), inside the VPC with the repository on EFS, git from a layer, and
embeddings from Bedrock through the VPC endpoint."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from lambda_init import DEFAULTS, MCP_STATE, MOUNT

from . import policies
from .answers import LargeAnswers
from .artifacts import CodeLocation
from .execution_role import execution_role
from .function import WIKI_TIMEOUT, lambda_function
from .network import Network
from .settings import StackSettings
from .storage import Storage

HANDLER = "lambda_init.handler"


def wiki_environment(
    settings: StackSettings, public_url: pulumi.Input[str] | None = None
) -> dict[str, pulumi.Input[str]]:
    """Otterwiki reads its own settings (REPOSITORY, SECRET_KEY...) from the environment too.
    With mcpAuth `wiki` the wiki is the MCP function's authorization server: its OAuth state
    and signing keys on EFS, its issuer the public URL (`public_url`)."""
    issuer: dict[str, pulumi.Input[str]] = {}
    if settings.mcp_auth == "wiki":
        issuer = {"WIKIBOT_MCP_AUTH": "wiki", "WIKIBOT_MCP_STATE_PATH": MCP_STATE}
        if public_url is not None:
            issuer["WIKIBOT_MCP_BASE_URL"] = public_url
    return {
        **DEFAULTS,  # the repository and database on the EFS mount, as lambda_init expects
        "SECRET_KEY": settings.secret_key,
        "WIKIBOT_API_KEY": settings.api_key,
        "WIKIBOT_SEARCH_EMBEDDER": "bedrock",
        "WIKIBOT_BEDROCK_MODEL_ID": settings.bedrock_model_id,
        "WIKIBOT_MCP_ENABLED": "false",  # the MCP function serves MCP
        # private unless the deployer chooses otherwise; only the owner becomes admin
        "WIKIBOT_ACCESS": settings.access,
        **({"WIKIBOT_OWNER_EMAIL": settings.owner_email} if settings.owner_email else {}),
        **{k: str(v) for k, v in (settings.otterwiki_settings or {}).items()},
        **issuer,
    }


class WikiFunction(pulumi.ComponentResource):
    function: aws.lambda_.Function

    def __init__(
        self,
        name: str,
        settings: StackSettings,
        network: Network,
        storage: Storage,
        model_arn: pulumi.Input[str],
        code: CodeLocation,
        git_layer_arn: pulumi.Input[str],
        answers: LargeAnswers,
        env_key: aws.kms.Key,
        public_url: pulumi.Input[str] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("wikibot:infra:WikiFunction", name, None, opts)
        statements = pulumi.Output.all(
            model_arn,
            storage.file_system.arn,
            storage.access_point.arn,
            answers.bucket.arn,
            network.function_sg.arn,
            *(subnet.arn for subnet in network.subnets),
        ).apply(
            lambda arns: [
                policies.invoke_model(arns[0]),
                policies.efs_client(arns[1], arns[2]),
                policies.large_answers(arns[3]),
                *policies.network_interfaces(list(arns[5:]), arns[4]),
            ]
        )
        role = execution_role(name, self, settings.log_retention_days, env_key.arn, statements)
        self.function = lambda_function(
            name,
            self,
            settings,
            role,
            code,
            HANDLER,
            settings.wiki_memory,
            WIKI_TIMEOUT,
            {
                **wiki_environment(settings, public_url),
                "WIKIBOT_LARGE_RESPONSE_BUCKET": answers.bucket.id,
            },
            # A function with a file system needs a mount target in its subnets to be created.
            depends_on=storage.mount_targets,
            layers=[git_layer_arn],
            vpc_config={
                "subnet_ids": [s.id for s in network.subnets],
                "security_group_ids": [network.function_sg.id],
            },
            file_system_config={"arn": storage.access_point.arn, "local_mount_path": MOUNT},
        )
        self.register_outputs({"name": self.function.name, "arn": self.function.arn})
