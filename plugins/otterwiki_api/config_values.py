"""Reading one setting, the same way in every wikibot plugin: Otterwiki's Flask config first,
then the environment, then the default; typed, with the key named in any error."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any


def setting(config: Mapping[str, Any], key: str, default: Any = None) -> Any:
    value = config.get(key)
    if value is None or value == "":
        value = os.environ.get(key)
    return default if value is None or value == "" else value


def number_setting(
    config: Mapping[str, Any], key: str, default: float, minimum: float = 0
) -> float:
    return _bounded(config, key, default, minimum, float, "a number")


def int_setting(config: Mapping[str, Any], key: str, default: int, minimum: int = 0) -> int:
    return _bounded(config, key, default, minimum, int, "an integer")


def _bounded(
    config: Mapping[str, Any],
    key: str,
    default: Any,
    minimum: float,
    convert: Callable[[Any], Any],
    kind: str,
) -> Any:
    value = setting(config, key, default)
    try:
        number = convert(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be {kind}, got {value!r}") from None
    if number < minimum:
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
