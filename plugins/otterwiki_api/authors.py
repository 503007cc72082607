"""Git author identities: which (name, email) pairs git accepts as a commit's author."""

from __future__ import annotations

Author = tuple[str, str]  # (name, email) of a commit's author

# What git strips from both ends of an author name; it refuses a name made of nothing else.
_CRUD = "".join(map(chr, range(33))) + ".,:;<>\"\\'"
_FORBIDDEN = "<>\n\r\x00"  # would break the "Name <email>" line of the commit


def acceptable(name: str, email: str) -> bool:
    """True when git commits with this author as given."""
    return bool(name.strip(_CRUD)) and not any(ch in name + email for ch in _FORBIDDEN)


def without_crud(value: str) -> str:
    """What git writes of a name or email: crud stripped from both ends, and the characters that
    delimit the "Name <email>" line dropped (git's `strbuf_addstr_without_crud`)."""
    kept = value.strip(_CRUD)
    return "".join(ch for ch in kept if ch not in "\n<>")
