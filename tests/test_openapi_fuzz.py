"""Schema-driven fuzzing of /api/v1 with schemathesis, over real HTTP against the shared test wiki.

Every operation in /api/v1/openapi.json gets generated requests, valid (positive) and invalid
(negative), from the examples, coverage and fuzzing phases. Each response must not be a 5xx, must
use a documented status code and content type, must match the documented body schema, and
invalid input must be refused with a 4xx. Generation is deterministic (fixed seed, derandomized)
so a failure reproduces on the next run.

Generated writes land in the shared wiki under random page names; they do not collide with the
`unique` prefixes the other tests use.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from conftest import KEYS

# per operation in the fuzzing phase; raise WIKIBOT_FUZZ_EXAMPLES (and vary WIKIBOT_FUZZ_SEED) for a
# deeper run by hand
MAX_EXAMPLES = int(os.environ.get("WIKIBOT_FUZZ_EXAMPLES", "60"))
SEED = int(os.environ.get("WIKIBOT_FUZZ_SEED", "20240611"))
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "ignored_auth",
]

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": SEED,
        "suppress-health-check": ["too_slow", "data_too_large", "filter_too_much"],
        "headers": {"Authorization": f"Bearer {KEYS['admin']}"},
        "request-timeout": 30,
        "generation": {
            "mode": "all",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "checks": {
            "enabled": False,
            **{name: {"enabled": True} for name in CHECKS},
        },
    }
)


@pytest.fixture(scope="module")
def api_schema(live_url: str) -> Any:
    return schemathesis.openapi.from_url(f"{live_url}/api/v1/openapi.json", config=CONFIG)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.slow
@schema.parametrize()
def test_api_conforms_to_openapi(case: schemathesis.Case) -> None:
    case.call_and_validate()
