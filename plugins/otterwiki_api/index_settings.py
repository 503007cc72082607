"""How the page index's first build shares time with requests: read once, from the Flask config
or the environment (`config_values`)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config_values import flag_setting, int_setting, number_setting


@dataclass(frozen=True)
class BuildSettings:
    step_budget: float  # seconds a request may spend building (at least one batch is done)
    batch_pages: int  # pages per build batch: one SQLite transaction, the unit of progress
    background: bool  # continue in a thread after a request (never on Lambda: it is frozen)

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> BuildSettings:
        config = config or {}
        return cls(
            step_budget=number_setting(config, "WIKIBOT_INDEX_STEP_BUDGET", 1.0),
            batch_pages=int_setting(config, "WIKIBOT_INDEX_BATCH_PAGES", 250, minimum=1),
            background=flag_setting(config, "WIKIBOT_INDEX_BACKGROUND", True)
            and not os.environ.get("AWS_LAMBDA_FUNCTION_NAME"),
        )
