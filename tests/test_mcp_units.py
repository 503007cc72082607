"""The MCP plugin's small pure parts: settings validation and markdown sections."""

from __future__ import annotations

import json

import pytest
from otterwiki_api.auth import hash_key as hash_token
from otterwiki_api.sections import extract_section, headings
from otterwiki_mcp.settings import DEFAULT_TOKEN_AUTHOR, McpSettings

PAGE = """# Title

Intro.

## Goals

- one

```python
# not a heading
```

### Detail

deep

## Risks

none
"""


def test_sections_stop_at_the_next_heading_of_the_same_level() -> None:
    assert [h[2] for h in headings(PAGE)] == ["Title", "Goals", "Detail", "Risks"]
    goals = extract_section(PAGE, "goals")
    assert goals is not None
    assert goals.startswith("## Goals") and "### Detail" in goals and "Risks" not in goals
    assert "# not a heading" in goals
    assert extract_section(PAGE, "## Risks") == "## Risks\n\nnone\n"
    assert extract_section(PAGE, "Budget") is None


def test_defaults() -> None:
    settings = McpSettings.from_config({})
    assert (settings.enabled, settings.path, settings.auth) == (True, "/mcp", "local")
    assert settings.base_url is None and settings.cors_origins == ("*",)
    assert settings.access_token_ttl == 3600 and settings.static_tokens == ()


def test_static_tokens_are_kept_as_digests() -> None:
    settings = McpSettings.from_config(
        {
            "WIKIBOT_MCP_TOKEN": "secret-first-token",
            "WIKIBOT_MCP_TOKENS": json.dumps(
                [{"token": "secret-second-token", "name": "Ann", "email": "ann@example.org"}]
            ),
        }
    )
    first, second = settings.static_tokens
    assert first.digest == hash_token("secret-first-token") and first.author == DEFAULT_TOKEN_AUTHOR
    assert second.author == ("Ann", "ann@example.org")
    assert "secret-" not in repr(settings)
    named = McpSettings.from_config(
        {"WIKIBOT_MCP_TOKEN": "x", "WIKIBOT_MCP_TOKEN_AUTHOR": "Cody Code <cody@example.org>"}
    )
    assert named.static_tokens[0].author == ("Cody Code", "cody@example.org")


@pytest.mark.parametrize(
    "config, complaint",
    [
        ({"WIKIBOT_MCP_AUTH": "magic"}, "WIKIBOT_MCP_AUTH"),
        ({"WIKIBOT_MCP_AUTH": "authkit"}, "WIKIBOT_MCP_AUTHKIT_DOMAIN"),
        ({"WIKIBOT_MCP_AUTH": "tokens"}, "WIKIBOT_MCP_TOKEN"),
        ({"WIKIBOT_MCP_PATH": "mcp"}, "WIKIBOT_MCP_PATH"),
        ({"WIKIBOT_MCP_BASE_URL": "https://wiki.example.org/sub"}, "WIKIBOT_MCP_BASE_URL"),
        ({"WIKIBOT_MCP_TOKENS": "[{}]"}, "WIKIBOT_MCP_TOKENS"),
        ({"WIKIBOT_MCP_TOKEN": "x", "WIKIBOT_MCP_TOKEN_AUTHOR": "nobody"}, "TOKEN_AUTHOR"),
        ({"WIKIBOT_MCP_ENABLED": "maybe"}, "WIKIBOT_MCP_ENABLED"),
        ({"WIKIBOT_MCP_ACCESS_TOKEN_TTL": "5"}, "WIKIBOT_MCP_ACCESS_TOKEN_TTL"),
    ],
)
def test_bad_settings_are_named(config: dict[str, str], complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        McpSettings.from_config(config)


def test_token_identity_becomes_an_author_git_accepts(monkeypatch):
    """A name claim git would refuse (only punctuation) falls back to the email; a token without
    usable claims to the generic MCP author."""
    from fastmcp.server.auth import AccessToken
    from otterwiki_mcp import identity

    def token(claims):
        return AccessToken(token="t", client_id="c", scopes=[], claims=claims)

    cases = [
        ({"sub": "u1", "email": "ann@example.org", "name": "Ann"}, ("Ann", "ann@example.org")),
        ({"sub": "u1", "email": "ann@example.org", "name": "..,"}, ("ann@example.org",) * 2),
        ({"sub": "user_01H"}, ("user_01H", "user_01H")),
        ({"sub": "<>"}, identity.FALLBACK),
    ]
    for claims, author in cases:
        monkeypatch.setattr(identity, "get_access_token", lambda c=claims: token(c))
        assert identity.current_author() == author, claims


def test_glob_patterns_match_in_bounded_time() -> None:
    """`wiki://match/{pattern}`: * and ? stay in a folder, ** spans folders; a pattern of many
    ** (which made the matcher exponential: 55 s for 80 on a 5-part path) answers at once."""
    import time

    import pytest
    from fastmcp.exceptions import ResourceError
    from otterwiki_mcp.resources import glob_match

    assert glob_match("x/sub/d", "x/**/[de]") and glob_match("x/e", "X/**/[de]")
    assert glob_match("x/sub/d", "x/*/d") and not glob_match("x/d", "x/*/d")
    started = time.monotonic()
    assert not glob_match("a/b/c/d/page", "/".join(["**"] * 90) + "/nomatch")
    assert time.monotonic() - started < 0.5
    with pytest.raises(ResourceError, match="longer than"):
        glob_match("a", "*" * 301)
