"""A local wiki under one data folder: git repository, Otterwiki settings, database, API key.

Otterwiki configures itself when `otterwiki.server` is first imported, from the file named by
OTTERWIKI_SETTINGS, so everything here happens before that import.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DataDir:
    root: str

    @property
    def repository(self) -> str:
        return os.path.join(self.root, "repository")

    @property
    def settings(self) -> str:
        return os.path.join(self.root, "settings.cfg")

    @property
    def database(self) -> str:
        return os.path.join(self.root, "otterwiki.db")

    @property
    def secret_file(self) -> str:
        """Flask's secret key, kept across restarts (sessions survive them)."""
        return self.settings + ".secret"

    @property
    def api_key_file(self) -> str:
        return os.path.join(self.root, "api-key")

    @property
    def mcp_state(self) -> str:
        """The local OAuth server's clients and tokens, so MCP logins survive a restart."""
        return os.path.join(self.root, "mcp-oauth.json")


def prepare(root: str, extra_settings: dict[str, Any] | None = None) -> DataDir:
    """Create (or reuse) the data folder; keeps an existing secret key and repository."""
    data = DataDir(os.path.abspath(root))
    os.makedirs(data.repository, exist_ok=True)
    if not os.path.isdir(os.path.join(data.repository, ".git")):
        subprocess.run(["git", "init", "-q", data.repository], check=True)
    _private_file(data.database)  # accounts and password hashes: SQLite keeps the mode it finds
    secret = _read(data.secret_file) or secrets.token_hex(32)
    _write_private(data.secret_file, secret)
    settings = {
        "REPOSITORY": data.repository,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data.database}",
        "SITE_NAME": "wikibot",
        **(extra_settings or {}),
    }
    _write_private(data.settings, "".join(f"{k} = {v!r}\n" for k, v in settings.items()))
    return data


def saved_api_key(data: DataDir) -> str | None:
    """WIKIBOT_API_KEY, else the key saved in the data folder (None: neither)."""
    return os.environ.get("WIKIBOT_API_KEY") or _read(data.api_key_file) or None


def api_key(data: DataDir) -> tuple[str, bool]:
    """(key, generated): WIKIBOT_API_KEY, else the one saved in the data folder, else a new one."""
    stored = saved_api_key(data)
    if stored:
        return stored, False
    key = secrets.token_urlsafe(32)
    _write_private(data.api_key_file, key)
    return key, True


def create_app(data: DataDir) -> Any:
    """Import Otterwiki configured for this data folder, with every wikibot plugin loaded, and
    the access preset of WIKIBOT_ACCESS (lambda_init.apply_access_preset)."""
    from lambda_init import apply_access_preset

    apply_access_preset()
    os.environ["OTTERWIKI_SETTINGS"] = data.settings
    import otterwiki_api  # noqa: F401  (registers itself; works without entry points too)
    import otterwiki_mcp  # noqa: F401
    import otterwiki_search  # noqa: F401
    from otterwiki.server import app

    return app


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or None
    except FileNotFoundError:
        return None


def _private_file(path: str) -> None:
    """Create `path` empty and 0600 if it is not there (an empty file is a new SQLite database)."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _write_private(path: str, value: str) -> None:
    """A file only its owner reads (it holds a secret), even if it existed with a wider mode."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(value if value.endswith("\n") else value + "\n")
