"""What the REST routes need at request time, built once by the plugin's `setup` hook."""

from __future__ import annotations

from dataclasses import dataclass

from .auth import KeyRing
from .service import WikiService
from .settings import ApiSettings


@dataclass
class ApiRuntime:
    settings: ApiSettings
    service: WikiService
    keys: KeyRing
