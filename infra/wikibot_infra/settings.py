"""Every setting of the stack, read once from `pulumi.Config` (namespace `wikibot`).

The components take a StackSettings, never a Config, so tests build one directly. Secrets stay
Pulumi secrets (Outputs) all the way into the Lambda environment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

MCP_AUTH_MODES = ("authkit", "wiki", "tokens")
ACCESS_PRESETS = ("private", "public", "open")  # lambda_init.ACCESS_PRESETS
# Otterwiki settings a deployer may set beside the preset (Otterwiki reads them from the
# environment); the preset fills the access ones they leave out
OTTERWIKI_SETTINGS = (
    "SITE_NAME",
    "SITE_DESCRIPTION",
    "READ_ACCESS",
    "WRITE_ACCESS",
    "ATTACHMENT_ACCESS",
    "AUTO_APPROVAL",
    "DISABLE_REGISTRATION",
    "EMAIL_NEEDS_CONFIRMATION",
    "NOTIFY_ADMINS_ON_REGISTER",
    "RETAIN_PAGE_NAME_CASE",
)
DEFAULT_MODEL = "amazon.titan-embed-text-v2:0"


@dataclass(frozen=True)
class StackSettings:
    secret_key: pulumi.Input[str]
    api_key: pulumi.Input[str]
    git_layer_arn: str | None = None  # without one the stack makes the layer from git_layer
    git_layer: str = "../build/lambda-git-layer.zip"
    mcp_auth: str = "authkit"
    authkit_domain: str | None = None
    mcp_token: pulumi.Input[str] | None = None
    domain: str | None = None
    hosted_zone_id: str | None = None
    bedrock_model_id: str = DEFAULT_MODEL
    wiki_memory: int = 1024
    mcp_memory: int = 512
    wiki_code: str = "../build/lambda-wiki.zip"
    mcp_code: str = "../build/lambda-mcp.zip"
    runtime: str = "python3.12"
    architecture: str = "x86_64"
    az_count: int = 2
    vpc_cidr: str = "10.42.0.0/16"
    log_retention_days: int = 30
    throttle_rate: int = 50  # requests per second over the whole API
    throttle_burst: int = 100
    backups: bool = True
    backup_schedule: str = "cron(0 3 * * ? *)"  # daily, 03:00 UTC
    backup_retention_days: int = 35
    access: str = "private"
    owner_email: str | None = None
    otterwiki_settings: dict[str, str] | None = None

    def __post_init__(self) -> None:
        if self.mcp_auth not in MCP_AUTH_MODES:
            raise ValueError(
                f"wikibot:mcpAuth must be one of {MCP_AUTH_MODES}, got {self.mcp_auth!r} "
                "(`local` keeps the OAuth state in the MCP function, which has no shared storage: "
                "`wiki` makes the wiki function, on EFS, the authorization server)"
            )
        if self.mcp_auth == "authkit" and not self.authkit_domain:
            raise ValueError("wikibot:mcpAuth=authkit needs wikibot:authkitDomain")
        if self.mcp_auth == "tokens" and self.mcp_token is None:
            raise ValueError("wikibot:mcpAuth=tokens needs the secret wikibot:mcpToken")
        if self.hosted_zone_id and not self.domain:
            raise ValueError("wikibot:hostedZoneId needs wikibot:domain")
        if not 1 <= self.az_count <= 3:
            raise ValueError("wikibot:azCount must be 1, 2 or 3")
        if self.throttle_rate < 1 or self.throttle_burst < 1:
            raise ValueError("wikibot:throttleRate and wikibot:throttleBurst must be at least 1")
        if self.backup_retention_days < 1:
            raise ValueError("wikibot:backupRetentionDays must be at least 1")
        if self.access not in ACCESS_PRESETS:
            raise ValueError(f"wikibot:access must be one of {ACCESS_PRESETS}, got {self.access!r}")
        unknown = sorted(set(self.otterwiki_settings or {}) - set(OTTERWIKI_SETTINGS))
        if unknown:
            raise ValueError(
                f"wikibot:otterwiki takes {', '.join(OTTERWIKI_SETTINGS)}; not {', '.join(unknown)}"
            )


def from_config(config: pulumi.Config) -> StackSettings:
    """StackSettings from the stack's configuration; absent keys take the defaults above."""
    optional: dict[str, Any] = {
        "git_layer_arn": config.get("gitLayerArn"),
        "git_layer": config.get("gitLayer"),
        "mcp_auth": config.get("mcpAuth"),
        "authkit_domain": config.get("authkitDomain"),
        "mcp_token": config.get_secret("mcpToken"),
        "domain": config.get("domain"),
        "hosted_zone_id": config.get("hostedZoneId"),
        "bedrock_model_id": config.get("bedrockModelId"),
        "wiki_memory": config.get_int("wikiMemory"),
        "mcp_memory": config.get_int("mcpMemory"),
        "wiki_code": config.get("wikiCode"),
        "mcp_code": config.get("mcpCode"),
        "runtime": config.get("runtime"),
        "architecture": config.get("architecture"),
        "az_count": config.get_int("azCount"),
        "vpc_cidr": config.get("vpcCidr"),
        "log_retention_days": config.get_int("logRetentionDays"),
        "throttle_rate": config.get_int("throttleRate"),
        "throttle_burst": config.get_int("throttleBurst"),
        "backups": config.get_bool("backups"),
        "backup_schedule": config.get("backupSchedule"),
        "backup_retention_days": config.get_int("backupRetentionDays"),
        "access": config.get("access"),
        "owner_email": config.get("ownerEmail"),
        "otterwiki_settings": config.get_object("otterwiki"),
    }
    return StackSettings(
        secret_key=config.require_secret("secretKey"),
        api_key=config.require_secret("apiKey"),
        **{k: v for k, v in optional.items() if v is not None},
    )
