"""wikibot on AWS Lambda: see docs/deploy.md. Run through ./pulumi.sh (its own state backend)."""

import pulumi
from wikibot_infra.program import build
from wikibot_infra.settings import from_config

for key, value in build(from_config(pulumi.Config())).items():
    pulumi.export(key, value)
