"""Reading one setting, the same way in every wikibot plugin: Otterwiki's Flask config first,
then the environment, then the default; typed, with the key named in any error."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def setting(config: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = config.get(key)
    if value is None or value == "":
        value = os.environ.get(key)
    return default if value is None or value == "" else value


def number_setting(
    config: Mapping[str, Any], key: str, default: float, minimum: float | None = 0
) -> float:
    value = setting(config, key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{key} must be at least {minimum}, got {number}")
    return number


def int_setting(config: Mapping[str, Any], key: str, default: int, minimum: int | None = 0) -> int:
    value = setting(config, key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ValueError(f"{key} must be at least {minimum}, got {number}")
    return number


def flag_setting(config: Mapping[str, Any], key: str, default: bool) -> bool:
    value = setting(config, key, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{key} must be true or false, got {value!r}")
